"""Where the provider's staff hear of a new booking: each active staff user's email, once, whatever its
case or padding (notifications.selectors.provider_addresses)."""

import pytest

from notifications.models import Notification
from scheduling.services import CustomerData, booking_create
from tests.factories import UserFactory
from tests.scheduling.conftest import future_slot, open_all_day_provider

pytestmark = pytest.mark.django_db


def staff_of(provider, email: str, **fields):
    user = UserFactory(email=email, **fields)
    provider.staff.add(user)
    return user


def test_a_new_booking_tells_each_active_staff_address_once():
    provider = open_all_day_provider(slug="staffed")
    staff_of(provider, "Ana@Example.com")
    staff_of(provider, "ana@example.com ")
    staff_of(provider, "ben@example.com")
    staff_of(provider, "   ")
    staff_of(provider, "off@example.com", is_active=False)

    booking = booking_create(
        start=future_slot(), provider_id=provider.pk, customer=CustomerData(name="Kiko", email="kiko@example.com")
    )

    told = Notification.objects.filter(booking=booking, recipient=Notification.Recipient.PROVIDER)
    assert sorted(told.values_list("address", flat=True)) == ["ana@example.com", "ben@example.com"]
