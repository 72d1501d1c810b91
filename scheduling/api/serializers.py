"""Input and output shapes of the API. Serializers validate and render; they never save."""

from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal

from django.conf import settings
from drf_spectacular.utils import extend_schema_field, extend_schema_serializer
from rest_framework import serializers

from calendars.feed import feed_url
from payments.selectors import PAYMENT_STATUSES, payment_summary
from scheduling import manage_links
from scheduling.api.fields import AwareDateTimeField, BoundedDateField, ClockTimeField, TimeZoneNameField
from scheduling.models import AvailabilityRule, BlockedTime, Booking, CancelReason, PaymentMode, Provider, Service
from scheduling.selectors import DEFAULT_SERVICE_FIRST, providers_for_user

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


# The booking settings API v1 has always shown on a provider, which live on services now: each is
# read from and written to the provider's default service (`selectors.provider_default_service`).
DEPRECATED_PROVIDER_FIELDS = {
    "slot_minutes": "duration_minutes", "slot_step_minutes": "slot_step_minutes",
    "buffer_before_minutes": "buffer_before_minutes", "buffer_after_minutes": "buffer_after_minutes",
    "min_notice_minutes": "min_notice_minutes", "max_advance_days": "max_advance_days",
    "requires_confirmation": "requires_confirmation", "hold_minutes": "hold_minutes",
    "reminder_lead_minutes": "reminder_lead_minutes", "free_cancel_hours": "free_cancel_hours",
    "late_cancel_fee": "late_cancel_fee", "price": "price", "currency": "currency",
}  # fmt: skip
SERVICE_BOUNDS = {
    "duration_minutes": {"min_value": 5, "max_value": 24 * 60},
    "slot_step_minutes": {"min_value": 5, "max_value": 24 * 60},
    "buffer_before_minutes": {"min_value": 0, "max_value": 24 * 60},
    "buffer_after_minutes": {"min_value": 0, "max_value": 24 * 60},
    "min_notice_minutes": {"min_value": 0, "max_value": 365 * 24 * 60},
    "max_advance_days": {"min_value": 1, "max_value": 3650},
    "hold_minutes": {"min_value": 1, "max_value": 7 * 24 * 60},
    "free_cancel_hours": {"min_value": 0, "max_value": 365 * 24},
    "late_cancel_fee": {"min_value": 0},
    "price": {"min_value": 0},
}


def reminder_leads() -> dict:
    """A reminder-leads list field's arguments (a fresh child each time: a child field is bound to one list)."""
    return {"child": serializers.IntegerField(min_value=1, max_value=60 * 24 * 60), "max_length": 20}


class _FromDefaultService:
    """Read from the provider's default service (found once per provider by the serializer)."""

    def get_attribute(self, provider: Provider):
        return getattr(self.parent.default_service(provider), self.source_attrs[-1])


def _default_service_setting(setting: str) -> serializers.Field:
    """A deprecated provider field, typed and bounded as the service's own field: read from the
    provider's default service, written to `validated_data["own_service"][setting]` (what
    `provider_create(own_service=...)` and `provider_update(own_service=...)` take)."""
    service_field = Service._meta.get_field(setting)
    help_text = (
        f"Deprecated: `{setting}` of the provider's default service (the first it offers). "
        "Set it on the service instead: /api/v1/services/."
    )
    kwargs = {"source": f"own_service.{setting}", "required": False, "help_text": help_text}
    if setting == "reminder_lead_minutes":
        field_class, field_kwargs = serializers.ListField, reminder_leads()
    else:
        field_class, field_kwargs = serializers.ModelSerializer().build_standard_field(setting, service_field)
        field_kwargs.pop("required", None)
        field_kwargs.update(SERVICE_BOUNDS.get(setting, {}))
    # A class, not a patched instance: DRF deep-copies declared fields by re-instantiating their class.
    deprecated = type(f"Deprecated{field_class.__name__}", (_FromDefaultService, field_class), {})
    return deprecated(**{**field_kwargs, **kwargs})


