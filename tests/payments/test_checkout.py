"""Paying for a held booking: the charge starts after the hold, success confirms, a decline keeps the hold."""

from decimal import Decimal

import pytest
from django.utils import timezone

from notifications.models import Notification, Reminder
from payments.gateways import gateway_for
from payments.models import Payment
from payments.services import PaymentDeclined, checkout_charge, payment_pay, payment_refresh, payment_succeeded
from scheduling.errors import InvalidTransition
from scheduling.models import Booking, BookingStatus
from scheduling.services import booking_expire_holds
from tests.payments.conftest import DECLINED_CARD, book, run_gateway_calls
from tests.stripe_fixtures import PUBLISHABLE_KEY, post_form

pytestmark = pytest.mark.django_db


def test_booking_an_online_service_holds_it_pending_with_a_charge_not_yet_started(online_provider):
    booking = book(online_provider)
    booking.refresh_from_db()
    charge = booking.payments.get()
    assert booking.status == BookingStatus.PENDING
    assert (charge.kind, charge.status, charge.amount, charge.currency) == (
        "charge",
        "pending",
        Decimal("120.00"),
        "EUR",
    )
    assert charge.reference == ""
    assert not Notification.objects.filter(booking=booking).exists()  # nothing to tell until it is paid


def test_checkout_starts_one_payment_intent_in_minor_units(online_provider, stripe_local):
    booking = book(online_provider)
    charge = checkout_charge(booking=booking)
    again = checkout_charge(booking=booking)
    assert charge.reference.startswith("pi_") and again.reference == charge.reference
    assert charge.client_secret.startswith(charge.reference + "_secret_")
    intent = gateway_for("stripe").charge_state(reference=charge.reference)
    assert intent.status == "requires_payment"


def test_paying_with_a_good_card_confirms_the_booking_and_schedules_its_reminders(online_provider, stripe_local):
    booking = book(online_provider)
    charge = checkout_charge(booking=booking)
    outcome = payment_pay(payment_id=charge.pk, card_token=stripe_local.card_token())
    booking.refresh_from_db()
    charge.refresh_from_db()
    assert outcome.status == "succeeded"
    assert charge.status == Payment.Status.SUCCEEDED and charge.succeeded_at is not None
    assert booking.status == BookingStatus.CONFIRMED
    assert Reminder.objects.filter(booking=booking).exists()
    assert Notification.objects.filter(booking=booking, kind="confirmation").exists()


def test_a_declined_card_fails_the_attempt_and_keeps_the_slot_held(online_provider, stripe_local):
    booking = book(online_provider)
    charge = checkout_charge(booking=booking)
    with pytest.raises(PaymentDeclined, match="declined"):
        payment_pay(payment_id=charge.pk, card_token=stripe_local.card_token(DECLINED_CARD))
    booking.refresh_from_db()
    charge.refresh_from_db()
    assert booking.status == BookingStatus.PENDING
    assert charge.status == Payment.Status.FAILED and "declined" in charge.failure_reason


def test_a_retry_with_a_good_card_inside_the_hold_confirms(online_provider, stripe_local):
    booking = book(online_provider)
    charge = checkout_charge(booking=booking)
    with pytest.raises(PaymentDeclined):
        payment_pay(payment_id=charge.pk, card_token=stripe_local.card_token(DECLINED_CARD))
    payment_pay(payment_id=charge.pk, card_token=stripe_local.card_token())
    booking.refresh_from_db()
    assert booking.status == BookingStatus.CONFIRMED
    assert booking.payments.get().status == Payment.Status.SUCCEEDED


def test_paying_after_the_hold_ran_out_is_refused_before_any_money_moves(online_provider, stripe_local):
    booking = book(online_provider)
    charge = checkout_charge(booking=booking)
    Booking.objects.filter(pk=booking.pk).update(hold_expires_at=timezone.now())
    with pytest.raises(InvalidTransition, match="run out"):
        payment_pay(payment_id=charge.pk, card_token=stripe_local.card_token())
    assert gateway_for("stripe").charge_state(reference=charge.reference).status == "requires_payment"


def test_a_second_charge_paid_for_a_booking_already_paid_is_refunded(online_provider, stripe_local):
    booking = book(online_provider)
    first = checkout_charge(booking=booking)
    payment_pay(payment_id=first.pk, card_token=stripe_local.card_token())
    stray = Payment.objects.create(
        booking=booking, kind="charge", amount=Decimal("120.00"), currency="EUR", gateway="stripe"
    )
    started = gateway_for("stripe").start_charge(
        amount=stray.amount, currency="EUR", idempotency_key=f"stray-{stray.pk}", metadata={}
    )
    Payment.objects.filter(pk=stray.pk).update(reference=started.reference)
    gateway_for("stripe").pay(
        reference=started.reference, card_token=stripe_local.card_token(), email="a@example.com", idempotency_key="x"
    )

    payment_succeeded(payment_id=stray.pk)

    refund = booking.payments.get(kind="refund")
    assert (refund.amount, refund.refund_of_id, refund.reason) == (Decimal("120.00"), stray.pk, "late_payment")


def test_a_hold_that_runs_out_after_a_declined_card_is_cancelled_as_payment_failed_and_its_intent_cancelled(
    online_provider, stripe_local
):
    booking = book(online_provider)
    charge = checkout_charge(booking=booking)
    with pytest.raises(PaymentDeclined):
        payment_pay(payment_id=charge.pk, card_token=stripe_local.card_token(DECLINED_CARD))
    Booking.objects.filter(pk=booking.pk).update(hold_expires_at=timezone.now())

    assert booking_expire_holds() == 1
    run_gateway_calls()

    booking.refresh_from_db()
    charge.refresh_from_db()
    assert (booking.status, booking.cancel_reason, booking.refund_amount) == ("cancelled", "payment_failed", 0)
    assert charge.status == Payment.Status.CANCELLED
    assert gateway_for("stripe").charge_state(reference=charge.reference).status == "cancelled"
    assert Notification.objects.filter(booking=booking, kind="cancellation").exists()
    assert not booking.payments.filter(kind="refund").exists()


def test_a_hold_that_runs_out_without_any_attempt_is_cancelled_as_expired(online_provider, stripe_local):
    booking = book(online_provider)
    checkout_charge(booking=booking)
    Booking.objects.filter(pk=booking.pk).update(hold_expires_at=timezone.now())

    booking_expire_holds()

    booking.refresh_from_db()
    assert booking.cancel_reason == "expired"


THREE_D_SECURE_CARD = "4000002500003155"


def test_a_card_needing_3d_secure_confirms_once_the_bank_check_passes_and_the_page_returns(
    online_provider, stripe_local
):
    booking = book(online_provider)
    charge = checkout_charge(booking=booking)
    outcome = payment_pay(payment_id=charge.pk, card_token=stripe_local.card_token(THREE_D_SECURE_CARD))
    assert outcome.status == "requires_action" and outcome.client_secret == charge.client_secret
    booking.refresh_from_db()
    assert booking.status == BookingStatus.PENDING

    # What Stripe.js's confirmCardPayment does in the page once the customer passes the bank's check.
    post_form(
        f"{stripe_local.base_url}/v1/payment_intents/{charge.reference}/_authenticate?success=true",
        {"key": PUBLISHABLE_KEY, "client_secret": outcome.client_secret},
    )
    payment_refresh(payment_id=charge.pk)

    booking.refresh_from_db()
    assert booking.status == BookingStatus.CONFIRMED
    assert booking.payments.get().status == Payment.Status.SUCCEEDED
