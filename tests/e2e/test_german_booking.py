"""A phone-sized customer booking in German, on a 24-hour clock, in real Chromium.

The browser asks for German (Accept-Language de-DE through its locale); expected times are computed
here with zoneinfo, independently of the application's formatting code.
"""

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from scheduling.models import Booking
from tests.e2e.conftest import screenshot

pytestmark = pytest.mark.django_db(transaction=True)

NEW_YORK, BERLIN = ZoneInfo("America/New_York"), ZoneInfo("Europe/Berlin")
PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 2, "is_mobile": True, "has_touch": True}


def ny_slot(days: int, hour: int) -> datetime:
    day = timezone.now().astimezone(NEW_YORK).date() + timedelta(days=days)
    return datetime.combine(day, time(hour), tzinfo=NEW_YORK).astimezone(UTC)


def test_on_a_phone_a_german_visitor_books_in_german_on_a_24_hour_clock(browser_context, live_server, clinic):
    page = browser_context(locale="de-DE", timezone_id="Europe/Berlin", **PHONE).new_page()
    start = ny_slot(days=3, hour=14)  # 20:00 in Berlin: an afternoon a 12-hour clock would write 8:00 PM
    berlin = start.astimezone(BERLIN)
    twenty_four = f"{berlin:%H:%M}"

    page.goto(f"{live_server.url}/p/{clinic.slug}/?date={berlin.date().isoformat()}")
    expect(page.locator("html")).to_have_attribute("lang", "de")
    expect(page.get_by_test_id("zone-note")).to_contain_text("Europe/Berlin")
    slot = page.locator(f'a[data-start="{start:%Y-%m-%dT%H:%M:%SZ}"]')
    expect(slot).to_have_text(twenty_four)
    screenshot(page, "phone-de-week")

    slot.click()
    expect(page.get_by_test_id("viewer-time")).to_contain_text(twenty_four)
    page.get_by_label("Ihr Name").fill("Lena Schmidt")
    page.get_by_label("E-Mail").fill("lena@example.com")
    page.get_by_label("Hinweise für den Anbieter (optional)").fill("Erster Besuch.")
    screenshot(page, "phone-de-form")
    page.get_by_role("button", name="Diese Zeit buchen").click()

    expect(page.get_by_test_id("reference")).to_be_visible()
    expect(page.get_by_test_id("viewer-time")).to_contain_text(twenty_four)
    assert " PM" not in page.get_by_test_id("viewer-time").inner_text()
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the page scrolls sideways on a phone: {width}px"
    screenshot(page, "phone-de-confirmation")

    booking = Booking.objects.get(customer_email="lena@example.com")
    assert (booking.start_at, booking.language) == (start, "de")
