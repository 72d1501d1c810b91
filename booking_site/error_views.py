"""Django's error handlers: JSON in the API's error format under /api/, the site's own pages elsewhere.

These answer what no view handled: a SuspiciousOperation or BadRequest (400), a PermissionDenied (403),
an Http404 (404) raised outside a DRF view (middleware, Django's URL resolver), and any uncaught
exception (500). The API never answers in HTML.
"""

import sys

from django.core.exceptions import BadRequest
from django.http import HttpRequest, HttpResponse
from django.views import defaults

from booking_site.outage import is_api, is_database_down, unavailable_response
from scheduling.api.views.fallback import json_error


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    if not is_api(request):
        return defaults.bad_request(request, exception)
    # Our own BadRequest messages say what was wrong; a SuspiciousOperation's may quote the request.
    return json_error(400, str(exception) if type(exception) is BadRequest else None)


def permission_denied(request: HttpRequest, exception: Exception) -> HttpResponse:
    return json_error(403) if is_api(request) else defaults.permission_denied(request, exception)


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    return json_error(404) if is_api(request) else defaults.page_not_found(request, exception)


def server_error(request: HttpRequest) -> HttpResponse:
    # A database failure raised by a middleware (a session save, a lockout check) never reaches
    # DatabaseUnavailableMiddleware.process_exception, which sees views' exceptions only; Django calls
    # this handler inside its except block, so the exception is still at hand.
    if is_database_down(sys.exc_info()[1]):
        return unavailable_response(request)
    # 500.html is rendered without the request or the database, which may be what failed.
    return json_error(500) if is_api(request) else defaults.server_error(request)
