"""One exception handler for the whole API: every error is JSON `{"code", "detail", ...}` (docs/architecture.md §6)."""

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404
from rest_framework import exceptions, serializers, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from booking_site.outage import UNAVAILABLE_HEADERS, is_database_down, unavailable_body
from scheduling.errors import DomainError

_CODES = {
    exceptions.ParseError: "malformed_request",
    exceptions.AuthenticationFailed: "authentication_failed",
    exceptions.NotAuthenticated: "not_authenticated",
    exceptions.PermissionDenied: "permission_denied",
    exceptions.NotFound: "not_found",
    exceptions.MethodNotAllowed: "method_not_allowed",
    exceptions.NotAcceptable: "not_acceptable",
    exceptions.UnsupportedMediaType: "unsupported_media_type",
    exceptions.Throttled: "throttled",
}


class ErrorSerializer(serializers.Serializer):
    """The shape of every error response (for the OpenAPI schema)."""

    code = serializers.CharField()
    detail = serializers.CharField()
    fields = serializers.DictField(child=serializers.ListField(child=serializers.CharField()), required=False)


class ConflictSerializer(ErrorSerializer):
    conflicting_booking_id = serializers.IntegerField(
        allow_null=True, required=False, help_text="`slot_unavailable`: the live booking holding the slot."
    )
    rescheduled_to = serializers.IntegerField(
        allow_null=True,
        required=False,
        help_text="`invalid_transition` on a booking already moved: the booking that replaced it.",
    )


def flatten_field_errors(detail, prefix: str = "") -> dict[str, list[str]]:
    """DRF's nested error detail as {"customer.email": ["..."]}."""
    if isinstance(detail, dict):
        flat: dict[str, list[str]] = {}
        for name, value in detail.items():
            key = "non_field_errors" if name == "non_field_errors" and not prefix else f"{prefix}{name}"
            flat.update(flatten_field_errors(value, f"{key}."))
        return flat
    if isinstance(detail, list) and detail and all(isinstance(item, dict) for item in detail):
        flat = {}
        for index, item in enumerate(detail):
            flat.update(flatten_field_errors(item, f"{prefix}{index}."))
        return flat
    messages = detail if isinstance(detail, list) else [detail]
    return {prefix.rstrip("."): [str(m) for m in messages]}


def api_exception_handler(exc, context):
    if is_database_down(exc):  # PostgreSQL down or restarting (booking_site.outage)
        return Response(unavailable_body(), status=503, headers=UNAVAILABLE_HEADERS)
    if isinstance(exc, DomainError):
        return Response(exc.as_dict(), status=exc.http_status)
    if isinstance(exc, exceptions.ValidationError):
        fields = flatten_field_errors(exc.detail)
        first = next(iter(fields.items()), ("", ["Invalid input."]))
        detail = f"{first[0]}: {first[1][0]}" if first[0] and first[0] != "non_field_errors" else first[1][0]
        return Response({"code": "invalid", "detail": detail, "fields": fields}, status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    code = next((c for cls, c in _CODES.items() if isinstance(exc, cls)), "error")
    body = {"code": code, "detail": str(getattr(exc, "detail", exc))}
    if isinstance(exc, exceptions.Throttled) and exc.wait is not None:
        body["retry_after_seconds"] = int(exc.wait)
    response.data = body
    return response
