"""A customer who closed the confirmation tab gets their booking back by email, on a phone, in Chromium."""

import re
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from notifications import services as notifications
from scheduling.models import Booking, CancelReason
from tests.e2e.conftest import screenshot
from tests.e2e.test_customer_pages import book_through_the_form

pytestmark = pytest.mark.django_db(transaction=True)

NEW_YORK = ZoneInfo("America/New_York")
PHONE = {"viewport": {"width": 390, "height": 844}, "timezone_id": "America/New_York", "is_mobile": True}


def test_a_customer_who_lost_the_tab_asks_for_links_and_cancels_from_the_email(
    browser_context,
    live_server,
    clinic,
    settings,
    mailoutbox,
):
    settings.SITE_URL = live_server.url
    day = timezone.now().astimezone(NEW_YORK).date() + timedelta(days=6)
    start = datetime.combine(day, time(10), tzinfo=NEW_YORK).astimezone(UTC)
    booking_tab = browser_context(**PHONE).new_page()
    book_through_the_form(booking_tab, live_server, clinic, start, email="kenji@example.com")
    booking_tab.context.close()  # the tab with the manage link is gone
    notifications.notifications_dispatch()  # the confirmation goes out first
    mailoutbox.clear()

    page = browser_context(**PHONE).new_page()
    page.goto(f"{live_server.url}/")
    page.get_by_role("link", name="Email me my booking links").click()
    page.get_by_label("Your email address").fill("Kenji@Example.com")
    page.get_by_role("button", name="Email me my links").click()
    expect(page.get_by_text("If we have upcoming bookings for this address")).to_be_visible()
    screenshot(page, "customer-links-sent-phone")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390  # nothing wider than the phone

    notifications.notifications_dispatch()
    [email] = mailoutbox
    assert email.to == ["kenji@example.com"]
    [link] = re.findall(rf"{re.escape(live_server.url)}/b/\S+/", email.body)

    page.goto(link)
    expect(page.get_by_test_id("status")).to_have_text("Confirmed")
    page.get_by_role("link", name="Cancel booking").click()
    page.get_by_role("button", name="Yes, cancel my booking").click()
    expect(page.get_by_test_id("status")).to_have_text("Cancelled")
    assert Booking.objects.get().cancel_reason == CancelReason.CUSTOMER
