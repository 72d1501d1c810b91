"""Serializer fields that refuse to guess: naive datetimes, non-IANA zones and out-of-range years are errors."""

from zoneinfo import ZoneInfo

from django.utils.dateparse import parse_datetime
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from scheduling.errors import InvalidInput
from scheduling.services.inputs import OUT_OF_RANGE, in_supported_range, require_zone


def _clean_text(value) -> str | None:
    """The stripped string, or None when it is not printable ASCII (a NUL or other control character
    is never part of a date, and Django's lenient parser would ignore a trailing one)."""
    if not isinstance(value, str):
        return None
    text = value.strip()
    return text if text.isascii() and text.isprintable() else None


# The year bounds in the schema, so that generated clients (and fuzzers) know them.
YEAR_PATTERN = r"^(19[0-9]{2}|2[01][0-9]{2}|2200)-"


@extend_schema_field({"type": "string", "format": "date-time", "pattern": YEAR_PATTERN})
class AwareDateTimeField(serializers.DateTimeField):
    """ISO 8601 with Z or an offset, years 1900 to 2200; output in UTC with Z."""

    default_error_messages = {
        "naive": "This time has no UTC offset. Send ISO 8601 with Z or an offset, e.g. 2027-03-15T13:00:00Z.",
        "invalid": "Enter a date and time in ISO 8601, e.g. 2027-03-15T13:00:00Z.",
        "out_of_range": OUT_OF_RANGE,
    }

    def to_internal_value(self, value):
        text = _clean_text(value)
        if text is None:
            self.fail("invalid")
        try:
            parsed = parse_datetime(text)
        except ValueError:
            parsed = None
        if parsed is None:
            self.fail("invalid")
        if parsed.tzinfo is None or parsed.utcoffset() is None:
            self.fail("naive")
        if not in_supported_range(parsed):
            self.fail("out_of_range")
        return parsed.astimezone(ZoneInfo("UTC"))


@extend_schema_field({"type": "string", "format": "date", "pattern": YEAR_PATTERN})
class BoundedDateField(serializers.DateField):
    """An ISO 8601 date in years 1900 to 2200: far enough for any booking, safe for date arithmetic."""

    default_error_messages = {"out_of_range": OUT_OF_RANGE}

    def to_internal_value(self, value):
        if _clean_text(value) is None and isinstance(value, str):
            self.fail("invalid", format="YYYY-MM-DD")
        day = super().to_internal_value(value)
        if not in_supported_range(day):
            self.fail("out_of_range")
        return day


@extend_schema_field(
    {
        "type": "string",
        "pattern": r"^([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9])?$",
        "example": "09:00",
        "description": "Wall-clock time, HH:MM (HH:MM:SS is accepted too).",
    }
)
class ClockTimeField(serializers.TimeField):
    """A time of day written HH:MM: not `format: time`, which in OpenAPI means RFC 3339 with seconds."""

    def __init__(self, **kwargs):
        super().__init__(format="%H:%M", input_formats=["%H:%M", "%H:%M:%S"], **kwargs)


@extend_schema_field({"type": "string", "example": "Europe/Berlin", "description": "IANA time zone name"})
class TimeZoneNameField(serializers.CharField):
    def to_internal_value(self, data):
        name = super().to_internal_value(data)
        try:
            return require_zone(name, field=self.field_name or "timezone")
        except InvalidInput as exc:
            raise serializers.ValidationError(exc.detail) from exc

    def to_representation(self, value):
        return str(value)
