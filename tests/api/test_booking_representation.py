"""BookingSerializer renders by hand for speed; it must say exactly what its declared fields would."""

from datetime import timedelta
from decimal import Decimal

import pytest
from rest_framework import serializers

from scheduling.api.serializers import BookingSerializer
from scheduling.models import Booking, CancelReason
from scheduling.services import CustomerData, booking_cancel, booking_create, booking_reschedule
from tests.scheduling.conftest import future_slot, open_all_day_provider

pytestmark = pytest.mark.django_db


def declared_rendering(booking: Booking) -> dict:
    """What DRF makes of the declared fields, bypassing the hand-written to_representation."""
    return serializers.ModelSerializer.to_representation(BookingSerializer(), booking)


@pytest.fixture
def bookings():
    provider = open_all_day_provider(
        timezone="America/New_York", price=Decimal("40"), late_cancel_fee=Decimal("12.5"), free_cancel_hours=48
    )
    ada = CustomerData(name="Ada", email="ada@example.com", phone="+15551234567", timezone="Asia/Tokyo")
    confirmed = booking_create(provider_id=provider.pk, start=future_slot(days=3), customer=ada, notes="Window seat")
    moved = booking_create(provider_id=provider.pk, start=future_slot(days=4), customer=ada)
    successor = booking_reschedule(booking_id=moved.pk, start=future_slot(days=5))
    late = booking_create(provider_id=provider.pk, start=future_slot(days=1, hour=23), customer=ada)
    booking_cancel(booking_id=late.pk, reason=CancelReason.CUSTOMER)
    pending_provider = open_all_day_provider(requires_confirmation=True, hold_minutes=15)
    pending = booking_create(provider_id=pending_provider.pk, start=future_slot(days=2), customer=ada)
    return [confirmed, moved.pk, successor, late.pk, pending]


def test_the_hand_written_rendering_matches_the_declared_fields(bookings):
    for booking in Booking.objects.filter(pk__in=[b if isinstance(b, int) else b.pk for b in bookings]):
        assert BookingSerializer(booking).data == declared_rendering(booking), booking.status


def test_a_freshly_created_booking_renders_like_a_stored_one(bookings):
    confirmed = bookings[0]
    stored = Booking.objects.get(pk=confirmed.pk)
    assert BookingSerializer(confirmed).data == declared_rendering(stored)


def test_the_rendering_covers_every_declared_field_in_order(bookings):
    assert list(BookingSerializer(bookings[0]).data) == list(BookingSerializer.Meta.fields)


def test_sub_second_times_keep_their_microseconds(bookings):
    booking = Booking.objects.get(pk=bookings[0].pk)
    booking.created_at += timedelta(microseconds=120)
    assert BookingSerializer(booking).data["created_at"] == declared_rendering(booking)["created_at"]
