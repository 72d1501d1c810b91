"""OpenAPI helpers: every endpoint documents its error bodies."""

from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse

from scheduling.api.errors import ConflictSerializer, ErrorSerializer

_DESCRIPTIONS = {
    400: "Invalid input; field errors under `fields`.",
    401: "Authentication required.",
    403: "Not allowed.",
    404: "Does not exist, or is not yours.",
    405: "Method not allowed.",
    406: "Not acceptable.",
    409: "Conflict: `slot_unavailable` (with `conflicting_booking_id`) or `invalid_transition` (with "
    "`rescheduled_to` when the booking was already moved).",
    415: "Unsupported media type.",
    422: "`Idempotency-Key` reused with a different body.",
    429: "Throttled; see `retry_after_seconds`.",
}
COMMON = (401, 403, 404, 405, 406, 415, 429)


def errors(*codes: int) -> dict:
    wanted = sorted(set(codes) | set(COMMON))
    return {
        code: OpenApiResponse(ConflictSerializer if code == 409 else ErrorSerializer, description=_DESCRIPTIONS[code])
        for code in wanted
    }


IDEMPOTENCY_KEY = OpenApiParameter(
    name="Idempotency-Key",
    type=str,
    location=OpenApiParameter.HEADER,
    required=False,
    description="Any unique string (1-255 characters). A retry with the same key and body replays the first "
    "response and creates nothing; the same key with a different body is a 422. Kept for 24 hours per client.",
)


class DecimalStringExtension(OpenApiSerializerFieldExtension):
    """Every DecimalField's schema: a pattern that needs a digit, and no sign where negatives are refused.

    drf-spectacular writes `^-?\\d{0,8}(?:\\.\\d{0,2})?$`, which matches "" and "-" (strings the field
    refuses) and a "-3.00" that a `min_value=0` field refuses too.
    """

    target_class = "rest_framework.fields.DecimalField"
    match_subclasses = True

    def map_serializer_field(self, auto_schema, direction):
        field = self.target
        whole, places = field.max_whole_digits, field.decimal_places
        sign = "" if field.min_value is not None and field.min_value >= 0 else "-?"
        number = rf"\d{{1,{whole}}}(?:\.\d{{0,{places}}})?|\.\d{{1,{places}}}" if places else rf"\d{{1,{whole}}}"
        return {"type": "string", "format": "decimal", "pattern": f"^{sign}(?:{number})$"}
