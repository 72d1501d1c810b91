from datetime import time, timedelta

import pytest
from django.utils import timezone

from scheduling import selectors
from scheduling.services import CustomerData, booking_create
from tests.factories import AvailabilityRuleFactory, ProviderFactory


def daily_provider(**fields):
    """Open every day 09:00–17:00 in its own zone (New York unless told), 30-minute slots, no notice."""
    fields.setdefault("timezone", "America/New_York")
    fields.setdefault("max_advance_days", 120)
    provider = ProviderFactory(**fields)
    AvailabilityRuleFactory(provider=provider, rrule="FREQ=DAILY", start_time=time(9), end_time=time(17))
    return provider


def free_start(provider, *, days: int = 3):
    """The first free slot at least `days` ahead."""
    slot = selectors.provider_first_free_slot(provider=provider, after=timezone.now() + timedelta(days=days))
    assert slot is not None
    return slot.start


def make_booking(provider, start=None, *, email="ann@example.com", name="Ann", tz="Europe/Paris"):
    start = start or free_start(provider)
    return booking_create(
        provider_id=provider.pk, start=start, customer=CustomerData(name=name, email=email, timezone=tz)
    )


def iso(value) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")


@pytest.fixture
def provider(db):
    return daily_provider(
        name="Dr. Ada Molar", slug="dentist", price="100.00", late_cancel_fee="25.00", free_cancel_hours=24
    )
