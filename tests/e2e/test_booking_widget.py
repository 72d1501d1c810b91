"""The example widget (docs/examples/booking-widget.html) books through the public API in headless
Chromium: served from a static server of its own (another origin, allowed by
PUBLIC_API_ALLOWED_ORIGINS), against the live server, as a company's website would."""

import functools
import threading
from datetime import UTC, datetime, timedelta
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import quote

import pytest
from playwright.sync_api import expect

from scheduling.models import Booking, BookingStatus
from tests.e2e.conftest import screenshot
from tests.scheduling.conftest import open_all_day_provider

pytestmark = pytest.mark.django_db(transaction=True)

EXAMPLES = Path(__file__).resolve().parents[2] / "docs" / "examples"


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture
def widget_site():
    """The examples folder over HTTP on a free port of its own: the company's website."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_QuietHandler, directory=str(EXAMPLES)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture
def widget_url(widget_site, live_server, settings, private_cache):
    settings.PUBLIC_API_ALLOWED_ORIGINS = [widget_site]
    return f"{widget_site}/booking-widget.html?api={quote(live_server.url)}"


def test_the_example_widget_books_from_another_origin(browser_context, widget_url):
    provider = open_all_day_provider(name="Dr. Widget", slug="dr-widget")
    tomorrow = (datetime.now(UTC) + timedelta(days=1)).date()
    page = browser_context(timezone_id="UTC", viewport={"width": 375, "height": 800}).new_page()

    page.goto(widget_url)
    page.locator(f'#slots button[data-start="{tomorrow}T10:00:00Z"]').click()
    page.get_by_label("Your name").fill("Wanda Widget")
    page.get_by_label("Email").fill("wanda@example.com")
    page.get_by_role("button", name="Book", exact=True).click()

    expect(page.locator("#done")).to_be_visible()
    screenshot(page, "booking-widget-booked")
    booking = Booking.objects.get(customer_email="wanda@example.com")
    assert booking.provider == provider and booking.status == BookingStatus.CONFIRMED
    assert booking.start_at == datetime.combine(tomorrow, datetime.min.time(), UTC).replace(hour=10)
    manage = page.locator("#manage-link").get_attribute("href")
    assert f"/b/{booking.reference}/" in manage


def test_the_widget_on_an_origin_not_allowed_cannot_read_the_api(browser_context, widget_url, settings):
    open_all_day_provider(name="Dr. Widget", slug="dr-widget")
    settings.PUBLIC_API_ALLOWED_ORIGINS = ["https://somewhere.else.example"]
    page = browser_context(timezone_id="UTC").new_page()

    page.goto(widget_url)
    page.wait_for_timeout(1500)

    assert page.locator("#service option").count() == 0
    assert not Booking.objects.exists()
