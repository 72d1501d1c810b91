"""Day and week agenda per provider: bookings and blocked times in local time, links, navigation."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from scheduling.models import BookingStatus
from tests.factories import BlockedTimeFactory, BookingFactory, CustomerFactory, ServiceFactory

pytestmark = pytest.mark.django_db

NY = ZoneInfo("America/New_York")


def day_view(provider, day=None):
    return f"/admin/scheduling/provider/{provider.pk}/agenda/day/" + (f"?date={day}" if day else "")


def week_view(provider, day=None):
    return f"/admin/scheduling/provider/{provider.pk}/agenda/week/" + (f"?date={day}" if day else "")


def test_day_agenda_lists_bookings_and_blocked_times_in_local_time_with_links(as_superuser, provider_a):
    booking = BookingFactory(
        provider=provider_a, customer=CustomerFactory(name="Ann"), start_at=datetime(2031, 7, 1, 13, 0, tzinfo=UTC)
    )
    blocked = BlockedTimeFactory(
        provider=provider_a, start_at=datetime(2031, 7, 1, 12, tzinfo=NY), end_at=datetime(2031, 7, 1, 13, tzinfo=NY),
        reason="break", note="lunch",
    )  # fmt: skip
    body = as_superuser.get(day_view(provider_a, "2031-07-01")).content.decode()
    assert "09:00 EDT – 09:30 EDT" in body and "12:00 EDT – 13:00 EDT" in body
    assert f'href="/admin/scheduling/booking/{booking.pk}/change/">Ann · Alpha Dental · {booking.reference}</a>' in body
    assert f'href="/admin/scheduling/blockedtime/{blocked.pk}/change/">Blocked: Break · lunch</a>' in body
    assert body.index("09:00 EDT") < body.index("12:00 EDT")
    assert "13:00 UTC" not in body and "13:00Z" not in body


def test_agenda_names_its_zone(as_superuser, provider_a):
    body = as_superuser.get(day_view(provider_a, "2031-07-01")).content.decode()
    assert "All times in <strong>America/New_York</strong> (EDT)" in body


def test_day_agenda_uses_the_provider_local_day_not_the_utc_day(as_superuser, provider_a):
    evening = BookingFactory(provider=provider_a, start_at=datetime(2031, 7, 1, 21, 0, tzinfo=NY))  # 01:00Z on the 2nd
    assert evening.reference in as_superuser.get(day_view(provider_a, "2031-07-01")).content.decode()
    assert evening.reference not in as_superuser.get(day_view(provider_a, "2031-07-02")).content.decode()


def test_day_agenda_shows_a_booking_in_the_repeated_hour_with_its_own_offset(as_superuser, provider_a):
    # 2031-11-02 01:30 happens twice in New York; 06:30Z is the second time (EST).
    BookingFactory(provider=provider_a, start_at=datetime(2031, 11, 2, 6, 30, tzinfo=UTC))
    body = as_superuser.get(day_view(provider_a, "2031-11-02")).content.decode()
    assert "01:30 EST – 02:00 EST" in body


def test_week_agenda_shows_monday_to_sunday_around_the_date(as_superuser, provider_a):
    monday = BookingFactory(provider=provider_a, start_at=datetime(2031, 6, 30, 10, tzinfo=NY))
    sunday = BookingFactory(provider=provider_a, start_at=datetime(2031, 7, 6, 10, tzinfo=NY))
    next_monday = BookingFactory(provider=provider_a, start_at=datetime(2031, 7, 7, 10, tzinfo=NY))
    body = as_superuser.get(week_view(provider_a, "2031-07-02")).content.decode()
    days = [f'data-date="2031-0{m}-{d:02d}"' for m, d in [(6, 30), (7, 1), (7, 2), (7, 3), (7, 4), (7, 5), (7, 6)]]
    assert all(day in body for day in days) and body.count('class="module agenda-day"') == 7
    assert monday.reference in body and sunday.reference in body and next_monday.reference not in body


def test_week_agenda_links_each_day_to_its_day_view(as_superuser, provider_a):
    body = as_superuser.get(week_view(provider_a, "2031-07-02")).content.decode()
    assert f'href="/admin/scheduling/provider/{provider_a.pk}/agenda/day/?date=2031-07-04"' in body


def test_day_agenda_navigates_a_day_at_a_time(as_superuser, provider_a):
    body = as_superuser.get(day_view(provider_a, "2031-07-01")).content.decode()
    assert f'href="{day_view(provider_a, "2031-06-30")}" rel="prev"' in body
    assert f'href="{day_view(provider_a, "2031-07-02")}" rel="next"' in body
    assert f'href="{week_view(provider_a, "2031-07-01")}">Week' in body


def test_week_agenda_navigates_a_week_at_a_time(as_superuser, provider_a):
    body = as_superuser.get(week_view(provider_a, "2031-07-02")).content.decode()
    assert f'href="{week_view(provider_a, "2031-06-25")}" rel="prev"' in body
    assert f'href="{week_view(provider_a, "2031-07-09")}" rel="next"' in body


def test_agenda_opens_on_today_in_the_provider_zone(as_superuser, provider_a):
    today = timezone.now().astimezone(NY).date()
    body = as_superuser.get(day_view(provider_a)).content.decode()
    assert f'data-date="{today}"' in body


def test_agenda_with_a_malformed_date_falls_back_to_today(as_superuser, provider_a):
    response = as_superuser.get(day_view(provider_a, "not-a-date"))
    assert response.status_code == 200
    assert f'data-date="{timezone.now().astimezone(NY).date()}"' in response.content.decode()


def test_agenda_shows_cancelled_bookings_dimmed_with_their_badge(as_superuser, provider_a):
    BookingFactory(provider=provider_a, status=BookingStatus.CANCELLED, start_at=datetime(2031, 7, 1, 10, tzinfo=NY))
    body = as_superuser.get(day_view(provider_a, "2031-07-01")).content.decode()
    assert 'class="agenda-item booking dimmed"' in body and "status-cancelled" in body


def test_a_blocked_time_over_several_days_shows_on_each_with_its_dates(as_superuser, provider_a):
    BlockedTimeFactory(
        provider=provider_a, start_at=datetime(2031, 7, 1, 18, tzinfo=NY), end_at=datetime(2031, 7, 3, 9, tzinfo=NY),
        reason="vacation",
    )  # fmt: skip
    body = as_superuser.get(week_view(provider_a, "2031-07-01")).content.decode()
    assert body.count("Blocked: Vacation</a>") == 3  # in the list under the grid
    assert "18:00 EDT – Thu 03 Jul 09:00 EDT" in body
    assert "Tue 01 Jul 18:00 EDT – Thu 03 Jul 09:00 EDT" in body


def test_agenda_links_a_new_booking_on_that_day(as_superuser, provider_a):
    body = as_superuser.get(day_view(provider_a, "2031-07-01")).content.decode()
    assert f"/admin/scheduling/booking/add/?provider={provider_a.pk}&amp;date=2031-07-01" in body


def test_agenda_of_a_provider_that_is_not_yours_is_404(as_staff_b, provider_a):
    assert as_staff_b.get(day_view(provider_a)).status_code == 404
    assert as_staff_b.get(week_view(provider_a)).status_code == 404


def test_staff_see_the_agenda_of_their_provider(as_staff_a, provider_a):
    assert as_staff_a.get(week_view(provider_a, "2031-07-01")).status_code == 200


def test_agenda_bookings_outside_the_span_are_left_out(as_superuser, provider_a):
    later = BookingFactory(provider=provider_a, start_at=datetime(2031, 7, 1, 10, tzinfo=NY) + timedelta(days=1))
    assert later.reference not in as_superuser.get(day_view(provider_a, "2031-07-01")).content.decode()


def test_day_and_week_agendas_name_each_booking_s_service(as_superuser, provider_a):
    cleaning = ServiceFactory(name="Cleaning", providers=[provider_a])
    booking = BookingFactory(
        provider=provider_a,
        service=cleaning,
        customer=CustomerFactory(name="Ann"),
        start_at=datetime(2031, 7, 1, 13, 0, tzinfo=UTC),
    )
    for url in (day_view(provider_a, "2031-07-01"), week_view(provider_a, "2031-07-01")):
        body = as_superuser.get(url).content.decode()
        assert f">Ann · Cleaning · {booking.reference}</a>" in body


def nine_to_five(provider_a):
    from datetime import time

    from tests.factories import AvailabilityRuleFactory

    provider_a.rules.all().delete()
    AvailabilityRuleFactory(provider=provider_a, rrule="FREQ=DAILY", start_time=time(9), end_time=time(17))


def test_day_agenda_draws_a_time_grid_with_bookings_as_blocks_of_their_length(as_superuser, provider_a):
    nine_to_five(provider_a)
    booking = BookingFactory(provider=provider_a, start_at=datetime(2031, 7, 1, 10, tzinfo=NY))  # 30 minutes
    body = as_superuser.get(day_view(provider_a, "2031-07-01")).content.decode()
    assert '<span class="agenda-hour" style="top:0px;height:0px">08:00</span>' in body  # hours down the side
    assert '<span class="agenda-hour" style="top:432px;height:0px">17:00</span>' in body
    # 10:00 is two hours below the 08:00 top (96 px); 30 minutes are 24 px.
    assert f'href="/admin/scheduling/booking/{booking.pk}/change/" style="top:96px;height:24px"' in body


def test_day_agenda_shades_opening_hours_and_labels_the_free_gaps(as_superuser, provider_a):
    nine_to_five(provider_a)
    BookingFactory(provider=provider_a, start_at=datetime(2031, 7, 1, 10, tzinfo=NY))
    BlockedTimeFactory(
        provider=provider_a, start_at=datetime(2031, 7, 1, 12, tzinfo=NY), end_at=datetime(2031, 7, 1, 13, tzinfo=NY)
    )
    body = as_superuser.get(day_view(provider_a, "2031-07-01")).content.decode()
    assert '<div class="agenda-open" style="top:48px;height:384px"></div>' in body  # 09:00-17:00
    for gap in ("09:00 EDT–10:00 EDT", "10:30 EDT–12:00 EDT", "13:00 EDT–17:00 EDT"):
        assert f"Free {gap}" in body
    assert body.count('class="agenda-free"') == 3


def test_a_cancelled_booking_leaves_its_time_free_in_the_grid(as_superuser, provider_a):
    nine_to_five(provider_a)
    BookingFactory(provider=provider_a, status=BookingStatus.CANCELLED, start_at=datetime(2031, 7, 1, 10, tzinfo=NY))
    body = as_superuser.get(day_view(provider_a, "2031-07-01")).content.decode()
    assert "Free 09:00 EDT–17:00 EDT" in body and 'class="agenda-block booking dimmed"' in body


def test_week_agenda_draws_seven_columns_in_a_box_that_scrolls_on_its_own(as_superuser, provider_a):
    nine_to_five(provider_a)
    body = as_superuser.get(week_view(provider_a, "2031-07-01")).content.decode()
    assert body.count('class="agenda-grid-day"') == 7
    assert 'data-grid-date="2031-06-30"' in body and 'data-grid-date="2031-07-06"' in body
    assert (
        '<div class="agenda-grid-scroll"' in body and ".agenda-grid-scroll { max-width: 100%; overflow-x: auto;" in body
    )
