"""Domain errors. The API's exception handler turns each into JSON with its `code` and status."""

from django.core.exceptions import ValidationError


class DomainError(Exception):
    code = "domain_error"
    http_status = 400

    def __init__(self, detail: str, *, field: str | None = None, fields: dict[str, list[str]] | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.fields = dict(fields or {})
        if field:
            self.fields.setdefault(field, [detail])

    def as_dict(self) -> dict:
        body: dict = {"code": self.code, "detail": self.detail}
        if self.fields:
            body["fields"] = self.fields
        return body


class InvalidInput(DomainError):
    """Input that can never succeed as given: a 400 naming the field."""

    code = "invalid"

    @classmethod
    def from_validation_error(cls, exc: "ValidationError") -> "InvalidInput":
        fields = (
            {name: list(messages) for name, messages in exc.message_dict.items()}
            if hasattr(exc, "error_dict")
            else {"non_field_errors": list(exc.messages)}
        )
        first = next(iter(fields.values()))[0]
        return cls(first, fields=fields)


class SlotNotOffered(InvalidInput):
    """The start is off the grid, outside open time, in the past, too soon or beyond the horizon."""

    code = "slot_not_offered"


class SlotUnavailable(DomainError):
    """The slot is on the grid but a live booking holds it (or its buffers)."""

    code = "slot_unavailable"
    http_status = 409

    def __init__(self, detail: str, *, conflicting_booking_id: int | None) -> None:
        super().__init__(detail)
        self.conflicting_booking_id = conflicting_booking_id

    def as_dict(self) -> dict:
        return {**super().as_dict(), "conflicting_booking_id": self.conflicting_booking_id}


class InvalidTransition(DomainError):
    code = "invalid_transition"
    http_status = 409


class BookingMoved(InvalidTransition):
    """The booking was rescheduled: it is cancelled, and `rescheduled_to` names the booking that replaced it.

    Still `invalid_transition` (the code the v1 API documents for this 409); the successor is an added field.
    """

    def __init__(self, detail: str, *, rescheduled_to: int | None) -> None:
        super().__init__(detail)
        self.rescheduled_to = rescheduled_to

    def as_dict(self) -> dict:
        return {**super().as_dict(), "rescheduled_to": self.rescheduled_to}
