"""Paying on the checkout page in headless Chromium, against the live server and a real localstripe
(its fake Stripe.js, served from its own port, draws plain inputs in place of Stripe's card iframe)."""

import re

import pytest
from playwright.sync_api import expect

from scheduling.models import Booking, BookingStatus
from tests.e2e.conftest import screenshot
from tests.e2e.test_customer_pages import book_url, fill_details
from tests.payments.conftest import DECLINED_CARD, GOOD_CARD, paid_online_provider
from tests.scheduling.conftest import future_slot

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def shop(stripe_local):
    return paid_online_provider(name="Studio Nord", slug="studio-nord")


def to_checkout(page, live_server, provider):
    page.goto(book_url(live_server, provider, future_slot()))
    fill_details(page)
    page.get_by_role("button", name=re.compile("Book this time|Request this time")).click()
    expect(page.get_by_test_id("amount")).to_have_text("120.00 EUR")
    expect(page.get_by_test_id("hold-note")).to_contain_text("Held for you until")


def pay_with(page, number: str):
    card = page.get_by_test_id("card-element")
    card.get_by_placeholder("number", exact=True).fill(number)
    card.get_by_placeholder("exp_month", exact=True).fill("12")
    card.get_by_placeholder("exp_year", exact=True).fill("34")
    card.get_by_placeholder("cvc", exact=True).fill("123")
    card.get_by_placeholder("postal_code", exact=True).fill("10115")
    page.get_by_test_id("pay-button").click()


def test_paying_with_the_test_card_confirms_the_booking(page, live_server, shop):
    to_checkout(page, live_server, shop)
    expect(page.locator("[data-countdown]")).to_contain_text("Time left to pay:")
    screenshot(page, "checkout")
    pay_with(page, GOOD_CARD)
    expect(page.get_by_role("heading", name="You're booked")).to_be_visible()
    expect(page.get_by_test_id("status")).to_have_text("Confirmed")
    screenshot(page, "checkout-paid-confirmation")
    assert Booking.objects.get(provider=shop).status == BookingStatus.CONFIRMED


def test_a_declined_card_shows_why_and_a_good_one_then_pays_in_the_same_hold(browser_context, live_server, shop):
    page = browser_context(viewport={"width": 375, "height": 740}).new_page()
    to_checkout(page, live_server, shop)
    screenshot(page, "checkout-phone")
    pay_with(page, DECLINED_CARD)
    expect(page.get_by_test_id("pay-error")).to_contain_text("Your card was declined")
    expect(page.get_by_test_id("pay-button")).to_be_enabled()
    screenshot(page, "checkout-phone-declined")
    booking = Booking.objects.get(provider=shop)
    assert booking.status == BookingStatus.PENDING

    pay_with(page, GOOD_CARD)
    expect(page.get_by_role("heading", name="You're booked")).to_be_visible()
    expect(page.get_by_test_id("reference")).to_have_text(booking.reference)  # the same booking, not a new one
    booking.refresh_from_db()
    assert booking.status == BookingStatus.CONFIRMED
