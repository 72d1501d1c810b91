"""Serializer fields that refuse to guess: naive datetimes and non-IANA zones are errors."""

from zoneinfo import ZoneInfo

from django.utils.dateparse import parse_datetime
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from scheduling.errors import InvalidInput
from scheduling.services.inputs import require_zone


class AwareDateTimeField(serializers.DateTimeField):
    """ISO 8601 with Z or an offset; output in UTC with Z."""

    default_error_messages = {
        "naive": "This time has no UTC offset. Send ISO 8601 with Z or an offset, e.g. 2027-03-15T13:00:00Z.",
        "invalid": "Enter a date and time in ISO 8601, e.g. 2027-03-15T13:00:00Z.",
    }

    def to_internal_value(self, value):
        if not isinstance(value, str):
            self.fail("invalid")
        try:
            parsed = parse_datetime(value.strip())
        except ValueError:
            parsed = None
        if parsed is None:
            self.fail("invalid")
        if parsed.tzinfo is None or parsed.utcoffset() is None:
            self.fail("naive")
        return parsed.astimezone(ZoneInfo("UTC"))


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
