"""The booking list: upcoming live bookings by default, local times with the zone named, badges,
filters, date navigation in the list's zone, search."""

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from scheduling.models import BookingStatus
from tests.factories import BookingFactory, CustomerFactory, ServiceFactory

pytestmark = pytest.mark.django_db


def at(days: int):
    """Distinct future starts, so factory bookings of one provider never overlap."""
    return (timezone.now() + timedelta(days=days)).replace(minute=0, second=0, microsecond=0)


NY = ZoneInfo("America/New_York")
LIST = "/admin/scheduling/booking/"


def test_list_shows_start_and_end_in_the_provider_zone_with_the_zone_named(as_superuser, provider_a):
    BookingFactory(provider=provider_a, start_at=datetime(2031, 7, 1, 13, 0, tzinfo=UTC))
    body = as_superuser.get(LIST).content.decode()
    assert "Tue 01 Jul 2031, 09:00–09:30 EDT (America/New_York)" in body
    assert "13:00Z" not in body and "13:00 UTC" not in body


def test_list_names_the_end_date_when_a_booking_crosses_local_midnight(as_superuser, provider_a):
    start = datetime(2031, 7, 1, 23, 45, tzinfo=NY)
    BookingFactory(provider=provider_a, start_at=start)
    body = as_superuser.get(LIST).content.decode()
    assert "Wed 02 Jul 2031, 00:15 EDT (America/New_York)" in body


def test_list_shows_each_status_as_a_coloured_badge(as_superuser, provider_a):
    BookingFactory(provider=provider_a, status=BookingStatus.PENDING, start_at=at(1))
    BookingFactory(provider=provider_a, status=BookingStatus.CANCELLED, start_at=at(2))
    body = as_superuser.get(f"{LIST}?show=all").content.decode()
    assert '<span class="status-badge status-pending" style="color:#5c4400;background:#ffe8a3' in body
    assert '<span class="status-badge status-cancelled" style="color:#444;background:#e4e4e4' in body


def test_list_filters_by_status(as_superuser, provider_a):
    pending = BookingFactory(provider=provider_a, status=BookingStatus.PENDING, start_at=at(1))
    confirmed = BookingFactory(provider=provider_a, status=BookingStatus.CONFIRMED, start_at=at(2))
    body = as_superuser.get(f"{LIST}?status__exact=pending").content.decode()
    assert pending.reference in body and confirmed.reference not in body


def test_list_filters_by_provider(as_superuser, provider_a, provider_b):
    mine = BookingFactory(provider=provider_a)
    theirs = BookingFactory(provider=provider_b)
    body = as_superuser.get(f"{LIST}?provider__id__exact={provider_a.pk}").content.decode()
    assert mine.reference in body and theirs.reference not in body


def test_date_filter_today_means_today_in_the_provider_zone(as_superuser, provider_a):
    today = timezone.now().astimezone(NY).date()
    late_evening = BookingFactory(provider=provider_a, start_at=datetime.combine(today, time(21), tzinfo=NY))
    tomorrow = BookingFactory(provider=provider_a, start_at=datetime.combine(today + timedelta(1), time(9), tzinfo=NY))
    body = as_superuser.get(f"{LIST}?when=today").content.decode()
    # 21:00 in New York is already tomorrow in UTC; the list still counts it as today.
    assert late_evening.reference in body and tomorrow.reference not in body


def test_date_filter_upcoming_and_past(as_superuser, provider_a):
    past = BookingFactory(provider=provider_a, start_at=timezone.now() - timedelta(days=2))
    future = BookingFactory(provider=provider_a, start_at=timezone.now() + timedelta(days=2))
    upcoming = as_superuser.get(f"{LIST}?when=upcoming").content.decode()
    earlier = as_superuser.get(f"{LIST}?when=past").content.decode()
    assert future.reference in upcoming and past.reference not in upcoming
    assert past.reference in earlier and future.reference not in earlier


def test_date_navigation_uses_the_provider_zone_days(as_superuser, provider_a):
    evening = BookingFactory(provider=provider_a, start_at=datetime(2031, 7, 1, 21, 0, tzinfo=NY))  # 01:00Z on the 2nd
    day_one = as_superuser.get(f"{LIST}?date=2031-07-01").content.decode()
    day_two = as_superuser.get(f"{LIST}?date=2031-07-02").content.decode()
    assert evening.reference in day_one and evening.reference not in day_two


