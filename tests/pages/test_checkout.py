"""The checkout step of a service paid online, against a real localstripe: the page, paying (good card,
declined card, after the hold ran out), giving the time up, and what the cancel page promises back."""

import json
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse
from django.utils import timezone

from payments.models import Payment
from payments.services import checkout_charge, payment_pay
from scheduling import manage_links
from scheduling.formatting import local_time
from scheduling.models import Booking, BookingStatus, CancelReason
from tests.pages.test_booking import post_booking
from tests.payments.conftest import DECLINED_CARD, GOOD_CARD, book, paid_online_provider
from tests.scheduling.conftest import future_slot
from tests.stripe_fixtures import free_port

pytestmark = pytest.mark.django_db

TOKYO = ZoneInfo("Asia/Tokyo")


@pytest.fixture
def shop(db, stripe_local):
    return paid_online_provider(name="Studio Nord", slug="studio-nord")


def checkout_of(client, provider, start=None):
    """Book through the form (a Tokyo customer); returns the booking and the form's answer."""
    response = post_booking(client, provider, start or future_slot())
    booking = Booking.objects.get(provider=provider, customer_email="kenji@example.com")
    return booking, response


def pay(client, booking, token):
    return client.post(
        reverse("pages:checkout_pay", args=[booking.reference]),
        data=json.dumps({"token": token}),
        content_type="application/json",
    )


def test_the_form_of_an_online_service_goes_to_the_checkout_with_the_amount_and_the_hold(client, shop):
    booking, response = checkout_of(client, shop)
    assert response.status_code == 302
    assert response["Location"] == reverse("pages:checkout", args=[booking.reference])

    page = client.get(response["Location"])
    html = page.content.decode()
    assert page.status_code == 200
    assert booking.status == BookingStatus.PENDING
    assert 'data-testid="amount">120.00 EUR<' in html
    held_until = booking.hold_expires_at.astimezone(TOKYO)
    assert f"Held for you until {held_until:%H:%M}." in html
    assert "pk_test_localstripe" in html and "/js.stripe.com/v3/" in html
    assert "Confirmed" not in html and "You're booked" not in html


def test_the_confirmation_page_of_a_booking_awaiting_payment_shows_the_checkout(client, shop):
    booking, _response = checkout_of(client, shop)
    response = client.get(reverse("pages:confirmation", args=[booking.reference]), follow=True)
    html = response.content.decode()
    assert response.redirect_chain[-1][0] == reverse("pages:checkout", args=[booking.reference])
    assert "Pay to confirm your booking" in html and "Your booking is confirmed." not in html


def test_paying_with_a_good_card_answers_succeeded_and_confirms(client, shop, stripe_local):
    booking, _response = checkout_of(client, shop)
    response = pay(client, booking, stripe_local.card_token(GOOD_CARD))
    booking.refresh_from_db()
    assert response.status_code == 200
    assert response.json()["status"] == "succeeded"
    assert response.json()["redirect"] == reverse("pages:confirmation", args=[booking.reference])
    assert booking.status == BookingStatus.CONFIRMED


def test_a_declined_card_answers_402_with_a_message_and_keeps_the_booking_held(client, shop, stripe_local):
    booking, _response = checkout_of(client, shop)
    response = pay(client, booking, stripe_local.card_token(DECLINED_CARD))
    booking.refresh_from_db()
    assert response.status_code == 402
    assert response.json()["status"] == "declined"
    assert "declined" in response.json()["message"]
    assert booking.status == BookingStatus.PENDING
    # The checkout stays open for another card.
    assert "data-checkout-form" in client.get(reverse("pages:checkout", args=[booking.reference])).content.decode()


def test_paying_after_the_hold_ran_out_is_refused_with_the_way_to_choose_again(client, shop, stripe_local):
    booking, _response = checkout_of(client, shop)
    Booking.objects.filter(pk=booking.pk).update(hold_expires_at=timezone.now() - timedelta(seconds=1))
    response = pay(client, booking, stripe_local.card_token(GOOD_CARD))
    booking.refresh_from_db()
    assert response.status_code == 409
    assert response.json()["status"] == "refused"
    assert "run out" in response.json()["message"]
    assert client.get(response.json()["again_url"]).status_code == 200  # the page to choose a time again
    assert booking.status == BookingStatus.PENDING
    assert not booking.payments.filter(status=Payment.Status.SUCCEEDED).exists()


