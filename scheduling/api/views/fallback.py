"""JSON answers for what never reaches a DRF view: unknown paths, and errors Django itself handles."""

from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt

# Django's own error handlers under /api/ (booking_site/error_views.py): same shape as the exception handler.
DJANGO_ERRORS = {
    400: ("malformed_request", "The request could not be read."),
    403: ("permission_denied", "You do not have permission to perform this action."),
    404: ("not_found", "No such endpoint or object."),
    500: ("server_error", "Something went wrong on our side. Please try again in a minute."),
}


def json_error(status: int, detail: str | None = None) -> JsonResponse:
    code, default = DJANGO_ERRORS[status]
    return JsonResponse({"code": code, "detail": detail or default}, status=status)


@csrf_exempt  # it changes nothing, and must answer JSON even to a cookie-carrying POST
def api_not_found(request: HttpRequest, *args, **kwargs) -> JsonResponse:
    return json_error(404)
