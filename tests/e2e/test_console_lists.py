"""The console's lists and agendas in headless Chromium: the bookings list at 1,400 px, the
blocked-time form's Now in the provider's zone, the week agenda on a phone. Screenshots under
artifacts/screenshots/."""

from datetime import datetime, time, timedelta

import pytest
from django.utils import timezone

from tests.admin.conftest import open_all_day
from tests.e2e.conftest import screenshot
from tests.factories import AvailabilityRuleFactory, BookingFactory, CustomerFactory, ServiceFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)

PASSWORD = "console-pass-123"


def log_in(page, base):
    page.goto(f"{base}/admin/login/?next=/admin/")
    page.fill("input[name=username]", "frontdesk")
    page.fill("input[name=password]", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_url(f"{base}/admin/")


@pytest.fixture
def console(db):
    UserFactory(username="frontdesk", password=PASSWORD, is_superuser=True)
    provider = open_all_day(
        name="Harbor Dental and Orthodontics of Lower Manhattan", slug="harbor", timezone="America/New_York"
    )
    service = ServiceFactory(name="Extended whitening consultation with X-rays", providers=[provider])
    zone = provider.timezone
    day = timezone.now().astimezone(zone).date() + timedelta(days=2)
    for n, name in enumerate(["Maximiliana Wolfeschlegelsteinhausen-Bergerdorff", "Bo Li", "Ann Example"]):
        BookingFactory(
            provider=provider, service=service, customer=CustomerFactory(name=name),
            start_at=datetime.combine(day, time(10 + 2 * n), tzinfo=zone),
        )  # fmt: skip
    return provider, day


def test_the_bookings_list_shows_the_status_without_scrolling_at_1400_px(browser_context, live_server, console):
    page = browser_context(viewport={"width": 1400, "height": 900}).new_page()
    log_in(page, live_server.url)
    page.goto(f"{live_server.url}/admin/scheduling/booking/")
    badge = page.locator("td.field-status_badge .status-badge").first
    box = badge.bounding_box()
    assert box is not None and box["x"] + box["width"] <= 1400
    assert page.evaluate("document.documentElement.scrollWidth") <= 1400
    assert page.locator("#result_list tbody tr").count() == 3  # upcoming live bookings
    screenshot(page, "console-lists-1-bookings-1400")


def test_now_on_the_blocked_time_form_fills_the_provider_wall_clock(browser_context, live_server, console):
    provider, _ = console
    open_all_day(name="Tokyo Rooms", slug="tokyo", timezone="Asia/Tokyo")  # two providers: no single zone
    page = browser_context(timezone_id="Europe/Berlin").new_page()  # the browser is in a third zone
    log_in(page, live_server.url)
    page.goto(f"{live_server.url}/admin/scheduling/blockedtime/add/")
    assert not page.locator(".field-start_at .datetimeshortcuts").first.is_visible()
    page.select_option("select[name=provider]", str(provider.pk))
    page.wait_for_url(f"**provider={provider.pk}**")
    page.locator(".field-start_at .datetimeshortcuts a", has_text="Now").click()
    page.locator(".field-start_at .datetimeshortcuts a", has_text="Today").click()
    filled = datetime.combine(
        datetime.fromisoformat(page.input_value("input[name=start_at_0]")).date(),
        time.fromisoformat(page.input_value("input[name=start_at_1]")),
        tzinfo=provider.timezone,
    )
    assert abs(filled - timezone.now()) < timedelta(minutes=2)  # UTC or Berlin would be hours off
    assert "Start (America/New_York)" in page.locator(".field-start_at").inner_text()
    screenshot(page, "console-lists-2-blocked-time-now")


def test_the_week_agenda_on_a_phone_scrolls_inside_its_box_not_the_page(browser_context, live_server, console):
    provider, day = console
    provider.rules.all().delete()
    AvailabilityRuleFactory(provider=provider, rrule="FREQ=DAILY", start_time=time(9), end_time=time(17))
    desktop = browser_context(viewport={"width": 1280, "height": 900}).new_page()
    log_in(desktop, live_server.url)
    desktop.goto(f"{live_server.url}/admin/scheduling/provider/{provider.pk}/agenda/day/?date={day}")
    assert desktop.locator(".agenda-free").count() == 4  # 09-10, 10:30-12, 12:30-14, 14:30-17
    screenshot(desktop, "console-lists-3a-day-grid")
    phone = browser_context(viewport={"width": 390, "height": 844}, is_mobile=True).new_page()
    log_in(phone, live_server.url)
    phone.goto(f"{live_server.url}/admin/scheduling/provider/{provider.pk}/agenda/week/?date={day}")
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    box = phone.locator(".agenda-grid-scroll")
    assert box.evaluate("el => el.scrollWidth > el.clientWidth")
    screenshot(phone, "console-lists-3b-week-grid-phone")