def test_list_says_which_zone_its_days_are_in(as_superuser, provider_a):
    body = as_superuser.get(LIST).content.decode()
    assert "use days in <strong>America/New_York</strong>" in body


def test_list_falls_back_to_utc_days_when_providers_span_zones_and_says_so(as_superuser, provider_a, provider_b):
    body = as_superuser.get(LIST).content.decode()
    assert "use days in <strong>UTC</strong> (your providers are in" in body
    filtered = as_superuser.get(f"{LIST}?provider__id__exact={provider_b.pk}").content.decode()
    assert "use days in <strong>Europe/Berlin</strong>" in filtered


def test_list_searches_by_customer_name(as_superuser, provider_a):
    hit = BookingFactory(provider=provider_a, customer=CustomerFactory(name="Zelda Fitzgerald"), start_at=at(1))
    miss = BookingFactory(provider=provider_a, start_at=at(2))
    body = as_superuser.get(f"{LIST}?q=zelda").content.decode()
    assert hit.reference in body and miss.reference not in body


def test_list_searches_by_customer_email(as_superuser, provider_a):
    hit = BookingFactory(provider=provider_a, customer=CustomerFactory(email="jazz.age@example.org"), start_at=at(1))
    miss = BookingFactory(provider=provider_a, start_at=at(2))
    body = as_superuser.get(f"{LIST}?q=jazz.age@example.org").content.decode()
    assert hit.reference in body and miss.reference not in body


def test_list_searches_by_reference(as_superuser, provider_a):
    hit = BookingFactory(provider=provider_a, start_at=at(1))
    miss = BookingFactory(provider=provider_a, start_at=at(2))
    body = as_superuser.get(f"{LIST}?q={hit.reference}").content.decode()
    assert hit.reference in body and miss.reference not in body


def test_list_offers_the_four_transition_actions_and_no_delete(as_superuser, provider_a):
    BookingFactory(provider=provider_a, status=BookingStatus.PENDING)
    BookingFactory(provider=provider_a, start_at=timezone.now() - timedelta(minutes=10))  # started: complete is legal
    body = as_superuser.get(LIST).content.decode()
    for action in ("confirm_selected", "cancel_selected", "complete_selected", "mark_no_show_selected"):
        assert f'value="{action}"' in body
    assert 'value="delete_selected"' not in body


def test_list_checkbox_labels_name_bookings_in_local_time(as_superuser, provider_a):
    booking = BookingFactory(provider=provider_a, start_at=datetime(2031, 7, 1, 13, 0, tzinfo=UTC))
    body = as_superuser.get(LIST).content.decode()
    assert f"Select this object for an action - {booking.reference} · Tue 01 Jul 2031, 09:00 EDT" in body


def test_list_shows_and_filters_by_the_service(as_superuser, provider_a):
    cleaning = ServiceFactory(name="Cleaning", providers=[provider_a])
    BookingFactory(provider=provider_a, service=cleaning, customer=CustomerFactory(name="Cleaned"), start_at=at(2))
    BookingFactory(provider=provider_a, customer=CustomerFactory(name="Checked"), start_at=at(3))
    body = as_superuser.get(f"/admin/scheduling/booking/?service__id__exact={cleaning.pk}").content.decode()
    assert '<td class="field-service nowrap">Cleaning</td>' in body
    assert "Cleaned" in body and "Checked" not in body


def test_list_defaults_to_upcoming_live_bookings_soonest_first(as_superuser, provider_a):
    later = BookingFactory(provider=provider_a, status=BookingStatus.CONFIRMED, start_at=at(3))
    sooner = BookingFactory(provider=provider_a, status=BookingStatus.PENDING, start_at=at(1))
    cancelled = BookingFactory(provider=provider_a, status=BookingStatus.CANCELLED, start_at=at(2))
    past = BookingFactory(provider=provider_a, status=BookingStatus.CONFIRMED, start_at=at(-2))
    body = as_superuser.get(LIST).content.decode()
    assert sooner.reference in body and later.reference in body
    assert body.index(sooner.reference) < body.index(later.reference)
    assert cancelled.reference not in body and past.reference not in body


