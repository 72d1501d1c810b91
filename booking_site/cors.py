"""CORS for the public booking API only (/api/v1/public/), for the origins in
settings.PUBLIC_API_ALLOWED_ORIGINS: a company's own site calling it from its visitors' browsers.

Exact origins, never `*` and never credentials: the public API reads no cookie, and no other path
(the staff API, the pages) answers any origin. A preflight is answered here, before the view, so that
it costs no throttle count and no database query.
"""

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils.cache import patch_vary_headers

PUBLIC_PREFIX = "/api/v1/public/"
ALLOWED_METHODS = "GET, POST, OPTIONS"
# No Idempotency-Key: the public API keys nothing by it (an anonymous caller has no user to key records
# by), so a browser must not be told it may send one.
ALLOWED_HEADERS = "Accept, Accept-Language, Content-Type"
MAX_AGE = str(60 * 60)


class PublicApiCorsMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not request.path.startswith(PUBLIC_PREFIX):
            return self.get_response(request)
        origin = request.headers.get("Origin", "")
        allowed = origin in settings.PUBLIC_API_ALLOWED_ORIGINS
        if request.method == "OPTIONS" and "Access-Control-Request-Method" in request.headers:
            response = HttpResponse(status=204)
            if allowed:
                response["Access-Control-Allow-Methods"] = ALLOWED_METHODS
                response["Access-Control-Allow-Headers"] = ALLOWED_HEADERS
                response["Access-Control-Max-Age"] = MAX_AGE
        else:
            response = self.get_response(request)
        if allowed:
            response["Access-Control-Allow-Origin"] = origin
            response["Access-Control-Expose-Headers"] = "Retry-After"
        patch_vary_headers(response, ("Origin",))
        return response
