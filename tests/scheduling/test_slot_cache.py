"""The slots cache (scheduling/slot_cache.py) and the triggers that bump Provider.availability_version
(scheduling/migrations/0016_provider_availability_version.py), on the real PostgreSQL and Redis."""

from datetime import UTC, date, datetime, time, timedelta

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from calendars.services import calendar_connection_create, calendar_connection_sync
from scheduling.errors import SlotUnavailable
from scheduling.models import AvailabilityRule, BlockedTime, Booking, BookingStatus, Provider, Service
from scheduling.selectors import provider_slots, service_slots
from scheduling.services import (
    CustomerData,
    booking_cancel,
    booking_create,
    booking_expire_holds,
    booking_reschedule,
    booking_update_notes,
)
from scheduling.services.catalogue import service_update
from scheduling.services.hours import holiday_create
from scheduling.services.providers import provider_update
from tests.calendar_fixtures import fixture_bytes
from tests.factories import AvailabilityRuleFactory, BlockedTimeFactory, BookingFactory, ProviderFactory, service_of

pytestmark = pytest.mark.django_db

ALICE = CustomerData(name="Alice", email="alice@example.com")
DOWN = {"default": {"BACKEND": "booking_site.cache.RedisCache", "LOCATION": "redis://127.0.0.1:1/0"}}


@pytest.fixture
def provider():
    """Open 09:00-17:00 UTC every day, 30-minute slots, no notice."""
    provider = ProviderFactory(timezone="UTC", min_notice_minutes=0)
    AvailabilityRuleFactory(provider=provider, rrule="FREQ=DAILY", start_time=time(9), end_time=time(17))
    return provider


@pytest.fixture
def day() -> date:
    return timezone.now().date() + timedelta(days=3)


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=UTC)


def starts(provider: Provider, day: date, **kwargs) -> list[datetime]:
    """The slot starts on `day`, read as the slots API reads them: the provider row read just before."""
    fresh = Provider.objects.get(pk=provider.pk)
    service = kwargs.pop("service", None) or service_of(fresh)
    found = provider_slots(provider=fresh, service=service, first=day, last=day, provider_is_fresh=True, **kwargs)
    return [slot.start for slot in found]


def version(provider: Provider) -> int:
    return Provider.objects.values_list("availability_version", flat=True).get(pk=provider.pk)


def queries_of(read) -> int:
    with CaptureQueriesContext(connection) as captured:
        read()
    return len(captured)


# --- the cache serves a second read --------------------------------------------------------------


def test_a_second_read_of_the_same_slots_runs_no_query(provider, day):
    provider = Provider.objects.get(pk=provider.pk)
    service = service_of(provider)

    def read():
        return provider_slots(provider=provider, service=service, first=day, last=day, provider_is_fresh=True)

    first = queries_of(read)

    assert first == 3  # rules, live bookings, blocked times
    assert queries_of(read) == 0
    assert read() == provider_slots(provider=provider, service=service, first=day, last=day)


def test_a_provider_not_read_in_this_request_costs_one_query_for_its_version(provider, day):
    service = service_of(provider)
    provider_slots(provider=provider, service=service, first=day, last=day)

    assert queries_of(lambda: provider_slots(provider=provider, service=service, first=day, last=day)) == 1


def test_the_slots_api_reads_the_version_with_the_provider(client, provider, day):
    url = f"/api/v1/providers/{provider.pk}/slots/?start={day}&end={day}"
    with CaptureQueriesContext(connection) as cold:
        first = client.get(url)
    with CaptureQueriesContext(connection) as warm:
        second = client.get(url)

    assert first.status_code == second.status_code == 200
    assert second.json() == first.json()
    assert len(warm) == len(cold) - 3


