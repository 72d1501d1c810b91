"""What a rule may be (validation through the services) and what the worst accepted rules cost to serve."""

import time as clock
from datetime import UTC, date, datetime, time, timedelta

import pytest

from scheduling import availability, recurrence
from scheduling.errors import InvalidInput
from scheduling.selectors import provider_slots
from scheduling.services import availability_rule_create
from tests.factories import AvailabilityRuleFactory, ProviderFactory, service_of

pytestmark = pytest.mark.django_db

NOW = datetime(2027, 3, 1, tzinfo=UTC)


def create(provider, rrule: str, starts_on: date = date(2027, 1, 1), **fields):
    return availability_rule_create(
        provider=provider, rrule=rrule, starts_on=starts_on, start_time=time(9), end_time=time(17), **fields
    )


@pytest.mark.parametrize(
    ("rrule", "starts_on", "field", "message"),
    [
        ("FREQ=DAILY;INTERVAL=0", date(2027, 1, 1), "rrule", "INTERVAL must be 1 or more."),
        ("FREQ=DAILY", date(1899, 12, 31), "starts_on", "The first date must lie between 1900-01-01 and 2200-12-31."),
        ("FREQ=DAILY", date(2201, 1, 1), "starts_on", "The first date must lie between 1900-01-01 and 2200-12-31."),
        ("FREQ=DAILY;COUNT=1001", date(2027, 1, 1), "rrule", "COUNT must be between 1 and 1000."),
        ("FREQ=DAILY;UNTIL=22010101", date(2027, 1, 1), "rrule", "UNTIL must lie between 1900-01-01 and 2200-12-31."),
        (
            "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30",
            date(2027, 1, 1),
            "rrule",
            "This rule has no occurrence in the 10 years from its first date.",
        ),
        (
            "FREQ=DAILY;BYMONTH=2;BYMONTHDAY=29;BYDAY=TU",  # next in 2028, eleven years on
            date(2017, 1, 1),
            "rrule",
            "This rule has no occurrence in the 10 years from its first date.",
        ),
    ],
)
def test_a_rule_that_cannot_be_served_is_refused_naming_its_field(rrule, starts_on, field, message):
    with pytest.raises(InvalidInput) as caught:
        create(ProviderFactory(), rrule, starts_on)
    assert caught.value.fields[field] == [message]


def test_the_worst_rules_validation_accepts_answer_62_days_of_slots_quickly():
    provider = ProviderFactory(timezone="America/New_York", max_advance_days=365, min_notice_minutes=0)
    oldest = date(1900, 1, 1)
    create(provider, "FREQ=DAILY", oldest)
    create(provider, "FREQ=DAILY;BYMONTH=2;BYMONTHDAY=29;BYDAY=MO", oldest)  # every 28 years: 1904 ... 2044
    create(provider, "FREQ=DAILY;COUNT=1000;BYMONTH=2;BYMONTHDAY=29;BYDAY=MO", oldest)  # never reaches 1000
    create(
        provider, "FREQ=DAILY;COUNT=1000;BYYEARDAY=60;BYMONTHDAY=29;BYDAY=MO", oldest
    )  # the same, every month looked at
    create(provider, "FREQ=YEARLY;INTERVAL=7;BYMONTH=2;BYMONTHDAY=29;BYDAY=SA", date(1908, 1, 1))  # 1908, 2104
    create(provider, "FREQ=WEEKLY;INTERVAL=3;BYDAY=MO,TU;BYSETPOS=-1;COUNT=1000", date(2000, 1, 3))
    create(provider, "FREQ=MONTHLY;BYDAY=-1FR;UNTIL=22001231", oldest, kind="closed")
    first = date(2027, 3, 1)
    timings = []
    for _ in range(3):  # the best of three cold calls: one scheduler pause on a loaded machine is not the engine
        for cached in (availability._servable_rule, recurrence.compile_rule, recurrence._period_days):
            cached.cache_clear()
        started = clock.perf_counter()
        found = provider_slots(
            provider=provider, service=service_of(provider), first=first, last=first + timedelta(days=61), now=NOW
        )
        timings.append(clock.perf_counter() - started)
    elapsed = min(timings)
    assert len({s.start.date() for s in found}) >= 58  # open daily; closed on the last Fridays after 09:00
    # About 20 ms here (cold caches); dateutil walked these rules from 1900 and on to 2044 for the next
    # leap-day Monday: about 0.35 s.
    assert elapsed < 0.25


def test_a_rule_stored_with_interval_zero_leaves_the_providers_slots_answering(caplog):
    provider = ProviderFactory(timezone="UTC", max_advance_days=365, min_notice_minutes=0, duration_minutes=60)
    availability._servable_rule.cache_clear()  # the warning is logged once per process and rule
    AvailabilityRuleFactory(provider=provider, rrule="FREQ=DAILY;INTERVAL=0", starts_on=date(2026, 12, 31))
    AvailabilityRuleFactory(provider=provider, rrule="FREQ=DAILY", start_time=time(9), end_time=time(11))
    found = provider_slots(
        provider=provider, service=service_of(provider), first=date(2027, 3, 2), last=date(2027, 3, 2), now=NOW
    )
    assert [s.start.hour for s in found] == [9, 10]
    assert "'FREQ=DAILY;INTERVAL=0' starting 2026-12-31" in caplog.text
