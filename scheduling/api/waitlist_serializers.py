"""Input and output shapes of the waitlist endpoints (scheduling/api/views/waitlist.py)."""

from django.conf import settings
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from scheduling.api.fields import AwareDateTimeField, ClockTimeField
from scheduling.api.serializers import BookingContactSerializer, CustomerInputSerializer, QueryParamsSerializer
from waitlist.models import EntryStatus, WaitlistEntry
from waitlist.selectors_api import line_position


class WaitlistJoinSerializer(serializers.Serializer):
    service = serializers.IntegerField(min_value=1, help_text="The service wanted.")
    provider = serializers.IntegerField(
        min_value=1, required=False, help_text="Only this provider of the service; default: any of them."
    )
    window_start = AwareDateTimeField(help_text="From when a time would do (a start in the past counts from now).")
    window_end = AwareDateTimeField(help_text="Until when; at most 92 days after `window_start`.")
    day_start = ClockTimeField(
        required=False, help_text="Only times starting from this wall-clock time each day, in `customer.timezone`."
    )
    day_end = ClockTimeField(
        required=False, help_text="...and ending by this one (with `day_start`, after it; never across midnight)."
    )
    customer = CustomerInputSerializer()
    language = serializers.ChoiceField(
        choices=[code for code, _name in settings.LANGUAGES],
        required=False,
        help_text="The customer's language, for every message about the entry; default: the request's "
        "Accept-Language, else the site's.",
    )


class WaitlistOfferSerializer(serializers.Serializer):
    booking = serializers.IntegerField(help_text="The pending booking held for the customer.")
    expires_at = AwareDateTimeField(help_text="When the hold lapses and the time goes to the next in line.")


class WaitlistEntrySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    status = serializers.ChoiceField(choices=EntryStatus.choices)
    position = serializers.SerializerMethodField(
        help_text="Place in the service's line: 1 + the waiting entries ahead of it; null when not waiting.",
    )
    service = serializers.IntegerField(source="service_id")
    provider = serializers.IntegerField(source="provider_id", allow_null=True)
    window_start = AwareDateTimeField()
    window_end = AwareDateTimeField()
    day_start = ClockTimeField(allow_null=True)
    day_end = ClockTimeField(allow_null=True)
    customer = BookingContactSerializer(source="*")
    created_at = AwareDateTimeField(help_text="When the customer joined: the order of the line.")
    offer = serializers.SerializerMethodField(help_text="The live offer, while the entry is `offered`.")

    def get_position(self, entry: WaitlistEntry) -> int | None:
        return line_position(entry)

    @extend_schema_field(WaitlistOfferSerializer(allow_null=True))
    def get_offer(self, entry: WaitlistEntry) -> dict | None:
        if entry.status != EntryStatus.OFFERED:
            return None
        return WaitlistOfferSerializer({"booking": entry.offer_booking_id, "expires_at": entry.offer_expires_at}).data


class WaitlistAcceptedSerializer(WaitlistEntrySerializer):
    booking = serializers.IntegerField(
        source="offer_booking_id",
        help_text="The booking taken: confirmed, or for a service paid online still pending until paid "
        "within the offer (`offer.expires_at`).",
    )


class WaitlistFilterSerializer(QueryParamsSerializer):
    service = serializers.IntegerField(required=False, min_value=1)
    provider = serializers.IntegerField(required=False, min_value=1)
    status = serializers.ChoiceField(choices=EntryStatus.choices, required=False)
