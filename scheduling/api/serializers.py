"""Input and output shapes of the API. Serializers validate and render; they never save."""

from datetime import UTC, datetime
from decimal import Decimal

from drf_spectacular.utils import extend_schema_serializer
from rest_framework import serializers

from scheduling.api.fields import AwareDateTimeField, BoundedDateField, ClockTimeField, TimeZoneNameField
from scheduling.models import AvailabilityRule, BlockedTime, Booking, CancelReason, Provider

CENTS = Decimal("0.01")


class QueryParamsSerializer(serializers.Serializer):
    """Query parameters: a parameter given with an empty value is an error, not silently ignored."""

    def to_internal_value(self, data):
        blank = {name: ["This parameter may not be empty."] for name in self.fields if data.get(name, None) == ""}
        if blank:
            raise serializers.ValidationError(blank)
        return super().to_internal_value(data)


class OptionalChoiceField(serializers.ChoiceField):
    """A choice stored as "" when unset, shown as null."""

    def to_representation(self, value):
        return super().to_representation(value) if value else None


class ProviderSerializer(serializers.ModelSerializer):
    timezone = TimeZoneNameField()
    reminder_lead_minutes = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=60 * 24 * 60), required=False, max_length=20
    )

    class Meta:
        model = Provider
        fields = [
            "id", "name", "slug", "kind", "timezone", "slot_minutes", "slot_step_minutes", "buffer_before_minutes",
            "buffer_after_minutes", "min_notice_minutes", "max_advance_days", "requires_confirmation",
            "hold_minutes", "reminder_lead_minutes", "free_cancel_hours", "late_cancel_fee", "price", "currency",
            "is_active",
        ]  # fmt: skip
        extra_kwargs = {
            "slot_minutes": {"min_value": 5, "max_value": 24 * 60},
            "slot_step_minutes": {"min_value": 5, "max_value": 24 * 60},
            "buffer_before_minutes": {"max_value": 24 * 60},
            "buffer_after_minutes": {"max_value": 24 * 60},
            "min_notice_minutes": {"max_value": 365 * 24 * 60},
            "max_advance_days": {"min_value": 1, "max_value": 3650},
            "hold_minutes": {"min_value": 1, "max_value": 7 * 24 * 60},
            "free_cancel_hours": {"max_value": 365 * 24},
            "late_cancel_fee": {"min_value": 0},
            "price": {"min_value": 0},
        }


class AvailabilityRuleSerializer(serializers.ModelSerializer):
    start_time = ClockTimeField()
    end_time = ClockTimeField()

    class Meta:
        model = AvailabilityRule
        fields = ["id", "kind", "rrule", "starts_on", "ends_on", "start_time", "end_time", "label"]


class BlockedTimeSerializer(serializers.ModelSerializer):
    start_at = AwareDateTimeField()
    end_at = AwareDateTimeField()

    class Meta:
        model = BlockedTime
        fields = ["id", "start_at", "end_at", "reason", "note"]


class SlotsQuerySerializer(QueryParamsSerializer):
    MAX_DAYS = 62

    start = BoundedDateField(required=False)
    end = BoundedDateField(required=False)
    tz = TimeZoneNameField(required=False)

    def validate(self, attrs):
        start, end = attrs.get("start"), attrs.get("end")
        if start and end:
            if end < start:
                raise serializers.ValidationError({"end": "The end date is before the start date."})
            if (end - start).days + 1 > self.MAX_DAYS:
                raise serializers.ValidationError({"end": f"Ask for at most {self.MAX_DAYS} days at a time."})
        return attrs


class SlotSerializer(serializers.Serializer):
    start = AwareDateTimeField()
    end = AwareDateTimeField()
    local_start = serializers.CharField(help_text="The start in the requested zone, ISO 8601 with its offset.")


class SlotsResponseSerializer(serializers.Serializer):
    provider = serializers.IntegerField()
    timezone = serializers.CharField()
    slots = SlotSerializer(many=True)


# A booking's `customer`, under the names the v1 API has always used, filled from the booking's own
# snapshot (ADR 0009). Only `id` comes from the shared customer record: it is the identity; nothing else
# that record holds (possibly typed for another provider's booking) is ever shown.
@extend_schema_serializer(component_name="Customer")
class BookingContactSerializer(serializers.Serializer):
    """The customer's contact details as given with this booking."""

    id = serializers.IntegerField(source="customer_id", read_only=True)
    name = serializers.CharField(source="customer_name", max_length=200)
    email = serializers.EmailField(source="customer_email", max_length=254)
    phone = serializers.CharField(source="customer_phone", max_length=32, required=False, allow_blank=True)
    timezone = TimeZoneNameField(source="customer_timezone", default="UTC")


