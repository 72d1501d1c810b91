"""Shared pieces of the waitlist tests: a provider open one hour a day, so one booking fills a day."""

from datetime import time, timedelta

import pytest
from django.utils import timezone

from scheduling.services import CustomerData, booking_create
from tests.factories import AvailabilityRuleFactory, ProviderFactory, service_of
from waitlist.services import Window, waitlist_join

ANN = CustomerData(name="Ann", email="ann@example.com", timezone="Europe/Berlin")
BEN = CustomerData(name="Ben", email="ben@example.com", timezone="Europe/Berlin")
CAT = CustomerData(name="Cat", email="cat@example.com", timezone="Europe/Berlin")
DAN = CustomerData(name="Dan", email="dan@example.com", timezone="Europe/Berlin")


def one_slot_a_day_provider(**fields):
    """Open 10:00–10:30 UTC every day: one 30-minute slot, so one booking fills the day."""
    fields.setdefault("timezone", "UTC")
    provider = ProviderFactory(**fields)
    AvailabilityRuleFactory(provider=provider, rrule="FREQ=DAILY", start_time=time(10), end_time=time(10, 30))
    return provider


def day_ahead(days: int = 3):
    return (timezone.now() + timedelta(days=days)).replace(hour=10, minute=0, second=0, microsecond=0)


def whole_day(start):
    day = start.replace(hour=0, minute=0)
    return Window(start=day, end=day + timedelta(days=1))


def join(provider, customer, start, **kwargs):
    return waitlist_join(service_id=service_of(provider).pk, customer=customer, window=whole_day(start), **kwargs)


def book(provider, customer, start):
    return booking_create(provider_id=provider.pk, start=start, customer=customer)


@pytest.fixture
def full_day(db):
    """A provider with its one slot three days ahead already booked by Dan."""
    provider = one_slot_a_day_provider()
    start = day_ahead()
    booking = book(provider, DAN, start)
    return provider, start, booking