@extend_schema_serializer(deprecate_fields=list(DEPRECATED_PROVIDER_FIELDS))
class ProviderSerializer(serializers.ModelSerializer):
    """A provider. Its booking settings are deprecated fields standing for its default service;
    what it offers is `services`."""

    timezone = TimeZoneNameField()
    services = serializers.SerializerMethodField(
        help_text="Ids of the active services this provider offers (/api/v1/services/), by id. Inactive "
        "ones are listed at /api/v1/services/ for the staff who manage them."
    )
    slot_minutes = _default_service_setting("duration_minutes")
    slot_step_minutes = _default_service_setting("slot_step_minutes")
    buffer_before_minutes = _default_service_setting("buffer_before_minutes")
    buffer_after_minutes = _default_service_setting("buffer_after_minutes")
    min_notice_minutes = _default_service_setting("min_notice_minutes")
    max_advance_days = _default_service_setting("max_advance_days")
    requires_confirmation = _default_service_setting("requires_confirmation")
    hold_minutes = _default_service_setting("hold_minutes")
    reminder_lead_minutes = _default_service_setting("reminder_lead_minutes")
    free_cancel_hours = _default_service_setting("free_cancel_hours")
    late_cancel_fee = _default_service_setting("late_cancel_fee")
    price = _default_service_setting("price")
    currency = _default_service_setting("currency")

    calendar_feed_url = serializers.SerializerMethodField(
        help_text="The provider's secret iCal subscription URL (its bookings, for staff's calendar apps): "
        "only for those who manage the provider, null for anyone else. Whoever holds it can read the "
        "bookings; rotate it in the console if it leaks."
    )

    class Meta:
        model = Provider
        fields = [
            "id", "name", "slug", "kind", "timezone", *DEPRECATED_PROVIDER_FIELDS, "is_active", "services",
            "calendar_feed_url",
        ]  # fmt: skip

    @extend_schema_field(serializers.URLField(allow_null=True))
    def get_calendar_feed_url(self, provider: Provider) -> str | None:
        if provider.pk not in self._managed_provider_ids():
            return None  # anonymous readers and other staff see providers, never their feed
        feed = getattr(provider, "calendar_feed", None)  # a reverse one-to-one: absent raises, getattr says None
        return feed_url(feed) if feed is not None else None

    def _managed_provider_ids(self) -> set[int]:
        """The caller's providers, read once per response (a list shares its serializer's context)."""
        if "managed_provider_ids" not in self.context:
            request = self.context.get("request")
            user = getattr(request, "user", None)
            self.context["managed_provider_ids"] = set(providers_for_user(user=user).values_list("pk", flat=True))
        return self.context["managed_provider_ids"]

    def get_services(self, provider: Provider) -> list[int]:
        # Active only: an inactive service's id would be a 404 at /api/v1/services/ for most callers.
        return sorted(service.pk for service in _services_by_id(provider) if service.is_active)

    def default_service(self, provider: Provider) -> Service:
        """The default service, found once per provider. A provider offering nothing shows the
        settings its own service would be made with (a PATCH of one field makes it with the rest
        at these defaults)."""
        found = self.__dict__.setdefault("_default_services", {})
        if provider.pk not in found:
            services = _services_by_id(provider)
            found[provider.pk] = services[0] if services else Service()
        return found[provider.pk]


def _services_by_id(provider: Provider) -> list[Service]:
    """What `scheduling.api.views.providers.with_services` prefetched, else one query."""
    prefetched = getattr(provider, "services_by_id", None)
    if prefetched is not None:
        return prefetched
    return list(provider.services.order_by(*DEFAULT_SERVICE_FIRST)) if provider.pk else []


class ManagedProvidersField(serializers.PrimaryKeyRelatedField):
    """Provider ids a user may set on a service: any for a superuser, else those they manage (an id
    they may not set reads as one that does not exist, as everywhere in the API)."""

    def get_queryset(self):
        user = self.context.get("user")
        if user is None or user.is_superuser:
            return Provider.objects.all()
        return providers_for_user(user=user)


