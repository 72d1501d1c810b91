"""OpenAPI helpers: every endpoint documents its error bodies."""

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse

from scheduling.api.errors import ConflictSerializer, ErrorSerializer

_DESCRIPTIONS = {
    400: "Invalid input; field errors under `fields`.",
    401: "Authentication required.",
    403: "Not allowed.",
    404: "Does not exist, or is not yours.",
    405: "Method not allowed.",
    406: "Not acceptable.",
    409: "Conflict: `slot_unavailable` (with `conflicting_booking_id`) or `invalid_transition`.",
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