def test_the_pay_endpoint_needs_the_checkout_cookie(client, shop, stripe_local):
    booking = book(shop)
    response = pay(client, booking, stripe_local.card_token(GOOD_CARD))
    booking.refresh_from_db()
    assert response.status_code == 404
    assert booking.status == BookingStatus.PENDING


def test_cancelling_at_the_checkout_frees_the_time_and_refunds_nothing(client, shop):
    start = future_slot()
    booking, _response = checkout_of(client, shop, start)
    response = client.post(reverse("pages:checkout_cancel", args=[booking.reference]), follow=True)
    booking.refresh_from_db()
    assert booking.status == BookingStatus.CANCELLED
    assert booking.cancel_reason == CancelReason.CUSTOMER
    assert booking.refund_amount == 0
    assert "Nothing was charged" in response.content.decode()
    assert not booking.payments.filter(kind=Payment.Kind.REFUND).exists()
    assert book(shop, start).status == BookingStatus.PENDING  # the time is free for the next customer


def test_the_confirmation_page_of_a_paid_booking_says_confirmed(client, shop, stripe_local):
    booking, _response = checkout_of(client, shop)
    pay(client, booking, stripe_local.card_token(GOOD_CARD))
    response = client.get(reverse("pages:confirmation", args=[booking.reference]))
    html = response.content.decode()
    assert response.status_code == 200
    assert "Your booking is confirmed." in html
    assert "Pay to confirm" not in html


def test_the_manage_page_of_a_booking_awaiting_payment_shows_what_is_due_and_pays_through_the_checkout(client, shop):
    booking = book(shop)
    path = manage_links.manage_path(booking)
    token = path.rstrip("/").rsplit("/", 1)[-1]
    html = client.get(path).content.decode()
    held_until = local_time(booking.hold_expires_at, "Europe/Berlin", with_date=False).split(" ")[0]
    assert f"Payment due: 120.00 EUR — held until {held_until}." in html
    response = client.post(reverse("pages:pay_now", args=[booking.reference]), {"token": token})
    assert response.status_code == 302
    assert response["Location"] == reverse("pages:checkout", args=[booking.reference])
    assert token not in response["Location"]
    assert client.get(response["Location"]).status_code == 200  # the cookie opens the checkout


def test_the_cancel_page_of_an_unpaid_priced_booking_promises_no_refund(client, shop):
    booking = book(shop)
    html = client.get(f"{manage_links.manage_path(booking)}cancel/").content.decode()
    assert "refunded" not in html


def test_the_cancel_page_of_a_paid_booking_states_what_was_paid_less_the_fee(client, shop, stripe_local):
    # Starts in a few hours, past the 24-hour free cancellation: the 20.00 EUR late fee applies now.
    soon = (timezone.now() + timedelta(hours=4)).replace(minute=0, second=0, microsecond=0)
    booking = book(shop, soon)
    charge = checkout_charge(booking=booking)
    payment_pay(payment_id=charge.pk, card_token=stripe_local.card_token(GOOD_CARD))
    html = client.get(f"{manage_links.manage_path(booking)}cancel/").content.decode()
    assert "A late cancellation fee of 20.00 EUR applies." in html
    assert "You will be refunded 100.00 EUR." in html


def test_giving_up_at_the_checkout_within_the_late_window_records_no_late_fee(client, db, stripe_local):
    shop = paid_online_provider(name="Late Studio", slug="late-studio", free_cancel_hours=24 * 30)
    booking, _response = checkout_of(client, shop)  # three days ahead: inside the 30-day late window

    client.post(reverse("pages:checkout_cancel", args=[booking.reference]))

    booking.refresh_from_db()
    assert (booking.status, booking.cancellation_fee) == (BookingStatus.CANCELLED, 0)


def test_a_gateway_that_is_down_answers_503_and_keeps_the_time_held(client, shop, stripe_local, settings):
    booking, _response = checkout_of(client, shop)
    settings.STRIPE_API_BASE = f"http://127.0.0.1:{free_port()}"  # nothing listens there

    response = pay(client, booking, "tok_unused")

    booking.refresh_from_db()
    assert response.status_code == 503
    assert booking.status == BookingStatus.PENDING
    held_until = booking.hold_expires_at.astimezone(TOKYO)
    assert f"{held_until:%H:%M}" in response.json()["message"]
