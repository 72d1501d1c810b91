"""The console's dashboard and rescheduling in headless Chromium. Screenshots go to
artifacts/screenshots/ (git-ignored)."""

from datetime import UTC, datetime, time, timedelta

import pytest
from django.utils import timezone

from scheduling.formatting import local_time
from scheduling.models import Booking, BookingStatus, CancelReason
from scheduling.services import CustomerData, booking_create
from tests.admin.conftest import open_all_day
from tests.e2e.conftest import screenshot
from tests.factories import BookingFactory, ServiceFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)

PASSWORD = "console-pass-123"


def log_in(page, base):
    UserFactory(username="frontdesk", password=PASSWORD, is_superuser=True)
    page.goto(f"{base}/admin/login/?next=/admin/")
    page.fill("input[name=username]", "frontdesk")
    page.fill("input[name=password]", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_url(f"{base}/admin/")


def test_staff_see_a_new_pending_request_on_the_dashboard_and_confirm_it_there(browser_context, live_server):
    page = browser_context(viewport={"width": 1400, "height": 1000}).new_page()
    provider = open_all_day(name="Harbor Dental", slug="harbor", timezone="America/New_York")
    service = ServiceFactory(name="Check-up", providers=[provider], requires_confirmation=True, hold_minutes=120)
    zone = provider.timezone
    day = timezone.now().astimezone(zone).date() + timedelta(days=3)
    request = booking_create(
        service_id=service.pk,
        provider_id=provider.pk,
        start=datetime.combine(day, time(10), tzinfo=zone),
        customer=CustomerData(name="Paula Pending", email="paula@example.com"),
    )
    tomorrow = timezone.now().astimezone(zone).date() + timedelta(days=1)
    BookingFactory(provider=provider, start_at=datetime.combine(tomorrow, time(11), tzinfo=zone).astimezone(UTC))
    BookingFactory(
        provider=provider,
        status=BookingStatus.CANCELLED,
        cancel_reason=CancelReason.CUSTOMER,
        cancelled_at=timezone.now() - timedelta(hours=2),
    )
    log_in(page, live_server.url)

    pending = page.locator("[data-testid=pending-requests]")
    row = pending.locator(f"[data-booking='{request.pk}']")
    assert "Pending requests: 1" in pending.inner_text()
    assert "Paula Pending" in row.inner_text()
    assert f"Hold until {local_time(request.hold_expires_at, zone)}" in row.inner_text()
    assert "h 59 min left" in row.inner_text() or "2 h 00 min left" in row.inner_text()
    tomorrow_column = page.locator("[data-testid=bookings-by-day] [data-day=tomorrow]")
    assert f"11:00 {datetime.combine(tomorrow, time(11), tzinfo=zone):%Z}" in tomorrow_column.inner_text()
    assert "Cancelled by the customer" in page.locator("[data-testid=recent-cancellations]").inner_text()
    # The app list stays below the dashboard.
    assert page.locator("#console-dashboard").bounding_box()["y"] < page.locator(".app-scheduling").bounding_box()["y"]
    screenshot(page, "console-dashboard-1-pending-request")

    row.locator("[data-action=confirm]").click()
    page.wait_for_selector(".messagelist .success")
    assert page.url == f"{live_server.url}/admin/"
    assert Booking.objects.get(pk=request.pk).status == BookingStatus.CONFIRMED
    assert "Nothing waits for you." in page.locator("[data-testid=pending-requests]").inner_text()
    screenshot(page, "console-dashboard-2-confirmed")


def test_staff_reschedule_a_booking_from_the_console(browser_context, live_server):
    page = browser_context(viewport={"width": 1400, "height": 1000}).new_page()
    provider = open_all_day(name="Harbor Dental", slug="harbor", timezone="America/New_York")
    zone = provider.timezone
    day = timezone.now().astimezone(zone).date() + timedelta(days=3)
    booking = BookingFactory(provider=provider, start_at=datetime.combine(day, time(10), tzinfo=zone).astimezone(UTC))
    BookingFactory(provider=provider, start_at=datetime.combine(day, time(12), tzinfo=zone).astimezone(UTC))
    base = live_server.url
    log_in(page, base)

    page.goto(f"{base}/admin/scheduling/booking/{booking.pk}/change/")
    assert page.locator("[data-transition=complete]").count() == 0  # not started yet: not offered
    page.click("a[data-transition=reschedule]")
    page.select_option("select[name=span]", "day")
    page.fill("input[name=date]", day.isoformat())
    page.click("text=Show free times")
    abbreviation = datetime.combine(day, time(10), tzinfo=zone).strftime("%Z")
    assert page.get_by_label(f"10:00 {abbreviation}–10:30 {abbreviation} (current time)").is_disabled()
    assert page.get_by_label(f"12:00 {abbreviation}–12:30 {abbreviation}").count() == 0  # taken
    page.get_by_label(f"14:30 {abbreviation}–15:00 {abbreviation}").check()
    screenshot(page, "console-reschedule-1-time-picked")
    page.click("input[name=_reschedule]")
    page.wait_for_selector(".messagelist .success")
    moved = Booking.objects.get(rescheduled_from=booking)
    assert moved.start_at == datetime.combine(day, time(14, 30), tzinfo=zone)
    assert page.url == f"{base}/admin/scheduling/booking/{moved.pk}/change/"
    assert f"14:30–15:00 {abbreviation} (America/New_York)" in page.content()
    screenshot(page, "console-reschedule-2-moved")

    # A time taken while the page was open: the error says so, nothing moves.
    page.goto(f"{base}/admin/scheduling/booking/{moved.pk}/reschedule/?span=day&date={day}")
    page.get_by_label(f"16:00 {abbreviation}–16:30 {abbreviation}").check()
    BookingFactory(provider=provider, start_at=datetime.combine(day, time(16), tzinfo=zone).astimezone(UTC))
    page.click("input[name=_reschedule]")
    assert "That time was taken meanwhile" in page.locator(".reschedule-error").inner_text()
    assert Booking.objects.get(pk=moved.pk).status == BookingStatus.CONFIRMED
    screenshot(page, "console-reschedule-3-taken")
