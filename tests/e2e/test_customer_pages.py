"""The customer pages in headless Chromium against the live server.

Expected times are computed here with zoneinfo, independently of the application's formatting code.
"""

import re
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal
from urllib.parse import quote
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone
from icalendar import Calendar
from playwright.sync_api import expect

from scheduling.models import Booking, BookingStatus, CancelReason
from scheduling.services import CustomerData, booking_create
from tests.e2e.conftest import screenshot
from tests.factories import AvailabilityRuleFactory, ProviderFactory, ServiceFactory

pytestmark = pytest.mark.django_db(transaction=True)

TOKYO = ZoneInfo("Asia/Tokyo")
NEW_YORK = ZoneInfo("America/New_York")


def shown(instant: datetime, zone: ZoneInfo) -> str:
    """How a page should print an instant: 'Sun 14 Mar 2027, 22:00 JST (Asia/Tokyo)'."""
    local = instant.astimezone(zone)
    return f"{local:%a %d %b %Y, %H:%M %Z} ({zone.key})"


def utc_iso(instant: datetime) -> str:
    return instant.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def monday_of(day):
    return day - timedelta(days=day.weekday())


def next_offset_change(zone: ZoneInfo, after: datetime) -> datetime:
    """The first instant after `after` at which `zone` changes its UTC offset (to the hour)."""
    probe = after.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    offset = probe.astimezone(zone).utcoffset()
    for _ in range(24 * 400):
        probe += timedelta(hours=1)
        if probe.astimezone(zone).utcoffset() != offset:
            return probe
    raise AssertionError(f"{zone.key} has no offset change within 400 days")


def ny_slot(days: int, hour: int, minute: int = 0) -> datetime:
    """A slot of the clinic: `days` from today in New York at hour:minute New York time."""
    day = timezone.now().astimezone(NEW_YORK).date() + timedelta(days=days)
    return datetime.combine(day, time(hour, minute), tzinfo=NEW_YORK).astimezone(UTC)


def book_url(live_server, provider, start) -> str:
    return f"{live_server.url}/p/{provider.slug}/book/?start={quote(utc_iso(start), safe='')}"


def fill_details(page, *, name="Kenji Sato", email="kenji@example.com", phone="+81 3 1234 5678"):
    page.get_by_label("Your name").fill(name)
    page.get_by_label("Email").fill(email)
    page.get_by_label("Phone (optional)").fill(phone)


def book_through_the_form(page, live_server, provider, start, **details) -> str:
    """Book `start` through the form; returns the manage link's path from the confirmation page."""
    page.goto(book_url(live_server, provider, start))
    fill_details(page, **details)
    page.get_by_role("button", name=re.compile("Book this time|Request this time")).click()
    expect(page.get_by_test_id("reference")).to_be_visible()
    return page.get_by_test_id("manage-link").get_attribute("href")


# --- zones and DST --------------------------------------------------------------------------------


