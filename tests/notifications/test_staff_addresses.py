"""Where the provider's staff hear of a booking. A new booking reads the addresses in the provider's
lock read (notifications.selectors.staff_emails_sql, selected by scheduling.selectors.provider_for_booking);
every other change looks them up (`provider_addresses`). Both must give the same recipients."""

import pytest
from django.db import transaction
from django.utils import timezone

from notifications.models import Notification
from notifications.selectors import provider_addresses
from scheduling import selectors
from scheduling.services import CustomerData, booking_create
from tests.factories import ProviderFactory, UserFactory, service_of
from tests.scheduling.conftest import future_slot, open_all_day_provider

pytestmark = pytest.mark.django_db


@pytest.fixture
def provider():
    return open_all_day_provider(slug="staffed")


def staff_of(provider, email: str, **fields):
    user = UserFactory(email=email, **fields)
    provider.staff.add(user)
    return user


def lock_read_addresses(provider) -> list[str]:
    with transaction.atomic():
        bookable = selectors.provider_for_booking(
            provider_id=provider.pk, service=service_of(provider), start=timezone.now()
        )
        return bookable.staff_addresses


STAFF_CASES = {
    "nobody": lambda p: None,
    "one manager": lambda p: staff_of(p, "ana@example.com"),
    "mixed case and padding, twice": lambda p: (
        staff_of(p, "  Ana@Example.com "),
        staff_of(p, "ana@example.COM"),
    ),
    "a deactivated manager": lambda p: staff_of(p, "gone@example.com", is_active=False),
    "a manager without an email": lambda p: (staff_of(p, ""), staff_of(p, "   ")),
    "another provider's manager": lambda p: staff_of(ProviderFactory(), "other@example.com"),
    "several, unsorted": lambda p: [staff_of(p, e) for e in ("zoe@example.com", "Bea@example.com", "max@example.com")],
}


@pytest.mark.parametrize("case", STAFF_CASES)
def test_the_lock_read_finds_the_staff_addresses_the_lookup_finds(provider, case):
    STAFF_CASES[case](provider)

    booking_like = type("B", (), {"provider_id": provider.pk})()
    assert lock_read_addresses(provider) == provider_addresses(booking_like)


def test_a_new_booking_tells_each_staff_address_once(provider):
    staff_of(provider, "Ana@Example.com")
    staff_of(provider, "ana@example.com ")
    staff_of(provider, "ben@example.com")
    staff_of(provider, "off@example.com", is_active=False)

    booking = booking_create(
        start=future_slot(), provider_id=provider.pk, customer=CustomerData(name="Kiko", email="kiko@example.com")
    )

    told = Notification.objects.filter(booking=booking, recipient=Notification.Recipient.PROVIDER)
    assert sorted(told.values_list("address", flat=True)) == ["ana@example.com", "ben@example.com"]
