"""The waitlist in Chromium: a full day, joining from the page on a phone, the slot freed by another
customer's cancellation, the offer email's accept link, the booking confirmed."""

import re

import pytest
from playwright.sync_api import expect

from scheduling.models import Booking, BookingStatus
from scheduling.services import booking_cancel
from tests.e2e.conftest import screenshot
from tests.factories import service_of
from tests.waitlist.conftest import DAN, book, day_ahead, one_slot_a_day_provider
from waitlist.dispatch import messages_dispatch
from waitlist.models import EntryStatus, WaitlistEntry
from waitlist.services import offers_make

pytestmark = pytest.mark.django_db(transaction=True)

PHONE = {"viewport": {"width": 390, "height": 844}, "timezone_id": "Asia/Tokyo", "is_mobile": True}


def test_joining_from_a_full_day_and_accepting_the_offer_from_the_email(
    browser_context, live_server, settings, mailoutbox
):
    settings.SITE_URL = live_server.url
    provider = one_slot_a_day_provider(name="Kaito Clinic", slug="kaito")
    start = day_ahead()
    dans = book(provider, DAN, start)
    service = service_of(provider)
    day = start.date().isoformat()

    page = browser_context(**PHONE).new_page()
    page.goto(f"{live_server.url}/s/{service.slug}/?week={day}")
    # The page script switches to the browser's zone (Tokyo): the 19:00 slot is on the same date there.
    page.locator(f'[data-day="{day}"] [data-testid="join-day"]').click()
    expect(page.get_by_label("From day")).to_have_value(day)
    page.get_by_label("Your name").fill("Kenji Sato")
    page.get_by_label("Email").fill("kenji@example.com")
    screenshot(page, "waitlist-join-form-phone")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390  # nothing wider than the phone
    page.get_by_role("button", name="Join the waitlist").click()
    expect(page.get_by_test_id("joined")).to_have_text("You are number 1 in line.")
    screenshot(page, "waitlist-joined-phone")
    entry = WaitlistEntry.objects.get()
    assert entry.window_start <= start < entry.window_end

    booking_cancel(booking_id=dans.pk)  # the customer holding the day's one slot lets it go
    assert offers_make(service_id=service.pk) == 1
    mailoutbox.clear()
    messages_dispatch()
    [offer] = [m for m in mailoutbox if m.subject.startswith("A time is held for you")]
    assert offer.to == ["kenji@example.com"] and "JST (Asia/Tokyo)" in offer.body
    [accept] = re.findall(rf"{re.escape(live_server.url)}/w/\S+/accept/", offer.body)

    page.goto(accept)
    expect(page.get_by_test_id("offered-time")).to_contain_text("JST (Asia/Tokyo)")
    screenshot(page, "waitlist-accept-phone")
    page.get_by_role("button", name="Accept this time").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("You're booked")
    screenshot(page, "waitlist-booked-phone")
    entry.refresh_from_db()
    booking = Booking.objects.get(pk=entry.offer_booking_id)
    assert entry.status == EntryStatus.BOOKED and booking.status == BookingStatus.CONFIRMED
    assert booking.start_at == start