def test_a_tokyo_visitor_books_a_new_york_slot_in_a_week_that_crosses_a_dst_change(
    browser_context, live_server, clinic
):
    change = next_offset_change(NEW_YORK, timezone.now() + timedelta(days=3))
    change_day = change.astimezone(NEW_YORK).date()
    # 09:00 in New York the day before and the day of the change, as UTC instants, so that arithmetic
    # on them runs in absolute time as the services' does (aware New York datetimes would add wall time).
    before_ny = datetime.combine(change_day - timedelta(days=1), time(9), tzinfo=NEW_YORK)
    after_ny = datetime.combine(change_day, time(9), tzinfo=NEW_YORK)
    assert before_ny.utcoffset() != after_ny.utcoffset(), "the two 09:00s straddle the change"
    before, after = before_ny.astimezone(UTC), after_ny.astimezone(UTC)
    monday = monday_of(change.astimezone(TOKYO).date())
    assert monday <= before.astimezone(TOKYO).date() and after.astimezone(TOKYO).date() <= monday + timedelta(days=6)
    context = browser_context(timezone_id="Asia/Tokyo", locale="en-GB")
    page = context.new_page()

    # First visit: the server only knows the provider's zone; the script detects Tokyo and reloads.
    page.goto(f"{live_server.url}/p/{clinic.slug}/?week={monday.isoformat()}")
    expect(page.get_by_test_id("zone-note")).to_contain_text("Times are shown in Asia/Tokyo")
    assert [c["value"] for c in context.cookies() if c["name"] == "tz"] == ["Asia%2FTokyo"]
    expect(page.locator("#zone-select")).to_have_value("Asia/Tokyo")
    for ny_start in (before, after):
        local = ny_start.astimezone(TOKYO)
        slot = page.locator(f'section[data-day="{local:%Y-%m-%d}"] a[data-start="{utc_iso(ny_start)}"]')
        expect(slot).to_have_text(f"{local:%H:%M}")
    # Same 09:00 in New York, a different hour in Tokyo on either side of the change.
    assert before.astimezone(TOKYO).hour != after.astimezone(TOKYO).hour
    screenshot(page, "customer-provider-week-tokyo-dst")

    page.locator(f'a[data-start="{utc_iso(after)}"]').click()
    expect(page.get_by_test_id("viewer-time")).to_contain_text(shown(after, TOKYO))
    expect(page.get_by_test_id("provider-time")).to_contain_text(shown(after, NEW_YORK))
    expect(page.get_by_label("Your time zone")).to_have_value("Asia/Tokyo")
    expect(page.get_by_test_id("terms")).to_contain_text(shown(after - timedelta(hours=24), TOKYO))
    screenshot(page, "customer-book-form")

    fill_details(page)
    page.get_by_role("button", name="Book this time").click()

    expect(page.get_by_role("heading", name="You're booked")).to_be_visible()
    expect(page.get_by_test_id("viewer-time")).to_contain_text(shown(after, TOKYO))
    expect(page.get_by_test_id("provider-time")).to_contain_text(shown(after, NEW_YORK))
    booking = Booking.objects.get()
    assert booking.start_at == after and str(booking.customer_timezone) == "Asia/Tokyo"
    expect(page.get_by_test_id("reference")).to_have_text(booking.reference)
    screenshot(page, "customer-confirmation")

    # The slot before the change is still offered at its own (other-offset) Tokyo time.
    page.goto(f"{live_server.url}/p/{clinic.slug}/?week={monday.isoformat()}")
    expect(page.locator(f'a[data-start="{utc_iso(before)}"]')).to_have_text(f"{before.astimezone(TOKYO):%H:%M}")
    expect(page.locator(f'a[data-start="{utc_iso(after)}"]')).to_have_count(0)


def test_home_lists_providers_and_a_phone_sized_screen_stacks_the_week(browser_context, live_server, clinic):
    ProviderFactory(name="Spree Meeting Room", slug="room", kind="room", timezone="Europe/Berlin")
    page = browser_context(timezone_id="Europe/Berlin", viewport={"width": 390, "height": 844}).new_page()

    page.goto(f"{live_server.url}/")
    item = page.locator('[data-provider="room"]')
    expect(item).to_contain_text("Spree Meeting Room")
    expect(item).to_contain_text("Room")
    expect(item).to_contain_text("Europe/Berlin")
    expect(page.locator('[data-provider="hudson-dental"]')).to_contain_text("America/New_York")
    screenshot(page, "customer-home-mobile")

    # Keyboard users meet the skip link first.
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Skip to content")).to_be_focused()

    page.locator('[data-provider="hudson-dental"]').get_by_role("link", name="Hudson Dental").click()
    expect(page.get_by_test_id("zone-note")).to_contain_text("Europe/Berlin")
    screenshot(page, "customer-provider-week-mobile")
    page.get_by_role("link", name="Next week →").click()
    days = page.locator("section.day")
    expect(days).to_have_count(7)
    assert days.nth(0).bounding_box()["y"] < days.nth(1).bounding_box()["y"], "days stack on a phone"
    assert page.evaluate("document.documentElement.scrollWidth") <= 390, "no sideways scrolling"
    screenshot(page, "customer-provider-next-week-mobile")


# --- services -------------------------------------------------------------------------------------


