from datetime import time, timedelta

import pytest
from django.utils import timezone

from tests.factories import AvailabilityRuleFactory, ProviderFactory


def open_all_day_provider(**fields):
    """A provider open every day around the clock, so any future :00/:30 UTC time is on its grid."""
    fields.setdefault("timezone", "UTC")
    provider = ProviderFactory(**fields)
    AvailabilityRuleFactory(provider=provider, rrule="FREQ=DAILY", start_time=time(0), end_time=time(0))
    return provider


def future_slot(*, days: int = 3, hour: int = 10, minute: int = 0):
    """A UTC time `days` ahead at hour:minute, on a 30-minute grid."""
    return (timezone.now() + timedelta(days=days)).replace(hour=hour, minute=minute, second=0, microsecond=0)


@pytest.fixture
def provider(db):
    return open_all_day_provider(price="100.00", late_cancel_fee="25.00", free_cancel_hours=24)
