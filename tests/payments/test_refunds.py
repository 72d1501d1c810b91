"""Cancelling refunds by the booking's policy snapshot, and amounts reach Stripe in the currency's minor units."""

from datetime import timedelta
from decimal import Decimal

import pytest
import stripe
from django.conf import settings
from django.utils import timezone

from payments.gateways import gateway_for
from payments.models import GatewayCall, Payment
from payments.services import checkout_charge, payment_mark_paid, payment_pay, payment_refund
from scheduling.models import Booking, BookingStatus, CancelReason
from scheduling.services import booking_cancel
from tests.payments.conftest import book, paid_online_provider, run_gateway_calls

pytestmark = pytest.mark.django_db


def stripe_client() -> stripe.StripeClient:
    return stripe.StripeClient(settings.STRIPE_SECRET_KEY, base_addresses={"api": settings.STRIPE_API_BASE})


def paid_booking(provider, stripe_local) -> tuple[Booking, Payment]:
    booking = book(provider)
    charge = checkout_charge(booking=booking)
    payment_pay(payment_id=charge.pk, card_token=stripe_local.card_token())
    booking.refresh_from_db()
    assert booking.status == BookingStatus.CONFIRMED
    return booking, charge


def past_free_cancel_deadline(booking: Booking) -> None:
    Booking.objects.filter(pk=booking.pk).update(free_cancel_until=timezone.now() - timedelta(minutes=1))


def refund_rows(booking: Booking) -> list[Decimal]:
    return list(Payment.objects.filter(booking=booking, kind=Payment.Kind.REFUND).values_list("amount", flat=True))


def test_cancelling_before_the_free_cancel_deadline_refunds_in_full(online_provider, stripe_local):
    booking, _ = paid_booking(online_provider, stripe_local)

    cancelled = booking_cancel(booking_id=booking.pk)

    assert cancelled.refund_amount == Decimal("120.00") and cancelled.cancellation_fee == 0
    assert refund_rows(booking) == [Decimal("120.00")]


def test_cancelling_after_the_deadline_refunds_the_price_less_the_fee(online_provider, stripe_local):
    booking, _ = paid_booking(online_provider, stripe_local)
    past_free_cancel_deadline(booking)

    cancelled = booking_cancel(booking_id=booking.pk)

    assert cancelled.cancellation_fee == Decimal("20.00") and cancelled.refund_amount == Decimal("100.00")
    assert refund_rows(booking) == [Decimal("100.00")]


def test_the_provider_cancelling_after_the_deadline_refunds_in_full(online_provider, stripe_local):
    booking, _ = paid_booking(online_provider, stripe_local)
    past_free_cancel_deadline(booking)

    cancelled = booking_cancel(booking_id=booking.pk, reason=CancelReason.PROVIDER)

    assert cancelled.cancellation_fee == 0 and cancelled.refund_amount == Decimal("120.00")
    assert refund_rows(booking) == [Decimal("120.00")]


def test_the_refund_reaches_stripe_in_minor_units_once_the_worker_runs(online_provider, stripe_local):
    booking, charge = paid_booking(online_provider, stripe_local)
    past_free_cancel_deadline(booking)
    booking_cancel(booking_id=booking.pk)

    assert run_gateway_calls() == 1

    refund = Payment.objects.get(booking=booking, kind=Payment.Kind.REFUND)
    assert refund.status == Payment.Status.SUCCEEDED
    [at_gateway] = stripe_client().v1.refunds.list(params={"payment_intent": charge.reference}).data
    assert (at_gateway.id, at_gateway.amount, at_gateway.currency) == (refund.reference, 10000, "eur")


def test_a_second_partial_refund_of_the_same_charge_reaches_stripe_too(online_provider, stripe_local):
    booking, charge = paid_booking(online_provider, stripe_local)
    payment_refund(booking_id=booking.pk, amount=Decimal("30.00"))
    assert run_gateway_calls() == 1

    payment_refund(booking_id=booking.pk, amount=Decimal("20.00"))  # Stripe now lists a refund of ours first
    assert run_gateway_calls() == 1

    amounts = sorted(r.amount for r in stripe_client().v1.refunds.list(params={"payment_intent": charge.reference}))
    assert amounts == [2000, 3000]
    assert not GatewayCall.objects.filter(status=GatewayCall.Status.PENDING).exists()


def test_a_booking_never_paid_refunds_nothing_and_its_intent_is_cancelled_at_stripe(online_provider, stripe_local):
    booking = book(online_provider)
    charge = checkout_charge(booking=booking)

    cancelled = booking_cancel(booking_id=booking.pk)
    run_gateway_calls()

    charge.refresh_from_db()
    assert cancelled.refund_amount == 0 and refund_rows(booking) == []
    assert charge.status == Payment.Status.CANCELLED
    assert GatewayCall.objects.get(payment=charge, action=GatewayCall.Action.CANCEL_CHARGE).status == "done"
    assert gateway_for("stripe").charge_state(reference=charge.reference).status == "cancelled"


def test_a_charge_paid_at_the_venue_is_refunded_on_cancellation(db):
    provider = paid_online_provider(payment_mode="at_venue")
    booking = book(provider)
    charge = booking.payments.get()
    payment_mark_paid(payment_id=charge.pk)

    cancelled = booking_cancel(booking_id=booking.pk)
    run_gateway_calls()

    assert cancelled.refund_amount == Decimal("120.00")
    refund = Payment.objects.get(booking=booking, kind=Payment.Kind.REFUND)
    assert (refund.gateway, refund.refund_of_id, refund.status) == ("at_venue", charge.pk, Payment.Status.SUCCEEDED)


@pytest.mark.parametrize(
    ("price", "currency", "minor"), [("5000", "JPY", 5000), ("12.50", "EUR", 1250)], ids=["JPY", "EUR"]
)
def test_the_payment_intent_is_in_the_currencys_minor_units(stripe_local, price, currency, minor):
    provider = paid_online_provider(price=price, currency=currency, late_cancel_fee="0")
    charge = checkout_charge(booking=book(provider))

    intent = stripe_client().v1.payment_intents.retrieve(charge.reference)

    assert (intent.amount, intent.currency) == (minor, currency.lower())