def test_on_a_phone_a_visitor_books_a_service_with_any_available_and_sees_who_was_assigned(
    browser_context, live_server
):
    ann = ProviderFactory(name="Ann Lee", slug="ann", timezone="America/New_York", with_service=False)
    bob = ProviderFactory(name="Bob Diaz", slug="bob", timezone="America/New_York", with_service=False)
    for provider in (ann, bob):
        AvailabilityRuleFactory(provider=provider, rrule="FREQ=DAILY", start_time=time(9), end_time=time(17))
    checkup = ServiceFactory(
        name="Check-up", slug="check-up", duration_minutes=30, price=Decimal("60.00"), providers=[ann, bob]
    )
    start = ny_slot(days=4, hour=10)
    # Ann already has this time: only Bob can take it.
    booking_create(
        service_id=checkup.pk,
        provider_id=ann.pk,
        start=start,
        customer=CustomerData(name="Earlier", email="earlier@example.com", timezone="America/New_York"),
    )
    page = browser_context(timezone_id="America/New_York", viewport={"width": 390, "height": 844}).new_page()

    page.goto(f"{live_server.url}/")
    card = page.locator('[data-service="check-up"]')
    expect(card).to_contain_text("30 minutes · 60.00 USD")
    expect(card).to_contain_text("With Ann Lee or Bob Diaz")
    card.get_by_role("link", name="Check-up").click()
    expect(page.get_by_test_id("provider-choice").locator('[aria-current="page"]')).to_have_text("Any available")
    page.goto(f"{live_server.url}/s/check-up/?week={monday_of(start.astimezone(NEW_YORK).date()).isoformat()}")
    days = page.locator("section.day:visible")
    assert days.count() >= 2 and days.nth(0).bounding_box()["y"] < days.nth(1).bounding_box()["y"], "days stack"
    assert page.evaluate("document.documentElement.scrollWidth") <= 390, "no sideways scrolling"
    screenshot(page, "customer-service-week-mobile")

    page.locator(f'a[data-start="{utc_iso(start)}"]').click()
    expect(page.get_by_test_id("what")).to_contain_text("any available provider")
    fill_details(page)
    page.get_by_role("button", name="Book this time").click()

    expect(page.get_by_role("heading", name="You're booked")).to_be_visible()
    expect(page.get_by_test_id("what")).to_have_text("Check-up with Bob Diaz")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390, "no sideways scrolling"
    booking = Booking.objects.get(customer__email="kenji@example.com")
    assert (booking.provider, booking.service, booking.start_at) == (bob, checkup, start)
    screenshot(page, "customer-service-confirmation-mobile")


# --- the race -------------------------------------------------------------------------------------


def test_two_visitors_submit_the_same_slot_and_the_second_gets_alternatives_with_their_details_kept(
    browser_context, live_server, clinic
):
    start = ny_slot(days=4, hour=10)
    first = browser_context(timezone_id="Asia/Tokyo").new_page()
    second = browser_context(timezone_id="Europe/London").new_page()
    for page in (first, second):
        page.goto(book_url(live_server, clinic, start))
    fill_details(first, name="First Visitor", email="first@example.com")
    fill_details(second, name="Second Visitor", email="second@example.com", phone="+44 20 7946 0000")

    first.get_by_role("button", name="Book this time").click()
    expect(first.get_by_role("heading", name="You're booked")).to_be_visible()
    second.get_by_role("button", name="Book this time").click()

    expect(second.get_by_test_id("problem")).to_contain_text("someone else has just booked this time")
    expect(second.get_by_label("Your name")).to_have_value("Second Visitor")
    expect(second.get_by_label("Email")).to_have_value("second@example.com")
    expect(second.get_by_label("Phone (optional)")).to_have_value("+44 20 7946 0000")
    options = second.locator('input[name="choose_start"]')
    expect(options.first).to_be_checked()
    offered = [options.nth(i).get_attribute("value") for i in range(options.count())]
    assert offered and utc_iso(start) not in offered
    assert utc_iso(start + timedelta(minutes=30)) in offered or utc_iso(start - timedelta(minutes=30)) in offered
    screenshot(second, "customer-race-slot-taken")

    second.get_by_role("button", name="Book the selected time").click()
    expect(second.get_by_role("heading", name="You're booked")).to_be_visible()
    winner = Booking.objects.get(customer__email="first@example.com")
    runner_up = Booking.objects.get(customer__email="second@example.com")
    assert winner.start_at == start and utc_iso(runner_up.start_at) == offered[0]


# --- manage: cancel, reschedule, calendar file ----------------------------------------------------


