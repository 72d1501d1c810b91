"""Customer pages by keyboard alone, and on a phone with an en-US (12-hour) clock, in real Chromium.

Expected times are computed here with zoneinfo, independently of the application's formatting code.
"""

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from scheduling.models import Booking
from tests.e2e.conftest import screenshot

pytestmark = pytest.mark.django_db(transaction=True)

NEW_YORK = ZoneInfo("America/New_York")
PARIS = ZoneInfo("Europe/Paris")
PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 2, "is_mobile": True, "has_touch": True}


def ny_slot(days: int, hour: int, minute: int = 0) -> datetime:
    day = timezone.now().astimezone(NEW_YORK).date() + timedelta(days=days)
    return datetime.combine(day, time(hour, minute), tzinfo=NEW_YORK).astimezone(UTC)


def utc_iso(instant: datetime) -> str:
    return instant.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def tab_to(page, selector: str, *, limit: int = 80) -> None:
    """Press Tab until the element matching `selector` has focus (keyboard only, no clicks)."""
    target = page.locator(selector).first
    for _ in range(limit):
        page.keyboard.press("Tab")
        if target.evaluate("el => el === document.activeElement"):
            return
    raise AssertionError(f"Tab never reached {selector}")


def test_arrow_keys_in_the_zone_picker_do_not_reload_the_page(browser_context, live_server, clinic):
    page = browser_context(timezone_id="America/New_York").new_page()
    page.goto(f"{live_server.url}/p/{clinic.slug}/")
    expect(page.get_by_test_id("zone-note")).to_contain_text("America/New_York")
    page.evaluate("window.__stayed = true")

    tab_to(page, "#zone-select")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")
    page.wait_for_timeout(1500)  # a submit on change would have navigated by now

    assert page.evaluate("window.__stayed === true"), "the page reloaded on an arrow key"
    expect(page.get_by_test_id("zone-note")).to_contain_text("America/New_York")


def test_keyboard_only_booking_including_the_zone_picker(browser_context, live_server, clinic):
    page = browser_context(timezone_id="America/New_York").new_page()
    start = ny_slot(days=3, hour=10)
    page.goto(f"{live_server.url}/p/{clinic.slug}/?week={start.astimezone(NEW_YORK).date().isoformat()}")
    expect(page.get_by_test_id("zone-note")).to_contain_text("America/New_York")

    # The zone picker: focus it, type to move to Paris, Enter chooses.
    tab_to(page, "#zone-select")
    page.keyboard.type("Europe/Paris")
    expect(page.locator("#zone-select")).to_have_value("Europe/Paris")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    expect(page.get_by_test_id("zone-note")).to_contain_text("Times are shown in Europe/Paris")
    screenshot(page, "keyboard-zone-chosen")

    # Tab to the slot and Enter.
    tab_to(page, f'a[data-start="{utc_iso(start)}"]')
    screenshot(page, "keyboard-slot-focused")
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("viewer-time")).to_contain_text(f"{start.astimezone(PARIS):%H:%M}")

    tab_to(page, "#id_name")
    page.keyboard.type("Kim Keys")
    page.keyboard.press("Tab")
    page.keyboard.type("kim@example.com")
    tab_to(page, "#id_notes")
    page.keyboard.type("Typed without a mouse.")
    tab_to(page, "button[type=submit]:not(.button-secondary)")
    page.keyboard.press("Enter")

    expect(page.get_by_test_id("reference")).to_be_visible()
    screenshot(page, "keyboard-booked")
    booking = Booking.objects.get(customer_email="kim@example.com")
    assert booking.start_at == start
    assert booking.notes == "Typed without a mouse."


def test_on_a_phone_an_en_us_visitor_books_on_a_12_hour_clock(browser_context, live_server, clinic):
    page = browser_context(locale="en-US", timezone_id="America/Los_Angeles", **PHONE).new_page()
    start = ny_slot(days=3, hour=15)  # 12:00 PM in Los Angeles
    la = start.astimezone(ZoneInfo("America/Los_Angeles"))
    twelve = f"{la.hour % 12 or 12}:{la:%M} {'AM' if la.hour < 12 else 'PM'}"

    page.goto(f"{live_server.url}/?q=hudson")
    expect(page.get_by_test_id("zone-picker")).to_be_visible()
    screenshot(page, "phone-en-us-home-search")
    page.goto(f"{live_server.url}/p/{clinic.slug}/?date={la.date().isoformat()}")
    expect(page.get_by_test_id("zone-note")).to_contain_text("America/Los_Angeles")
    slot = page.locator(f'a[data-start="{utc_iso(start)}"]')
    expect(slot).to_have_text(twelve)
    screenshot(page, "phone-en-us-week")

    slot.click()
    expect(page.get_by_test_id("viewer-time")).to_contain_text(f"{twelve} {la:%Z}")
    page.get_by_label("Your name").fill("Pat Doe")
    page.get_by_label("Email").fill("pat@example.com")
    page.get_by_label("Notes for the provider (optional)").fill("First visit.")
    screenshot(page, "phone-en-us-form")
    page.get_by_role("button", name="Book this time").click()

    expect(page.get_by_test_id("reference")).to_be_visible()
    expect(page.get_by_test_id("viewer-time")).to_contain_text(twelve)
    # The zone name stays whole: the value column is wide enough on a 390 px screen.
    box = page.get_by_test_id("viewer-time").bounding_box()
    assert box["width"] > 200
    screenshot(page, "phone-en-us-confirmation")
