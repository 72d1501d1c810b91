"""Clear states: no calendar file for a cancelled booking, one message area, the current time marked
when moving, the next free week named in the visitor's zone."""

from datetime import date, time, timedelta
from urllib.parse import quote
from zoneinfo import ZoneInfo

from django.urls import reverse
from django.utils import timezone

from scheduling.services import booking_cancel
from scheduling.views.calendar import monday_of, week_title
from tests.factories import AvailabilityRuleFactory, ProviderFactory
from tests.pages.conftest import iso, make_booking

LOS_ANGELES = ZoneInfo("America/Los_Angeles")


def test_a_cancelled_booking_offers_no_calendar_file(client, provider):
    booking = make_booking(provider)
    booking_cancel(booking_id=booking.pk)

    html = client.get(reverse("pages:manage", args=[booking.reference, booking.manage_token])).content.decode()

    assert 'data-testid="cancelled-note"' in html
    assert 'data-testid="ics-link"' not in html


def test_after_cancelling_one_notice_says_what_happened_and_the_state(client, provider):
    booking = make_booking(provider)
    client.post(
        reverse("pages:cancel", args=[booking.reference]), {"token": booking.manage_token, "quoted_fee": "0.00"}
    )

    html = client.get(reverse("pages:manage", args=[booking.reference, booking.manage_token])).content.decode()

    area = html[html.index('data-testid="message-area"') : html.index("<h1>")]
    assert area.count('class="notice') == 1
    assert "Your booking is cancelled. There is no fee." in area
    assert "This booking was cancelled on" in area


def test_rescheduling_marks_the_current_time(client, provider):
    booking = make_booking(provider)

    html = client.get(reverse("pages:reschedule", args=[booking.reference, booking.manage_token])).content.decode()

    assert f'data-testid="current-slot" data-current-start="{iso(booking.start_at)}"' in html
    assert "your current time" in html


def test_the_next_free_notice_names_the_week_in_the_visitors_zone(client, db):
    """Tokyo's only hour, Mondays 15:00 JST, is Sunday evening in Los Angeles (and Monday in UTC)."""
    first_monday = monday_of(timezone.now().date()) + timedelta(days=21)
    provider = ProviderFactory(slug="tokyo", timezone="Asia/Tokyo", max_advance_days=120, min_notice_minutes=0)
    AvailabilityRuleFactory(
        provider=provider, rrule="FREQ=WEEKLY;BYDAY=MO", starts_on=first_monday, start_time=time(15), end_time=time(16)
    )
    client.cookies["tz"] = quote("America/Los_Angeles", safe="")
    this_week = monday_of(timezone.now().astimezone(LOS_ANGELES).date())

    html = client.get(reverse("pages:provider", args=["tokyo"]), {"week": this_week.isoformat()}).content.decode()

    sunday: date = first_monday - timedelta(days=1)
    assert f"The next free time is in the week of {week_title(monday_of(sunday))}." in html