def test_cancelling_through_the_manage_link_frees_the_slot_on_the_provider_page(browser_context, live_server, clinic):
    page = browser_context(timezone_id="America/New_York").new_page()
    start = ny_slot(days=5, hour=11)
    week_url = f"{live_server.url}/p/{clinic.slug}/?week={start.astimezone(NEW_YORK).date().isoformat()}"
    manage_path = book_through_the_form(page, live_server, clinic, start)
    page.goto(week_url)
    expect(page.locator(f'a[data-start="{utc_iso(start)}"]')).to_have_count(0)

    page.goto(f"{live_server.url}{manage_path}")
    expect(page.get_by_test_id("status")).to_have_text("Confirmed")
    screenshot(page, "customer-manage")
    page.get_by_role("link", name="Cancel booking").click()
    expect(page.get_by_test_id("fee-verdict")).to_contain_text("Cancelling now is free.")
    screenshot(page, "customer-cancel-confirm")
    page.get_by_role("button", name="Yes, cancel my booking").click()

    expect(page.get_by_text("Your booking is cancelled. There is no fee.")).to_be_visible()
    expect(page.get_by_test_id("status")).to_have_text("Cancelled")
    screenshot(page, "customer-manage-cancelled")
    assert Booking.objects.get().cancel_reason == CancelReason.CUSTOMER
    page.goto(week_url)
    expect(page.locator(f'a[data-start="{utc_iso(start)}"]')).to_have_count(1)


def test_a_late_cancellation_shows_the_fee_before_the_customer_confirms(browser_context, live_server, clinic):
    page = browser_context(timezone_id="America/New_York").new_page()
    start = ny_slot(days=0, hour=16, minute=30)
    if start <= timezone.now() + timedelta(minutes=5):
        start = ny_slot(days=1, hour=9)  # still inside the 24-hour window
    manage_path = book_through_the_form(page, live_server, clinic, start)

    page.goto(f"{live_server.url}{manage_path}")
    page.get_by_role("link", name="Cancel booking").click()

    expect(page.get_by_test_id("fee-verdict")).to_contain_text("A late cancellation fee of 25.00 USD applies.")
    screenshot(page, "customer-cancel-late-fee")
    page.get_by_role("button", name="Cancel and pay 25.00 USD").click()
    expect(page.get_by_test_id("cancelled-note")).to_contain_text("late cancellation fee of 25.00 USD")
    assert Booking.objects.get().cancellation_fee == Decimal("25.00")


def test_rescheduling_moves_the_booking_and_shows_a_new_manage_link(browser_context, live_server, clinic):
    page = browser_context(timezone_id="Asia/Tokyo").new_page()
    start = ny_slot(days=6, hour=9)
    new_start = ny_slot(days=7, hour=14, minute=30)
    old_manage = book_through_the_form(page, live_server, clinic, start)

    page.goto(f"{live_server.url}{old_manage}")
    page.get_by_role("link", name="Move to another time").click()
    expect(page.get_by_role("heading", name="Move your booking")).to_be_visible()
    expect(page.locator(f'a[data-start="{utc_iso(start)}"]')).to_have_count(0)
    screenshot(page, "customer-reschedule-pick")
    target = page.locator(f'a[data-start="{utc_iso(new_start)}"]')
    if not target.count():
        page.get_by_role("link", name="Next week →").click()
    page.locator(f'a[data-start="{utc_iso(new_start)}"]').click()
    expect(page.get_by_test_id("new-viewer-time")).to_contain_text(shown(new_start, TOKYO))
    expect(page.get_by_test_id("new-provider-time")).to_contain_text(shown(new_start, NEW_YORK))
    screenshot(page, "customer-reschedule-confirm")
    page.get_by_role("button", name="Move my booking").click()

    expect(page.get_by_role("heading", name="Your booking has moved")).to_be_visible()
    expect(page.get_by_test_id("viewer-time")).to_contain_text(shown(new_start, TOKYO))
    new_manage = page.get_by_test_id("manage-link").get_attribute("href")
    assert new_manage != old_manage
    screenshot(page, "customer-reschedule-done")
    old, new = Booking.objects.order_by("created_at")
    assert old.status == BookingStatus.CANCELLED and old.cancel_reason == CancelReason.RESCHEDULED
    assert new.start_at == new_start and new.rescheduled_from_id == old.pk and new.reference in new_manage

    page.goto(f"{live_server.url}{old_manage}")
    expect(page.get_by_test_id("moved-note")).to_contain_text(new.reference)
    page.goto(f"{live_server.url}{new_manage}")
    expect(page.get_by_test_id("status")).to_have_text("Confirmed")
    expect(page.get_by_test_id("viewer-time")).to_contain_text(shown(new_start, TOKYO))