def test_a_cached_list_is_cut_at_the_time_of_each_read(provider, day, settings):
    service = service_of(provider)
    Service.objects.filter(pk=service.pk).update(min_notice_minutes=90, max_advance_days=3)
    service.refresh_from_db()
    morning, afternoon = at(day, 8), at(day, 13, 10)

    def read(now):
        return provider_slots(provider=provider, service=service, first=day, last=day + timedelta(days=1), now=now)

    read(morning)  # cached before the cut
    cached = [read(now) for now in (morning, afternoon, afternoon - timedelta(days=2, hours=5))]
    settings.SLOTS_CACHE_SECONDS = 0
    computed = [read(now) for now in (morning, afternoon, afternoon - timedelta(days=2, hours=5))]

    assert cached == computed
    assert cached[1][0].start == at(day, 15)  # 13:10 + 90 minutes of notice, the next start on the grid
    assert cached[0][-1].start == at(day + timedelta(days=1), 16, 30)
    assert cached[2][-1].start == at(day, 16, 30)  # the horizon ends the next day at 08:10


def test_service_slots_are_cached_per_provider(day):
    first, second = (ProviderFactory(timezone="UTC", min_notice_minutes=0) for _ in range(2))
    for p in (first, second):
        AvailabilityRuleFactory(provider=p, rrule="FREQ=DAILY", start_time=time(9), end_time=time(11))
    service = service_of(first)
    service.providers.add(second)

    def read():
        return service_slots(service=service, first=day, last=day, viewer_tz=first.timezone)

    before = read()
    BookingFactory(provider=second, service=service, start_at=at(day, 9))
    after = read()

    assert before[0].provider_ids == (first.pk, second.pk)
    assert after[0].provider_ids == (first.pk,)


# --- every change that can alter the slots bumps the version -------------------------------------


def _book(provider, day):
    booking_create(provider_id=provider.pk, start=at(day, 10), customer=ALICE)


def _cancel(provider, day):
    booking_cancel(booking_id=Booking.objects.get(provider=provider).pk)


def _reschedule(provider, day):
    booking_reschedule(booking_id=Booking.objects.get(provider=provider).pk, start=at(day, 12))


def _expire_hold(provider, day):
    Booking.objects.filter(provider=provider).update(hold_expires_at=timezone.now() - timedelta(minutes=1))
    assert booking_expire_holds() == 1


def _add_rule(provider, day):
    holiday_create(provider=provider, day=day)


def _change_rule(provider, day):
    AvailabilityRule.objects.filter(provider=provider).update(start_time=time(11))


def _remove_rule(provider, day):
    AvailabilityRule.objects.filter(provider=provider).delete()


def _block_time(provider, day):
    BlockedTime.objects.create(provider=provider, start_at=at(day, 10), end_at=at(day, 11))


def _change_duration(provider, day):
    service_update(service=service_of(provider), duration_minutes=60)


def _change_timezone(provider, day):
    provider_update(provider=Provider.objects.get(pk=provider.pk), timezone="Asia/Tokyo")


def _unlink_service(provider, day):
    service_of(provider).providers.remove(provider)


CHANGES = {
    "booking created": (None, _book),
    "booking cancelled": (_book, _cancel),
    "booking rescheduled": (_book, _reschedule),
    "hold expired": (
        lambda p, d: BookingFactory(provider=p, start_at=at(d, 10), status=BookingStatus.PENDING),
        _expire_hold,
    ),
    "rule added": (None, _add_rule),
    "rule changed": (None, _change_rule),
    "rule removed": (None, _remove_rule),
    "blocked time": (None, _block_time),
    "service duration changed": (None, _change_duration),
    "provider timezone changed": (None, _change_timezone),
}


@pytest.mark.parametrize("change", CHANGES, ids=list(CHANGES))
def test_a_change_bumps_the_version_and_the_next_read_shows_it(provider, day, change, settings):
    setup, make_change = CHANGES[change]
    if setup:
        setup(provider, day)
    service = service_of(provider)
    cached, before = starts(provider, day, service=service), version(provider)

    make_change(provider, day)
    service.refresh_from_db()
    after = starts(provider, day, service=service)
    settings.SLOTS_CACHE_SECONDS = 0

    assert version(provider) > before
    assert after != cached
    assert after == starts(provider, day, service=service)


