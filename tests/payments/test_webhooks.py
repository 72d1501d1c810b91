"""The Stripe webhook endpoint: signed events settle a charge once; anything unsigned or unknown changes nothing."""

import time

import pytest

from notifications.models import Notification
from payments.gateways.stripe_gateway import StripeGateway
from payments.models import GatewayEvent, Payment
from payments.services import checkout_charge, payment_pay
from scheduling.models import BookingStatus
from tests.payments.conftest import book
from tests.payments.webhook_signing import WEBHOOK_URL, deliver, intent_event, signature

pytestmark = pytest.mark.django_db


def held_and_paid_at_the_gateway(provider, stripe_local):
    """A held booking whose customer has paid at Stripe, before any word of it has reached us."""
    booking = book(provider)
    charge = checkout_charge(booking=booking)
    state = StripeGateway().pay(
        reference=charge.reference, card_token=stripe_local.card_token(), email="alice@example.com", idempotency_key="k"
    )
    assert state.status == "succeeded"
    return booking, charge


def confirmations(booking) -> int:
    return Notification.objects.filter(booking=booking, kind=Notification.Kind.CONFIRMATION).count()


def test_payment_succeeded_confirms_the_held_booking(client, online_provider, stripe_local):
    booking, charge = held_and_paid_at_the_gateway(online_provider, stripe_local)

    response = deliver(client, intent_event("payment_intent.succeeded", charge.reference))

    assert response.status_code == 200 and response.content == b"processed"
    booking.refresh_from_db()
    charge.refresh_from_db()
    assert booking.status == BookingStatus.CONFIRMED
    assert charge.status == Payment.Status.SUCCEEDED
    assert confirmations(booking) == 1


def test_the_same_event_delivered_twice_confirms_once(client, online_provider, stripe_local):
    booking, charge = held_and_paid_at_the_gateway(online_provider, stripe_local)
    body = intent_event("payment_intent.succeeded", charge.reference, event_id="evt_twice")

    first, second = deliver(client, body), deliver(client, body)

    assert (first.content, second.content) == (b"processed", b"duplicate")
    assert second.status_code == 200
    assert GatewayEvent.objects.filter(event_id="evt_twice").count() == 1
    assert confirmations(booking) == 1


def test_a_bad_signature_is_refused_and_changes_nothing(client, online_provider, stripe_local):
    booking, charge = held_and_paid_at_the_gateway(online_provider, stripe_local)
    body = intent_event("payment_intent.succeeded", charge.reference)

    forged = deliver(client, body, sig=signature(body, secret="whsec_not_ours"))
    unsigned = client.post(WEBHOOK_URL, data=body, content_type="application/json")

    assert forged.status_code == 400 and unsigned.status_code == 400
    booking.refresh_from_db()
    charge.refresh_from_db()
    assert booking.status == BookingStatus.PENDING
    assert charge.status == Payment.Status.PENDING
    assert not GatewayEvent.objects.exists()
    assert confirmations(booking) == 0


def test_payment_failed_marks_the_charge_failed_and_keeps_the_hold(client, online_provider, stripe_local):
    booking = book(online_provider)
    charge = checkout_charge(booking=booking)

    response = deliver(
        client, intent_event("payment_intent.payment_failed", charge.reference, failure="Insufficient funds.")
    )

    assert response.status_code == 200 and response.content == b"processed"
    booking.refresh_from_db()
    charge.refresh_from_db()
    assert booking.status == BookingStatus.PENDING
    assert charge.status == Payment.Status.FAILED and charge.failure_reason == "Insufficient funds."


def test_an_event_for_an_unknown_intent_is_acknowledged_and_changes_nothing(client, online_provider, stripe_local):
    booking = book(online_provider)
    charge = checkout_charge(booking=booking)

    response = deliver(client, intent_event("payment_intent.succeeded", "pi_not_ours"))

    assert response.status_code == 200 and response.content == b"unknown payment"
    booking.refresh_from_db()
    charge.refresh_from_db()
    assert booking.status == BookingStatus.PENDING and charge.status == Payment.Status.PENDING


def test_a_failure_arriving_after_the_success_changes_nothing(client, online_provider, stripe_local):
    booking, charge = held_and_paid_at_the_gateway(online_provider, stripe_local)
    deliver(client, intent_event("payment_intent.succeeded", charge.reference))

    response = deliver(client, intent_event("payment_intent.payment_failed", charge.reference))

    assert response.status_code == 200
    booking.refresh_from_db()
    charge.refresh_from_db()
    assert booking.status == BookingStatus.CONFIRMED
    assert charge.status == Payment.Status.SUCCEEDED and charge.failure_reason == ""
    assert confirmations(booking) == 1


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_localstripes_own_delivery_of_the_success_is_recorded(live_server, online_provider, stripe_local):
    stripe_local.register_webhook(live_server.url + WEBHOOK_URL)
    booking = book(online_provider)
    charge = checkout_charge(booking=booking)

    payment_pay(payment_id=charge.pk, card_token=stripe_local.card_token())

    deadline = time.monotonic() + 10
    while not GatewayEvent.objects.filter(type="payment_intent.succeeded").exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    event = GatewayEvent.objects.filter(type="payment_intent.succeeded").first()
    assert event is not None, "localstripe's payment_intent.succeeded never reached the endpoint"
    assert event.event_id.startswith("evt_")
    booking.refresh_from_db()
    assert booking.status == BookingStatus.CONFIRMED
    assert confirmations(booking) == 1  # the page and the webhook both said so; confirmed once
