"""Shapes of the public booking API (scheduling/api/views/public.py): what a company's own booking
widget may send and see, and nothing more.

Every output here is a whitelist written out field by field: no booking id, no customer record id,
no staff notes, no provider staff or calendar feed. A booking is shown only to whoever holds its
manage token, and only with the contact details given with that booking.
"""

from django.conf import settings
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from payments.ledger import awaits_online_payment
from payments.selectors import PAYMENT_STATUSES
from scheduling import manage_links
from scheduling.api.fields import AwareDateTimeField, TimeZoneNameField
from scheduling.api.serializers import _money, _payment, _utc
from scheduling.models import Booking, PaymentMode, Provider, Service


class PublicProviderSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    slug = serializers.CharField()
    # A plain string: the schema already names the provider's kind enum for the staff API.
    kind = serializers.CharField(help_text="As a provider's `kind` in /api/v1/providers/.")
    timezone = TimeZoneNameField()


class PublicServiceSerializer(serializers.Serializer):
    """An active service and the active providers offering it (prefetched as `offered_by`)."""

    id = serializers.IntegerField()
    name = serializers.CharField()
    slug = serializers.CharField()
    description = serializers.CharField()
    duration_minutes = serializers.IntegerField()
    price = serializers.DecimalField(max_digits=10, decimal_places=2, min_value=0)
    currency = serializers.CharField()
    payment_mode = serializers.ChoiceField(choices=PaymentMode.choices)
    requires_confirmation = serializers.BooleanField()
    free_cancel_hours = serializers.IntegerField()
    providers = PublicProviderSerializer(source="offered_by", many=True)


class PublicCustomerInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    email = serializers.EmailField(max_length=254)
    phone = serializers.CharField(max_length=32, required=False, allow_blank=True, default="")
    timezone = TimeZoneNameField(default="UTC")
    language = serializers.ChoiceField(
        choices=[code for code, _name in settings.LANGUAGES],
        required=False,
        help_text="The customer's language, for every message about the booking; default: the site's.",
    )


class PublicBookingCreateSerializer(serializers.Serializer):
    service = serializers.IntegerField(min_value=1, help_text="The service to book (/api/v1/public/services/).")
    provider = serializers.IntegerField(
        min_value=1, required=False, help_text="One of the service's providers; default: any one free at `start`."
    )
    start = AwareDateTimeField(help_text="A slot's `start` (/api/v1/public/services/{id}/slots/).")
    customer = PublicCustomerInputSerializer()
    notes = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)


class PublicCancelSerializer(serializers.Serializer):
    note = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=500, help_text="Why, for the provider (optional)."
    )


class PublicRescheduleSerializer(serializers.Serializer):
    start = AwareDateTimeField(help_text="The new start: a free slot of the same service and provider.")


class PublicPaymentSerializer(serializers.Serializer):
    mode = serializers.ChoiceField(choices=PaymentMode.choices, help_text="The service's payment mode.")
    status = serializers.ChoiceField(choices=PAYMENT_STATUSES)
    amount_due = serializers.DecimalField(max_digits=10, decimal_places=2, min_value=0)
    amount_paid = serializers.DecimalField(max_digits=10, decimal_places=2, min_value=0)
    amount_refunded = serializers.DecimalField(max_digits=10, decimal_places=2, min_value=0)
    currency = serializers.CharField()
    failure_reason = serializers.CharField(allow_null=True)
    checkout_url = serializers.URLField(
        allow_null=True,
        help_text="While the booking waits for an online payment: the customer's manage page, whose "
        '"Pay now" opens the checkout. Send the customer there (or pay with `client_secret`).',
    )
    client_secret = serializers.CharField(
        allow_null=True,
        required=False,
        help_text="For Stripe.js (`confirmCardPayment`), in the answer that makes the booking only.",
    )


class PublicBookingSerializer(serializers.Serializer):
    """A booking as its manage-token holder sees it."""

    reference = serializers.CharField()
    status = serializers.ChoiceField(choices=Booking._meta.get_field("status").choices)
    service = serializers.DictField(help_text="`id` and `name` of the service booked.")
    provider = serializers.DictField(help_text="`id` and `name` of the provider booked.")
    start = AwareDateTimeField()
    end = AwareDateTimeField()
    provider_timezone = TimeZoneNameField()
    customer = serializers.DictField(help_text="`name`, `email`, `phone` and `timezone` as given with the booking.")
    language = serializers.CharField()
    price = serializers.DecimalField(max_digits=10, decimal_places=2, min_value=0)
    currency = serializers.CharField()
    hold_expires_at = AwareDateTimeField(allow_null=True)
    free_cancel_until = AwareDateTimeField()
    late_cancel_fee = serializers.DecimalField(max_digits=10, decimal_places=2, min_value=0)
    cancelled_at = AwareDateTimeField(allow_null=True)
    cancellation_fee = serializers.DecimalField(max_digits=10, decimal_places=2, min_value=0, allow_null=True)
    refund_amount = serializers.DecimalField(max_digits=10, decimal_places=2, min_value=0, allow_null=True)
    manage_token = serializers.CharField(
        help_text="The booking's private token, for /api/v1/public/bookings/{token}/. A reschedule answers "
        "with the new booking's token."
    )
    manage_url = serializers.URLField(help_text="The customer's private manage page (the link in their emails).")
    payment = serializers.SerializerMethodField()

    @extend_schema_field(PublicPaymentSerializer)
    def get_payment(self, booking: Booking) -> dict:
        return self._payment(booking)

    def _payment(self, booking: Booking) -> dict:
        full = _payment(booking, with_secret=bool(self.context.get("with_secret")))
        shown = {name: full[name] for name in PublicPaymentSerializer().fields if name in full}
        shown["checkout_url"] = self._manage_url(booking) if awaits_online_payment(booking=booking) else None
        return shown

    def _token(self, booking: Booking) -> str:
        return getattr(booking, "manage_token", None) or manage_links.token_for(booking)

    def _manage_url(self, booking: Booking) -> str:
        return settings.SITE_URL + manage_links.manage_path(booking, self._token(booking))

    def to_representation(self, booking: Booking) -> dict:
        service: Service = booking.service
        provider: Provider = booking.provider
        return {
            "reference": booking.reference,
            "status": booking.status,
            "service": {"id": service.pk, "name": service.name},
            "provider": {"id": provider.pk, "name": provider.name},
            "start": _utc(booking.start_at),
            "end": _utc(booking.end_at),
            "provider_timezone": str(booking.provider_timezone),
            "customer": {
                "name": booking.customer_name,
                "email": booking.customer_email,
                "phone": booking.customer_phone,
                "timezone": str(booking.customer_timezone),
            },
            "language": booking.language,
            "price": _money(booking.price),
            "currency": booking.currency,
            "hold_expires_at": _utc(booking.hold_expires_at),
            "free_cancel_until": _utc(booking.free_cancel_until),
            "late_cancel_fee": _money(booking.late_cancel_fee),
            "cancelled_at": _utc(booking.cancelled_at),
            "cancellation_fee": _money(booking.cancellation_fee),
            "refund_amount": _money(booking.refund_amount),
            "manage_token": self._token(booking),
            "manage_url": self._manage_url(booking),
            "payment": self._payment(booking),
        }