def test_the_ics_download_parses_back_to_the_booked_instants(browser_context, live_server, clinic, tmp_path):
    page = browser_context(timezone_id="Asia/Tokyo", accept_downloads=True).new_page()
    start = ny_slot(days=3, hour=15)
    manage_path = book_through_the_form(page, live_server, clinic, start)

    for where in ("confirmation", "manage"):
        if where == "manage":
            page.goto(f"{live_server.url}{manage_path}")
        with page.expect_download() as info:
            page.get_by_test_id("ics-link").click()
        path = tmp_path / f"{where}.ics"
        info.value.save_as(path)
        event = Calendar.from_ical(path.read_bytes()).walk("VEVENT")[0]
        assert event.decoded("dtstart") == start, where
        assert event.decoded("dtend") == start + timedelta(minutes=30), where
        assert event.decoded("dtstart").utcoffset() == timedelta(0)
        assert Booking.objects.get().reference in str(event["uid"])


# --- friendly errors ------------------------------------------------------------------------------


def test_bad_links_get_friendly_pages(browser_context, live_server, clinic, settings):
    page = browser_context(timezone_id="Asia/Tokyo").new_page()
    manage_path = book_through_the_form(page, live_server, clinic, ny_slot(days=3, hour=12))

    page.goto(f"{live_server.url}{manage_path[:-3]}xyz/")
    expect(page.get_by_role("heading", name="We couldn't find that booking")).to_be_visible()
    screenshot(page, "customer-manage-not-found")

    past = ny_slot(days=-2, hour=10)
    page.goto(book_url(live_server, clinic, past))
    expect(page.get_by_test_id("problem")).to_contain_text("That time has already passed.")
    expect(page.get_by_test_id("alternatives")).to_be_visible()
    screenshot(page, "customer-slot-in-the-past")

    page.goto(book_url(live_server, clinic, ny_slot(days=3, hour=12, minute=10)))
    expect(page.get_by_test_id("problem")).to_contain_text("has no appointment starting at that time")
    screenshot(page, "customer-slot-not-offered")

    page.goto(f"{live_server.url}/no/such/page/")
    expect(page.get_by_role("heading", name="We couldn't find that page")).to_be_visible()
    screenshot(page, "customer-404")

    settings.BOOKING_POST_RATE = (0, 60)
    page.goto(book_url(live_server, clinic, ny_slot(days=3, hour=13)))
    fill_details(page)
    page.get_by_role("button", name="Book this time").click()
    expect(page.get_by_role("heading", name="Please wait a moment")).to_be_visible()
    screenshot(page, "customer-throttled")


# --- without JavaScript ---------------------------------------------------------------------------


def test_without_javascript_the_booking_flow_completes_in_the_providers_zone(browser_context, live_server, clinic):
    page = browser_context(java_script_enabled=False, timezone_id="Asia/Tokyo").new_page()
    start = ny_slot(days=4, hour=9, minute=30)

    page.goto(f"{live_server.url}/p/{clinic.slug}/?week={start.astimezone(NEW_YORK).date().isoformat()}")
    expect(page.get_by_test_id("zone-note")).to_contain_text("Times are shown in America/New_York")
    assert not [c for c in page.context.cookies() if c["name"] == "tz"], "no script ran"
    expect(page.get_by_role("button", name="Change")).to_be_visible()
    screenshot(page, "customer-provider-week-nojs")

    # The picker works as a plain form.
    page.locator("#zone-select").select_option("Europe/Paris")
    page.get_by_role("button", name="Change").click()
    expect(page.get_by_test_id("zone-note")).to_contain_text("Times are shown in Europe/Paris")

    page.locator(f'a[data-start="{utc_iso(start)}"]').click()
    expect(page.get_by_test_id("viewer-time")).to_contain_text(shown(start, ZoneInfo("Europe/Paris")))
    expect(page.get_by_test_id("provider-time")).to_contain_text(shown(start, NEW_YORK))
    fill_details(page, name="No Script", email="noscript@example.com")
    page.get_by_role("button", name="Book this time").click()

    expect(page.get_by_role("heading", name="You're booked")).to_be_visible()
    screenshot(page, "customer-confirmation-nojs")
    booking = Booking.objects.get()
    assert booking.start_at == start and booking.customer.email == "noscript@example.com"
    page.goto(f"{live_server.url}{page.get_by_test_id('manage-link').get_attribute('href')}")
    expect(page.get_by_test_id("reference")).to_have_text(booking.reference)
