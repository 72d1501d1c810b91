from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from scheduling import selectors
from scheduling.services import CustomerData, booking_create
from tests.factories import AvailabilityRuleFactory, ProviderFactory, ServiceFactory, service_of


def daily_provider(**fields):
    """Open every day 09:00–17:00 in its own zone (New York unless told), 30-minute slots, no notice."""
    fields.setdefault("timezone", "America/New_York")
    fields.setdefault("max_advance_days", 120)
    provider = ProviderFactory(**fields)
    AvailabilityRuleFactory(provider=provider, rrule="FREQ=DAILY", start_time=time(9), end_time=time(17))
    return provider


def free_start(provider, *, days: int = 3):
    """The first free slot at least `days` ahead."""
    slot = selectors.first_free_slot(
        service=service_of(provider), providers=[provider], after=timezone.now() + timedelta(days=days)
    )
    assert slot is not None
    return slot.start


def opening_start(provider, *, days: int = 3):
    """The first free slot of the provider's local day `days` ahead, or of a later day: the slots after it
    that day are free too, whatever the time of day the test runs at (`free_start` late in the provider's
    afternoon is the day's last slot)."""
    day = (timezone.now() + timedelta(days=days)).astimezone(provider.timezone).date()
    after = datetime.combine(day, time(0), tzinfo=provider.timezone)
    slot = selectors.first_free_slot(service=service_of(provider), providers=[provider], after=after)
    assert slot is not None
    return slot.start


def make_booking(provider, start=None, *, email="ann@example.com", name="Ann", tz="Europe/Paris"):
    start = start or opening_start(provider)
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


def open_daily(provider, start_hour: int, end_hour: int, **fields):
    AvailabilityRuleFactory(
        provider=provider, rrule="FREQ=DAILY", start_time=time(start_hour), end_time=time(end_hour), **fields
    )
    return provider


@pytest.fixture
def ann(db):
    """Open 09:00–12:00 New York time."""
    return open_daily(ProviderFactory(name="Ann Lee", slug="ann", with_service=False), 9, 12)


@pytest.fixture
def bob(db):
    """Open 09:00–17:00 New York time."""
    return open_daily(ProviderFactory(name="Bob Diaz", slug="bob", with_service=False), 9, 17)


@pytest.fixture
def checkup(ann, bob):
    return ServiceFactory(
        name="Check-up", slug="check-up", duration_minutes=30, price="60.00", max_advance_days=120, providers=[ann, bob]
    )


def ny_at(days: int, hour: int, minute: int = 0) -> datetime:
    day = timezone.now().astimezone(ZoneInfo("America/New_York")).date() + timedelta(days=days)
    return datetime.combine(day, time(hour, minute), tzinfo=ZoneInfo("America/New_York")).astimezone(ZoneInfo("UTC"))
