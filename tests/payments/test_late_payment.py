"""A success that arrives after the hold ran out: the same slot back if it is still free, else a full refund."""

import pytest
import stripe
from django.conf import settings
from django.utils import timezone

from notifications.models import Notification
from payments import services as payments_services
from payments.gateways.stripe_gateway import StripeGateway
from payments.models import GatewayCall, Payment
from payments.services import checkout_charge, payment_succeeded
from scheduling.models import Booking, BookingStatus, CancelReason
from scheduling.services import booking_expire_holds
from tests.payments.conftest import BOB, book, run_gateway_calls
from tests.payments.webhook_signing import deliver, intent_event

pytestmark = pytest.mark.django_db


def stripe_client() -> stripe.StripeClient:
    return stripe.StripeClient(settings.STRIPE_SECRET_KEY, base_addresses={"api": settings.STRIPE_API_BASE})


def refunds_at_gateway(reference: str) -> list:
    return stripe_client().v1.refunds.list(params={"payment_intent": reference}).data


def expired_hold_paid_at_the_gateway(provider, stripe_local):
    """A held booking cancelled by its hold running out, whose customer paid at Stripe all the same
    (the page's answer lost); the worker has not yet cancelled the charge at the gateway."""
    booking = book(provider)
    charge = checkout_charge(booking=booking)
    Booking.objects.filter(pk=booking.pk).update(hold_expires_at=timezone.now())
    assert booking_expire_holds() == 1
    booking.refresh_from_db()
    charge.refresh_from_db()
    assert (booking.status, booking.cancel_reason) == (BookingStatus.CANCELLED, CancelReason.EXPIRED)
    assert charge.status == Payment.Status.CANCELLED
    assert GatewayCall.objects.get(payment=charge).action == GatewayCall.Action.CANCEL_CHARGE
    state = StripeGateway().pay(
        reference=charge.reference, card_token=stripe_local.card_token(), email="alice@example.com", idempotency_key="k"
    )
    assert state.status == "succeeded"
    return booking, charge


def kinds(booking) -> list[str]:
    return list(Notification.objects.filter(booking=booking).values_list("kind", flat=True))


def test_a_late_success_with_the_slot_still_free_reinstates_and_confirms_the_booking(online_provider, stripe_local):
    booking, charge = expired_hold_paid_at_the_gateway(online_provider, stripe_local)
    reference = booking.reference

    payment_succeeded(payment_id=charge.pk)
    run_gateway_calls()  # the owed cancellation finds the intent paid: nothing more to do

    booking.refresh_from_db()
    charge.refresh_from_db()
    assert booking.status == BookingStatus.CONFIRMED and booking.reference == reference
    assert charge.status == Payment.Status.SUCCEEDED
    assert kinds(booking).count(Notification.Kind.CONFIRMATION) == 1
    assert Notification.Kind.PAYMENT_REFUNDED not in kinds(booking)
    assert not Payment.objects.filter(kind=Payment.Kind.REFUND).exists()
    assert refunds_at_gateway(charge.reference) == []


def test_a_late_success_by_webhook_reinstates_the_booking(client, online_provider, stripe_local):
    booking, charge = expired_hold_paid_at_the_gateway(online_provider, stripe_local)

    response = deliver(client, intent_event("payment_intent.succeeded", charge.reference))

    assert response.status_code == 200
    booking.refresh_from_db()
    assert booking.status == BookingStatus.CONFIRMED


def test_a_late_success_after_someone_else_took_the_slot_is_refunded_in_full(online_provider, stripe_local):
    booking, charge = expired_hold_paid_at_the_gateway(online_provider, stripe_local)
    other = book(online_provider, start=booking.start_at, customer=BOB)

    payment_succeeded(payment_id=charge.pk)

    booking.refresh_from_db()
    assert booking.status == BookingStatus.CANCELLED
    refund = Payment.objects.get(kind=Payment.Kind.REFUND)
    assert (refund.booking_id, refund.refund_of_id, refund.amount, refund.reason) == (
        booking.pk,
        charge.pk,
        charge.amount,
        Payment.Reason.LATE_PAYMENT,
    )
    assert Notification.objects.filter(booking=booking, kind=Notification.Kind.PAYMENT_REFUNDED).count() == 1
    assert Booking.objects.get(pk=other.pk).status == BookingStatus.PENDING  # the new customer keeps the slot

    run_gateway_calls()

    refund.refresh_from_db()
    assert refund.status == Payment.Status.SUCCEEDED and refund.reference.startswith("re_")
    [at_gateway] = refunds_at_gateway(charge.reference)
    assert (at_gateway.id, at_gateway.amount) == (refund.reference, 12000)


def test_the_owed_cancellation_finding_the_charge_paid_reinstates_a_free_slot(online_provider, stripe_local):
    booking, charge = expired_hold_paid_at_the_gateway(online_provider, stripe_local)

    run_gateway_calls()  # no webhook, no page: only the worker's cancel_charge learns of the payment

    booking.refresh_from_db()
    charge.refresh_from_db()
    assert booking.status == BookingStatus.CONFIRMED
    assert charge.status == Payment.Status.SUCCEEDED
    assert GatewayCall.objects.get(payment=charge).status == GatewayCall.Status.DONE
    assert not Payment.objects.filter(kind=Payment.Kind.REFUND).exists()


def test_the_owed_cancellation_finding_the_charge_paid_refunds_when_the_slot_is_taken(online_provider, stripe_local):
    booking, charge = expired_hold_paid_at_the_gateway(online_provider, stripe_local)
    book(online_provider, start=booking.start_at, customer=BOB)

    run_gateway_calls()  # cancel_charge finds it paid: refund owed
    run_gateway_calls()  # the refund itself (a worker kicked on that commit)

    booking.refresh_from_db()
    assert booking.status == BookingStatus.CANCELLED
    refund = Payment.objects.get(kind=Payment.Kind.REFUND)
    assert (refund.reason, refund.status) == (Payment.Reason.LATE_PAYMENT, Payment.Status.SUCCEEDED)
    assert [r.amount for r in refunds_at_gateway(charge.reference)] == [12000]
    assert Notification.objects.filter(booking=booking, kind=Notification.Kind.PAYMENT_REFUNDED).exists()


def test_a_crash_while_settling_what_the_owed_cancellation_found_leaves_the_call_due_until_settled(
    online_provider, stripe_local, monkeypatch
):
    booking, charge = expired_hold_paid_at_the_gateway(online_provider, stripe_local)
    settle = payments_services.payment_succeeded

    def dies_once(**kwargs):
        monkeypatch.setattr(payments_services, "payment_succeeded", settle)
        raise RuntimeError("worker killed while settling")

    monkeypatch.setattr(payments_services, "payment_succeeded", dies_once)
    run_gateway_calls()
    call = GatewayCall.objects.get(payment=charge)
    assert call.status == GatewayCall.Status.PENDING  # not done: the payment is not settled yet
    GatewayCall.objects.filter(pk=call.pk).update(next_attempt_at=timezone.now())

    run_gateway_calls()

    booking.refresh_from_db()
    assert booking.status == BookingStatus.CONFIRMED
    assert GatewayCall.objects.get(payment=charge).status == GatewayCall.Status.DONE