class BookingSerializer(serializers.ModelSerializer):
    start = AwareDateTimeField(source="start_at", read_only=True)
    end = AwareDateTimeField(source="end_at", read_only=True)
    customer = BookingContactSerializer(source="*", read_only=True)
    provider_timezone = TimeZoneNameField(read_only=True)
    customer_timezone = TimeZoneNameField(read_only=True)
    hold_expires_at = AwareDateTimeField(read_only=True, allow_null=True)
    free_cancel_until = AwareDateTimeField(read_only=True)
    cancelled_at = AwareDateTimeField(read_only=True, allow_null=True)
    created_at = AwareDateTimeField(read_only=True)
    rescheduled_to = serializers.SerializerMethodField()
    cancel_reason = OptionalChoiceField(choices=CancelReason.choices, allow_null=True, read_only=True)

    class Meta:
        model = Booking
        fields = [
            "id", "reference", "provider", "customer", "start", "end", "status", "hold_expires_at",
            "provider_timezone", "customer_timezone", "price", "currency", "free_cancel_until", "late_cancel_fee",
            "cancel_reason", "cancelled_at", "cancellation_fee", "refund_amount", "rescheduled_from",
            "rescheduled_to", "notes", "created_at",
        ]  # fmt: skip
        read_only_fields = fields

    def get_rescheduled_to(self, booking: Booking) -> int | None:
        try:
            return booking.rescheduled_to.pk
        except Booking.rescheduled_to.RelatedObjectDoesNotExist:
            return None

    def to_representation(self, booking: Booking) -> dict:
        """Written out by hand: the declared fields above give the schema and the field order, but
        building them for every booking cost a third of a booking POST's CPU. A test renders
        bookings both ways and requires the same output (tests/api/test_booking_representation.py)."""
        return {
            "id": booking.pk,
            "reference": booking.reference,
            "provider": booking.provider_id,
            "customer": {
                "id": booking.customer_id,
                "name": booking.customer_name,
                "email": booking.customer_email,
                "phone": booking.customer_phone,
                "timezone": str(booking.customer_timezone),
            },
            "start": _utc(booking.start_at),
            "end": _utc(booking.end_at),
            "status": booking.status,
            "hold_expires_at": _utc(booking.hold_expires_at),
            "provider_timezone": str(booking.provider_timezone),
            "customer_timezone": str(booking.customer_timezone),
            "price": _money(booking.price),
            "currency": booking.currency,
            "free_cancel_until": _utc(booking.free_cancel_until),
            "late_cancel_fee": _money(booking.late_cancel_fee),
            "cancel_reason": booking.cancel_reason or None,
            "cancelled_at": _utc(booking.cancelled_at),
            "cancellation_fee": _money(booking.cancellation_fee),
            "refund_amount": _money(booking.refund_amount),
            "rescheduled_from": booking.rescheduled_from_id,
            "rescheduled_to": self.get_rescheduled_to(booking),
            "notes": booking.notes,
            "created_at": _utc(booking.created_at),
        }


def _utc(moment: datetime | None) -> str | None:
    """As AwareDateTimeField renders it: ISO 8601 in UTC with a Z."""
    if moment is None:
        return None
    text = moment.astimezone(UTC).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def _money(amount: Decimal | None) -> str | None:
    """As DRF renders a model DecimalField with two places: a string such as "40.00"."""
    return None if amount is None else format(Decimal(amount).quantize(CENTS), "f")


class BookingPageSerializer(serializers.Serializer):
    """One page of bookings, as PageNumberPagination renders it."""

    count = serializers.IntegerField()
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = BookingSerializer(many=True)


# The contact details given with a booking, declared by hand: a ModelSerializer derives its fields from
# the model on every instantiation, which was most of a booking POST's input validation. Same schema
# component as a booking's `customer`.
@extend_schema_serializer(component_name="Customer")
class CustomerInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    email = serializers.EmailField(max_length=254)
    phone = serializers.CharField(max_length=32, required=False, allow_blank=True)
    timezone = TimeZoneNameField(default="UTC")


class BookingCreateSerializer(serializers.Serializer):
    provider = serializers.IntegerField(min_value=1)
    start = AwareDateTimeField()
    customer = CustomerInputSerializer()
    notes = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)


class BookingFilterSerializer(QueryParamsSerializer):
    provider = serializers.IntegerField(required=False, min_value=1)
    status = serializers.ChoiceField(choices=Booking._meta.get_field("status").choices, required=False)
    start_after = AwareDateTimeField(required=False)
    start_before = AwareDateTimeField(required=False)
    customer_email = serializers.CharField(required=False, max_length=254)


API_CANCEL_REASONS = [CancelReason.CUSTOMER, CancelReason.PROVIDER, CancelReason.PAYMENT_FAILED]
# Named in SPECTACULAR_SETTINGS["ENUM_NAME_OVERRIDES"]: the schema's enum for a cancel request is these
# three, not every reason a booking can carry (which the booking's `cancel_reason` lists).
API_CANCEL_REASON_CHOICES = [(r.value, r.label) for r in API_CANCEL_REASONS]


class CancelSerializer(serializers.Serializer):
    reason = serializers.ChoiceField(choices=API_CANCEL_REASON_CHOICES)


class RescheduleSerializer(serializers.Serializer):
    start = AwareDateTimeField()