def test_a_booking_under_way_is_still_upcoming(as_superuser, provider_a):
    now = timezone.now()
    running = BookingFactory(
        provider=provider_a, start_at=now - timedelta(minutes=10), end_at=now + timedelta(minutes=20)
    )
    assert running.reference in as_superuser.get(LIST).content.decode()


def test_tabs_show_past_cancelled_and_all_bookings(as_superuser, provider_a):
    future = BookingFactory(provider=provider_a, status=BookingStatus.CONFIRMED, start_at=at(2))
    cancelled = BookingFactory(provider=provider_a, status=BookingStatus.CANCELLED, start_at=at(3))
    older = BookingFactory(provider=provider_a, status=BookingStatus.COMPLETED, start_at=at(-5))
    old = BookingFactory(provider=provider_a, status=BookingStatus.COMPLETED, start_at=at(-2))
    body = as_superuser.get(LIST).content.decode()
    for label in ("Upcoming (pending and confirmed)", "Past", "Cancelled", "All"):
        assert f">{label}</a>" in body
    past = as_superuser.get(f"{LIST}?show=past").content.decode()
    assert old.reference in past and future.reference not in past and cancelled.reference not in past
    assert past.index(old.reference) < past.index(older.reference)  # latest first
    only_cancelled = as_superuser.get(f"{LIST}?show=cancelled").content.decode()
    assert cancelled.reference in only_cancelled and future.reference not in only_cancelled
    everything = as_superuser.get(f"{LIST}?show=all").content.decode()
    assert all(b.reference in everything for b in (future, cancelled, old))


def test_a_search_looks_through_every_booking_not_only_upcoming_ones(as_superuser, provider_a):
    past = BookingFactory(provider=provider_a, customer=CustomerFactory(name="Zelda Fitzgerald"), start_at=at(-3))
    assert past.reference in as_superuser.get(f"{LIST}?q=zelda").content.decode()


def test_status_shows_before_customer_service_and_provider_columns(as_superuser, provider_a):
    BookingFactory(provider=provider_a, start_at=at(1))
    body = as_superuser.get(LIST).content.decode()
    columns = ["column-when", "column-status_badge", "column-customer_name", "column-service", "column-provider"]
    positions = [body.index(c) for c in columns]
    assert positions == sorted(positions)
    assert "column-ends" not in body  # start and end share one column


def test_date_navigation_moves_a_day_or_a_week_and_jumps_to_a_date(as_superuser, provider_a):
    body = as_superuser.get(f"{LIST}?date=2031-07-02&provider__id__exact={provider_a.pk}").content.decode()
    assert "Showing <strong>Wed 02 Jul 2031</strong>" in body
    assert "date=2031-07-01&amp;span=day" in body and "date=2031-07-03&amp;span=day" in body
    assert 'name="date" value="2031-07-02"' in body  # the jump form
    assert f'type="hidden" name="provider__id__exact" value="{provider_a.pk}"' in body  # keeps the other filters
    week = as_superuser.get(f"{LIST}?date=2031-07-02&span=week").content.decode()
    assert "Showing <strong>Mon 30 Jun 2031 – Sun 06 Jul 2031</strong>" in week
    assert "date=2031-06-23&amp;span=week" in week and "date=2031-07-07&amp;span=week" in week


def test_week_navigation_lists_that_weeks_bookings_in_time_order(as_superuser, provider_a):
    sunday_night = BookingFactory(provider=provider_a, start_at=datetime(2031, 7, 6, 22, 0, tzinfo=NY))  # Mon in UTC
    monday = BookingFactory(provider=provider_a, start_at=datetime(2031, 6, 30, 9, 0, tzinfo=NY))
    next_monday = BookingFactory(provider=provider_a, start_at=datetime(2031, 7, 7, 9, 0, tzinfo=NY))
    body = as_superuser.get(f"{LIST}?date=2031-07-03&span=week").content.decode()
    assert monday.reference in body and sunday_night.reference in body and next_monday.reference not in body
    assert body.index(monday.reference) < body.index(sunday_night.reference)


def test_date_navigation_today_is_today_in_the_provider_zone(as_superuser, provider_a):
    today = timezone.now().astimezone(NY).date()
    body = as_superuser.get(LIST).content.decode()
    assert f"date={today}&amp;span=day" in body
