"""The example widget (docs/examples/booking-widget.html) books through the public API in headless
Chromium: served from a static server of its own (another origin, allowed by
PUBLIC_API_ALLOWED_ORIGINS), against the live server, as a company's website would."""

import functools
import json
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


def dev_copy(folder: Path) -> Path:
    """The widget with `DEV = true`, so that `?api=` names the server under test (the shipped file
    ignores it)."""
    text = (EXAMPLES / "booking-widget.html").read_text()
    assert "const DEV = false;" in text
    (folder / "booking-widget.html").write_text(text.replace("const DEV = false;", "const DEV = true;"))
    return folder


@pytest.fixture
def widget_site(tmp_path):
    """The widget over HTTP on a free port of its own: the company's website."""
    site = dev_copy(tmp_path)
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_QuietHandler, directory=str(site)))
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture
def widget_url(widget_site, live_server, settings, private_cache):
    settings.PUBLIC_API_ALLOWED_ORIGINS = [widget_site]
    settings.SITE_URL = live_server.url  # the manage link is on the API's own origin, as deployed
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


def test_the_widget_speaks_german_to_a_german_browser_and_books_in_german(browser_context, widget_url):
    open_all_day_provider(name="Dr. Widget", slug="dr-widget")
    tomorrow = (datetime.now(UTC) + timedelta(days=1)).date()
    page = browser_context(timezone_id="Europe/Berlin", locale="de-DE").new_page()

    page.goto(widget_url)
    expect(page.get_by_role("heading", name="Termin buchen")).to_be_visible()
    assert page.title() == "Termin buchen" and page.locator("html").get_attribute("lang") == "de"
    assert page.evaluate("Object.keys(TEXT.de).sort().join()") == page.evaluate("Object.keys(TEXT.en).sort().join()")
    page.get_by_role("button", name="Buchen", exact=True).click()
    expect(page.locator("#error")).to_have_text("Bitte wählen Sie eine Zeit.")
    page.locator(f'#slots button[data-start="{tomorrow}T10:00:00Z"]').click()
    page.get_by_label("Ihr Name").fill("Wilma Widget")
    page.get_by_label("E-Mail").fill("wilma@example.com")
    page.get_by_role("button", name="Buchen", exact=True).click()

    expect(page.locator("#done")).to_be_visible()  # its text is there, hidden, from the start
    expect(page.locator("#done")).to_contain_text("Sie sind gebucht:")
    screenshot(page, "booking-widget-booked-de")
    assert Booking.objects.get(customer_email="wilma@example.com").language == "de"


def test_the_widget_on_an_origin_not_allowed_cannot_read_the_api(browser_context, widget_url, settings):
    open_all_day_provider(name="Dr. Widget", slug="dr-widget")
    settings.PUBLIC_API_ALLOWED_ORIGINS = ["https://somewhere.else.example"]
    page = browser_context(timezone_id="UTC").new_page()

    page.goto(widget_url)
    page.wait_for_timeout(1500)

    assert page.locator("#service option").count() == 0
    assert not Booking.objects.exists()


class _HostileApi(_QuietHandler):
    """Serves the widget and, under /api/v1/public/, answers like the API but with links it must not
    follow."""

    def _json(self, status: int, body) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        if self.path.startswith("/api/v1/public/services/") and "/slots/" in self.path:
            return self._json(200, {"slots": [{"start": "2030-01-02T10:00:00Z"}]})
        if self.path.startswith("/api/v1/public/services/"):
            return self._json(200, [{"id": 1, "name": "Check-up", "duration_minutes": 30}])
        return super().do_GET()

    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        payment = {"checkout_url": "https://evil.example/pay"}
        body = {"service": {"name": "Check-up"}, "start": "2030-01-02T10:00:00Z", "payment": payment}
        self._json(201, {**body, "manage_url": "javascript:alert(document.domain)"})


def test_the_widget_links_nothing_but_http_links_on_the_booking_server(browser_context, tmp_path):
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_HostileApi, directory=str(dev_copy(tmp_path))))
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    origin = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        page = browser_context(timezone_id="UTC").new_page()
        page.goto(f"{origin}/booking-widget.html?api={quote(origin)}")
        page.locator("#slots button").first.click()
        page.get_by_label("Your name").fill("Mallory")
        page.get_by_label("Email").fill("mallory@example.com")
        page.get_by_role("button", name="Book", exact=True).click()

        expect(page.locator("#done")).to_be_visible()
        assert page.locator("#manage-link").get_attribute("href") is None
        expect(page.locator("#manage-link")).to_be_hidden()
        assert page.locator("#pay-link").get_attribute("href") is None
        expect(page.locator("#pay")).to_be_hidden()
    finally:
        server.shutdown()
        server.server_close()


def test_the_shipped_widget_ignores_api_in_its_address():
    text = (EXAMPLES / "booking-widget.html").read_text()
    assert "const DEV = false;" in text and '(DEV && params.get("api"))' in text
