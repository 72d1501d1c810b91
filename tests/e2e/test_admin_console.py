"""The provider console in headless Chromium: log in, book a service through the slot picker, confirm,
cancel, open the agenda. Each step saves a screenshot under artifacts/screenshots/ (git-ignored)."""

from datetime import UTC, datetime, time, timedelta

import pytest
from django.utils import timezone

from scheduling.models import Booking, BookingStatus
from tests.admin.conftest import open_all_day
from tests.e2e.conftest import screenshot
from tests.factories import BookingFactory, CustomerFactory, ServiceFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)

PASSWORD = "console-pass-123"


def test_staff_books_confirms_cancels_and_reads_the_agenda_in_the_console(page, browser_context, live_server):
    UserFactory(username="frontdesk", password=PASSWORD, is_superuser=True)
    provider = open_all_day(name="Harbor Dental", slug="harbor", timezone="America/New_York")
    check_up = ServiceFactory(
        name="Check-up", providers=[provider], requires_confirmation=True, price="80.00", late_cancel_fee="20.00"
    )
    zone = provider.timezone
    day = timezone.now().astimezone(zone).date() + timedelta(days=3)
    to_cancel = BookingFactory(
        provider=provider, customer=CustomerFactory(name="Carl Cancel"),
        start_at=datetime.combine(day, time(15), tzinfo=zone),
    )  # fmt: skip
    base = live_server.url

    # 1. Log in.
    page.goto(f"{base}/admin/login/?next=/admin/")
    page.fill("input[name=username]", "frontdesk")
    page.fill("input[name=password]", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_url(f"{base}/admin/")
    assert page.locator("#site-name").inner_text() == "Booking platform · provider console"
    screenshot(page, "admin-console-1-logged-in")

    # 2. Create a booking through the slot picker: provider, service (it offers two), date, slot, new customer.
    page.goto(f"{base}/admin/scheduling/booking/add/")
    page.select_option("select[name=provider]", str(provider.pk))
    page.click("text=Choose provider")
    page.select_option("select[name=service]", str(check_up.pk))
    page.click("text=Choose service")
    page.click(f'.day-strip a[data-date="{day}"]')
    ten = datetime.combine(day, time(10), tzinfo=zone)
    abbreviation = ten.strftime("%Z")
    page.get_by_label(f"10:00 {abbreviation}–10:30 {abbreviation}").check()
    page.fill("input[name=name]", "Nora New")
    page.fill("input[name=email]", "nora@example.com")
    screenshot(page, "admin-console-2a-slot-picked")
    page.click("input[name=_create]")
    page.wait_for_selector(".messagelist .success")
    booking = Booking.objects.get(customer__email="nora@example.com")
    assert booking.start_at == ten.astimezone(UTC)
    assert (booking.service, booking.status) == (check_up, BookingStatus.PENDING)
    assert f"Booked {booking.reference}" in page.locator(".messagelist").inner_text()
    assert f"10:00–10:30 {abbreviation} (America/New_York)" in page.content()
    screenshot(page, "admin-console-2b-booking-created")

    # 3. Confirm the pending booking with the detail-page button.
    page.click("button[data-transition=confirm]")
    page.wait_for_selector(".messagelist .success")
    assert Booking.objects.get(pk=booking.pk).status == BookingStatus.CONFIRMED
    assert page.locator(".status-badge").first.inner_text() == "Confirmed"
    screenshot(page, "admin-console-3-confirmed")

    # 4. Cancel another booking, picking the reason.
    page.goto(f"{base}/admin/scheduling/booking/{to_cancel.pk}/change/")
    page.click("a[data-transition=cancel]")
    page.check("input[name=reason][value=customer]")
    screenshot(page, "admin-console-4a-cancel-reason")
    page.click("text=Cancel the booking")
    page.wait_for_selector(".messagelist .success")
    to_cancel.refresh_from_db()
    assert (to_cancel.status, to_cancel.cancel_reason) == (BookingStatus.CANCELLED, "customer")
    screenshot(page, "admin-console-4b-cancelled")

    # 5. Open the agenda from the provider page: both bookings in local time, with links.
    page.goto(f"{base}/admin/scheduling/provider/{provider.pk}/change/")
    previews = page.locator(".availability-preview").all_inner_texts()  # one per service
    assert len(previews) == 2 and all("free slots in the next 14 days" in text for text in previews)
    screenshot(page, "admin-console-5a-provider-preview")
    page.click("text=Day agenda")
    page.fill("input[name=date]", day.isoformat())
    page.click("button:has-text('Go')")
    page.wait_for_selector(f'section[data-date="{day}"]')
    agenda = page.locator(f'section[data-date="{day}"]').inner_text()
    assert f"10:00 {abbreviation} – 10:30 {abbreviation}" in agenda and "Nora New" in agenda
    assert "15:00" in agenda and "Carl Cancel" in agenda
    assert "All times in America/New_York" in page.locator(".agenda-zone").inner_text()
    screenshot(page, "admin-console-5b-agenda")
    page.click(f"text=Nora New · Check-up · {booking.reference}")
    page.wait_for_url(f"**/admin/scheduling/booking/{booking.pk}/change/")

    # The agenda on a phone: the same page in a narrow viewport, nothing wider than the screen.
    phone = browser_context(viewport={"width": 390, "height": 844}, is_mobile=True).new_page()
    phone.context.add_cookies(page.context.cookies())
    phone.goto(f"{base}/admin/scheduling/provider/{provider.pk}/agenda/week/?date={day}")
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390 + 1
    screenshot(phone, "admin-console-5c-agenda-phone")