class ServiceSerializer(serializers.ModelSerializer):
    providers = ManagedProvidersField(many=True, required=False, help_text="Ids of the providers offering it.")
    reminder_lead_minutes = serializers.ListField(**reminder_leads(), required=False)

    class Meta:
        model = Service
        fields = [
            "id", "name", "slug", "description", "is_active", "providers", "duration_minutes", "slot_step_minutes",
            "buffer_before_minutes", "buffer_after_minutes", "min_notice_minutes", "max_advance_days",
            "requires_confirmation", "hold_minutes", "reminder_lead_minutes", "free_cancel_hours", "late_cancel_fee",
            "price", "currency", "payment_mode",
        ]  # fmt: skip
        extra_kwargs = SERVICE_BOUNDS


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
    """The date window of a slots request (provider or service)."""

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


class ProviderSlotsQuerySerializer(SlotsQuerySerializer):
    service = serializers.IntegerField(required=False, min_value=1)


class ServiceSlotsQuerySerializer(SlotsQuerySerializer):
    provider = serializers.IntegerField(required=False, min_value=1)


class SlotSerializer(serializers.Serializer):
    start = AwareDateTimeField()
    end = AwareDateTimeField()
    local_start = serializers.CharField(help_text="The start in the requested zone, ISO 8601 with its offset.")
    local_end = serializers.CharField(help_text="The end in the requested zone, ISO 8601 with its offset.")


class SlotsResponseSerializer(serializers.Serializer):
    provider = serializers.IntegerField()
    service = serializers.IntegerField(allow_null=True, help_text="The service the slots are for.")
    timezone = serializers.CharField()
    slots = SlotSerializer(many=True)


class ServiceSlotSerializer(SlotSerializer):
    providers = serializers.ListField(child=serializers.IntegerField(), help_text="Ids of the providers free at it.")
    available = serializers.IntegerField(help_text="How many providers are free at it.")


class ServiceSlotsResponseSerializer(serializers.Serializer):
    service = serializers.IntegerField()
    timezone = serializers.CharField()
    slots = ServiceSlotSerializer(many=True)


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


@extend_schema_serializer(component_name="BookingPayment")
class PaymentSerializer(serializers.Serializer):
    """What the booking owes, has paid and has had refunded (payments.selectors.payment_summary)."""

    mode = serializers.ChoiceField(choices=PaymentMode.choices, help_text="The service's payment mode.")
    status = serializers.ChoiceField(choices=PAYMENT_STATUSES)
    amount_due = serializers.DecimalField(
        max_digits=10, decimal_places=2, min_value=0, help_text="Charges not paid yet (online or at the venue)."
    )
    amount_paid = serializers.DecimalField(max_digits=10, decimal_places=2, min_value=0)
    amount_refunded = serializers.DecimalField(
        max_digits=10, decimal_places=2, min_value=0, help_text="Refunds made or on their way (owed to the gateway)."
    )
    currency = serializers.CharField()
    gateway = serializers.CharField(allow_null=True, help_text="`stripe` or `at_venue`, of the latest charge.")
    reference = serializers.CharField(allow_null=True, help_text="The latest charge's gateway reference.")
    failure_reason = serializers.CharField(allow_null=True)


@extend_schema_serializer(component_name="CreatedBookingPayment")
class CreatedPaymentSerializer(PaymentSerializer):
    client_secret = serializers.CharField(
        allow_null=True,
        help_text="For Stripe.js to pay the charge owed online (`confirmCardPayment`). Only in the answer "
        "that creates the booking (or its replay); hand it to the paying customer alone.",
    )


