"""PostgreSQL down or restarting: a clean 503 with Retry-After instead of a 500, and no restart to recover.

A request that cannot reach the database gets 503 `service_unavailable` (JSON under /api/, the 503
page elsewhere) and `Retry-After`. Recovery needs nothing from us: Django marks the connection that
failed (`errors_occurred`), discards it when the request ends (`close_if_unusable_or_obsolete`), and
`conn_health_checks` makes the next request check a reused connection before trusting it, so the
first request after PostgreSQL is back opens a fresh connection.
"""

import logging

from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.loader import get_template

logger = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 5
DETAIL = "The service is briefly unavailable. Please try again in a few seconds."
DATABASE_DOWN = (OperationalError, InterfaceError)


def is_database_down(exc: BaseException) -> bool:
    """Connection-level failures only: an OperationalError raised by a query that reached a live
    server (a lock timeout, a cancelled statement) is still one, but then the retry is just as right."""
    return isinstance(exc, DATABASE_DOWN)


def is_api(request: HttpRequest) -> bool:
    """Whether a request is the API's, which answers every error in JSON (path_info: below any script prefix)."""
    return request.path_info.startswith("/api/")


UNAVAILABLE_HEADERS = {"Retry-After": str(RETRY_AFTER_SECONDS), "Cache-Control": "no-store"}


def unavailable_body() -> dict:
    return {"code": "service_unavailable", "detail": DETAIL}


def unavailable_response(request: HttpRequest) -> HttpResponse:
    if is_api(request):
        response = JsonResponse(unavailable_body(), status=503)
    else:
        # No request context: the context processors (user, messages) would query the database.
        response = HttpResponse(get_template("503.html").render({}), status=503)
    for name, value in UNAVAILABLE_HEADERS.items():
        response[name] = value
    return response


class DatabaseUnavailableMiddleware:
    """Outermost middleware: turns a database connection failure raised by a view into a 503.

    DRF views reach here too: the API exception handler (scheduling.api.errors) answers the same 503
    for the failures it sees.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not is_database_down(exception):
            return None
        logger.error("Database unavailable: %s %s answered 503", request.method, request.path, exc_info=exception)
        return unavailable_response(request)