def test_removing_a_service_link_bumps_the_version_and_drops_the_provider_from_service_slots(provider, day):
    other = ProviderFactory(timezone="UTC", min_notice_minutes=0)
    AvailabilityRuleFactory(provider=other, rrule="FREQ=DAILY", start_time=time(9), end_time=time(17))
    service = service_of(provider)
    service.providers.add(other)
    before_slots = service_slots(service=service, first=day, last=day, viewer_tz=provider.timezone)
    before = version(provider)

    _unlink_service(provider, day)

    assert version(provider) > before
    after = service_slots(service=service, first=day, last=day, viewer_tz=provider.timezone)
    assert {s.provider_ids for s in before_slots} == {(provider.pk, other.pk)}
    assert {s.provider_ids for s in after} == {(other.pk,)}


def test_a_calendar_import_bumps_the_version_and_the_next_read_shows_it(calendar_server):
    provider = ProviderFactory(timezone="Europe/Berlin", min_notice_minutes=0)
    AvailabilityRuleFactory(provider=provider)  # weekdays 09:00-17:00 Berlin
    calendar_server.body = fixture_bytes("google_export.ics")
    calendar = calendar_connection_create(provider=provider, url=calendar_server.url)
    monday = date(2030, 1, 7)
    cached, before = starts(provider, monday), version(provider)

    calendar_connection_sync(connection_id=calendar.pk)

    assert version(provider) > before
    assert set(cached) - set(starts(provider, monday)) == {
        datetime(2030, 1, 7, 9, tzinfo=UTC),
        datetime(2030, 1, 7, 9, 30, tzinfo=UTC),
    }


def test_a_change_to_a_booking_that_frees_or_takes_no_time_keeps_the_version(provider, day):
    _book(provider, day)
    before = version(provider)

    booking_update_notes(booking_id=Booking.objects.get(provider=provider).pk, notes="Bring the X-rays")

    assert version(provider) == before


def test_a_stale_version_written_back_by_save_never_lowers_the_version(provider, day):
    stale = Provider.objects.get(pk=provider.pk)
    _book(provider, day)
    current = version(provider)

    stale.name = "Renamed"
    stale.save()

    assert version(provider) > current


def test_a_rolled_back_change_leaves_the_version_unchanged(provider, day):
    before = version(provider)

    with pytest.raises(RuntimeError), transaction.atomic():
        BlockedTimeFactory(provider=provider, start_at=at(day, 10), end_at=at(day, 11))
        assert version(provider) != before
        raise RuntimeError

    assert version(provider) == before


# --- what the cache can never do ------------------------------------------------------------------


def test_slots_are_right_with_redis_down(provider, day, settings):
    expected = starts(provider, day)
    settings.CACHES = DOWN

    _book(provider, day)

    assert starts(provider, day) == [s for s in expected if s != at(day, 10)]


def test_a_stale_cached_list_still_cannot_book_a_taken_time_twice(provider, day):
    from django.core.cache import cache

    before = version(provider)
    listed = starts(provider, day)
    _book(provider, day)
    # A cache gone stale (as a missed bump would leave it): the old list under the new version.
    redis = cache._cache.get_client()
    (stale_key,) = redis.keys(f"*slots:1:{provider.pk}:{before}:*")
    redis.rename(stale_key, stale_key.decode().replace(f":{before}:", f":{version(provider)}:", 1))

    assert at(day, 10) in starts(provider, day) == listed
    with pytest.raises(SlotUnavailable):
        booking_create(provider_id=provider.pk, start=at(day, 10), customer=CustomerData(name="Bob", email="b@x.org"))