def _payment(booking: Booking, *, with_secret: bool) -> dict:
    summary = payment_summary(booking)
    rendered = {
        "mode": summary.mode,
        "status": summary.status,
        "amount_due": _money(summary.amount_due),
        "amount_paid": _money(summary.amount_paid),
        "amount_refunded": _money(summary.amount_refunded),
        "currency": summary.currency,
        "gateway": summary.gateway,
        "reference": summary.reference,
        "failure_reason": summary.failure_reason,
    }
    if with_secret:
        rendered["client_secret"] = summary.client_secret
    return rendered


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
    payment = serializers.SerializerMethodField()

    class Meta:
        model = Booking
        fields = [
            "id", "reference", "provider", "service", "customer", "start", "end", "status", "hold_expires_at",
            "provider_timezone", "customer_timezone", "price", "currency", "free_cancel_until", "late_cancel_fee",
            "cancel_reason", "cancelled_at", "cancellation_fee", "refund_amount", "rescheduled_from",
            "rescheduled_to", "notes", "language", "created_at", "payment",
        ]  # fmt: skip
        read_only_fields = fields

    @extend_schema_field(PaymentSerializer)
    def get_payment(self, booking: Booking) -> dict:
        return _payment(booking, with_secret=False)

    def get_rescheduled_to(self, booking: Booking) -> int | None:
        try:
            return booking.rescheduled_to.pk
        except Booking.rescheduled_to.RelatedObjectDoesNotExist:
            return None

    def to_representation(self, booking: Booking) -> dict:
        """Written out by hand: the declared fields above give the schema and the field order, but
        building them for every booking cost 0.8 ms more per body (ADR 0007, item 4). A test renders
        bookings both ways and requires the same output (tests/api/test_booking_representation.py)."""
        return {
            "id": booking.pk,
            "reference": booking.reference,
            "provider": booking.provider_id,
            "service": booking.service_id,
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
            "language": booking.language,
            "created_at": _utc(booking.created_at),
            "payment": self.get_payment(booking),
        }


class BookingCreatedSerializer(BookingSerializer):
    """A booking as its creation or reschedule answers it: with the customer's private manage link."""

    manage_url = serializers.SerializerMethodField(
        help_text="The customer's private manage link (absolute): whoever holds it can see, cancel and "
        "reschedule this booking without signing in. Only in the answer that creates the booking (a "
        "booking or a reschedule); hand it to the customer alone, and never log or share it."
    )

    class Meta(BookingSerializer.Meta):
        fields = [*BookingSerializer.Meta.fields, "manage_url"]
        read_only_fields = fields

    @extend_schema_field(CreatedPaymentSerializer)
    def get_payment(self, booking: Booking) -> dict:
        return _payment(booking, with_secret=True)

    def get_manage_url(self, booking: Booking) -> str:
        return booking_manage_url(booking)

    def to_representation(self, booking: Booking) -> dict:
        return {**super().to_representation(booking), "manage_url": self.get_manage_url(booking)}


def booking_manage_url(booking: Booking) -> str:
    """The token the service made with the booking (`manage_token`), else a new one: the same link."""
    return settings.SITE_URL + manage_links.manage_path(booking, getattr(booking, "manage_token", None))


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
    provider = serializers.IntegerField(
        min_value=1, required=False, help_text="Who; optional with `service` (then any available one is assigned)."
    )
    service = serializers.IntegerField(
        min_value=1, required=False, help_text="What; optional with `provider` when it offers one service only."
    )
    start = AwareDateTimeField()
    customer = CustomerInputSerializer()
    notes = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)
    language = serializers.ChoiceField(
        choices=[code for code, _name in settings.LANGUAGES],
        required=False,
        help_text="The customer's language, for every message about the booking; default: the request's "
        "Accept-Language, else the site's.",
    )

    def to_internal_value(self, data):
        """Neither `service` nor `provider` is reported with the other field errors, not after them."""
        neither = {}
        if isinstance(data, Mapping) and not {"provider", "service"} & data.keys():
            message = "Say which service to book, which provider, or both."
            neither = {"service": [message], "provider": [message]}
        try:
            attrs = super().to_internal_value(data)
        except serializers.ValidationError as exc:
            raise serializers.ValidationError({**neither, **exc.detail}) from exc
        if neither:
            raise serializers.ValidationError(neither)
        return attrs


class BookingFilterSerializer(QueryParamsSerializer):
    provider = serializers.IntegerField(required=False, min_value=1)
    service = serializers.IntegerField(required=False, min_value=1)
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
    service = serializers.IntegerField(
        min_value=1,
        required=False,
        help_text="Move to another service of the same provider and currency (a longer session, say), at its "
        "price and terms; default: the booking's own service.",
    )


class RefundSerializer(serializers.Serializer):
    amount = serializers.DecimalField(
        max_digits=10,
        decimal_places=2,
        min_value=Decimal("0.01"),
        required=False,
        help_text="How much to refund; default: everything paid and not yet refunded. Never more than that.",
    )
