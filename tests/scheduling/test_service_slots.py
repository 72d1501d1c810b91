"""Slots of a service: per provider, and the union over its providers (`selectors.service_slots`)."""

from datetime import UTC, date, datetime, time, timedelta

import pytest

from scheduling.availability import Verdict
from scheduling.selectors import (
    first_free_slot,
    nearest_free_slots,
    provider_slots,
    service_slots,
    slot_verdict,
)
from tests.factories import (
    AvailabilityRuleFactory,
    BlockedTimeFactory,
    BookingFactory,
    ProviderFactory,
    ServiceFactory,
    service_of,
)

pytestmark = pytest.mark.django_db

NOW = datetime(2027, 3, 1, tzinfo=UTC)
MONDAY = date(2027, 3, 1)


def utc(hour: int, minute: int = 0, day: date = MONDAY) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=UTC)


def provider_open(start: int, end: int, **fields):
    provider = ProviderFactory(timezone="UTC", **fields)
    AvailabilityRuleFactory(provider=provider, rrule="FREQ=DAILY", start_time=time(start), end_time=time(end))
    return provider


def starts(found) -> list[datetime]:
    return [slot.start for slot in found]


def test_service_slots_are_the_union_over_its_providers_naming_who_is_free():
    morning, afternoon = provider_open(9, 11), provider_open(10, 12)
    service = ServiceFactory(duration_minutes=60, providers=[morning, afternoon])

    found = service_slots(service=service, first=MONDAY, last=MONDAY, viewer_tz=UTC, now=NOW)

    assert [(s.start, s.end, set(s.provider_ids)) for s in found] == [
        (utc(9), utc(10), {morning.pk}),
        (utc(10), utc(11), {morning.pk, afternoon.pk}),
        (utc(11), utc(12), {afternoon.pk}),
    ]


def test_service_slots_leave_out_a_provider_busy_or_blocked_at_a_start():
    busy, blocked = provider_open(9, 11), provider_open(9, 11)
    service = ServiceFactory(duration_minutes=60, providers=[busy, blocked])
    BookingFactory(provider=busy, service=service, start_at=utc(9))
    BlockedTimeFactory(provider=blocked, start_at=utc(10), end_at=utc(10, 30))

    found = service_slots(service=service, first=MONDAY, last=MONDAY, viewer_tz=UTC, now=NOW)

    assert [(s.start, s.provider_ids) for s in found] == [(utc(9), (blocked.pk,)), (utc(10), (busy.pk,))]


def test_service_slots_skip_an_inactive_provider():
    active, inactive = provider_open(9, 10), provider_open(9, 10, is_active=False)
    service = ServiceFactory(duration_minutes=60, providers=[active, inactive])

    found = service_slots(service=service, first=MONDAY, last=MONDAY, viewer_tz=UTC, now=NOW)

    assert [s.provider_ids for s in found] == [(active.pk,)]


def test_a_booking_of_one_service_takes_its_time_from_the_providers_other_services():
    provider = provider_open(9, 12, duration_minutes=30)
    cleaning = ServiceFactory(duration_minutes=60, buffer_after_minutes=30, providers=[provider])
    checkup = service_of(provider)
    BookingFactory(provider=provider, service=cleaning, start_at=utc(9))  # keeps 9:00-10:30 busy

    found = provider_slots(provider=provider, service=checkup, first=MONDAY, last=MONDAY, now=NOW)

    assert starts(found) == [utc(10, 30), utc(11), utc(11, 30)]


def test_service_slots_use_the_services_length_and_step_in_each_providers_zone():
    tokyo = ProviderFactory(timezone="Asia/Tokyo")
    AvailabilityRuleFactory(provider=tokyo, rrule="FREQ=DAILY", start_time=time(9), end_time=time(11))
    service = ServiceFactory(duration_minutes=90, slot_step_minutes=30, providers=[tokyo])

    found = service_slots(service=service, first=MONDAY, last=MONDAY, viewer_tz=tokyo.timezone, now=NOW)

    # 09:00 and 09:30 Tokyo (UTC+9) fit 90 minutes before 11:00; 10:00 does not.
    assert starts(found) == [utc(0, day=MONDAY), utc(0, 30, day=MONDAY)]


@pytest.mark.parametrize("days", [1, 30])
def test_service_slots_take_four_queries_whatever_the_range_and_the_providers(days, django_assert_num_queries):
    providers = [provider_open(8, 18) for _ in range(5)]
    service = ServiceFactory(providers=providers)
    for n, provider in enumerate(providers):
        BookingFactory(provider=provider, service=service, start_at=utc(9 + n))
        BlockedTimeFactory(provider=provider, start_at=utc(15), end_at=utc(16))

    with django_assert_num_queries(4):
        found = service_slots(
            service=service, first=MONDAY, last=MONDAY + timedelta(days=days - 1), viewer_tz=UTC, now=NOW
        )

    assert len({pk for slot in found for pk in slot.provider_ids}) == 5


def test_the_first_free_start_of_any_available_is_the_earliest_one_provider_has():
    early, late = provider_open(9, 10), provider_open(9, 10)
    service = ServiceFactory(duration_minutes=60, providers=[early, late])
    BookingFactory(provider=early, service=service, start_at=utc(9))
    BookingFactory(provider=late, service=service, start_at=utc(9))

    found = first_free_slot(service=service, providers=[early, late], after=NOW, now=NOW)

    assert found.start == utc(9, day=MONDAY + timedelta(days=1))


def test_the_nearest_starts_of_any_available_leave_out_the_one_asked_for():
    first, second = provider_open(9, 12), provider_open(9, 12)
    service = ServiceFactory(duration_minutes=60, providers=[first, second])

    found = nearest_free_slots(service=service, providers=[first, second], around=utc(10), count=2, now=NOW)

    assert starts(found) == [utc(9), utc(11)]


@pytest.mark.parametrize(
    ("taken", "expected"), [(1, Verdict.BOOKABLE), (2, Verdict.BUSY)], ids=["one-free", "all-taken"]
)
def test_any_available_can_book_a_start_while_one_provider_is_free(taken, expected, django_assert_num_queries):
    providers = [provider_open(9, 12), provider_open(9, 12)]
    service = ServiceFactory(duration_minutes=60, providers=providers)
    for provider in providers[:taken]:
        BookingFactory(provider=provider, service=service, start_at=utc(10))

    with django_assert_num_queries(3):
        verdict = slot_verdict(service=service, providers=providers, start=utc(10), now=NOW)

    assert verdict is expected
