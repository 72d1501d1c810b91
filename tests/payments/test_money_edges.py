"""Edges where money could go missing or be taken short: a currency's smallest unit, confirming for
less than the price, fees after a reschedule, a charge cancelled while it was being started, a call
whose lease ran out."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from payments import services as payments_services
from payments.gateways.stripe_gateway import StripeGateway
from payments.ledger import claim_due_calls
from payments.models import GatewayCall, Payment
from payments.services import checkout_charge, gateway_calls_run, payment_refund, payment_succeeded
from scheduling.errors import InvalidInput
from scheduling.models import Booking, BookingStatus
from scheduling.services import booking_cancel, booking_expire_holds, booking_reschedule, service_update
from tests.factories import ServiceFactory, service_of
from tests.payments.conftest import book, paid_online_provider, run_gateway_calls
from tests.payments.test_reschedule_payments import paid_booking

pytestmark = pytest.mark.django_db


def test_a_late_fee_finer_than_its_currencys_unit_is_refused(db):
    provider = paid_online_provider(price="5000", currency="JPY", late_cancel_fee="100")
    with pytest.raises(InvalidInput) as refused:
        service_update(service=service_of(provider), late_cancel_fee=Decimal("100.50"))
    assert list(refused.value.fields) == ["late_cancel_fee"]


def test_a_staff_refund_finer_than_its_currencys_unit_is_refused(stripe_local):
    provider = paid_online_provider(price="5000", currency="JPY", late_cancel_fee="0")
    booking, _charge = paid_booking(provider, stripe_local)
    with pytest.raises(InvalidInput, match="JPY has no smaller unit"):
        payment_refund(booking_id=booking.pk, amount=Decimal("10.50"))


def test_a_fee_snapshot_finer_than_the_unit_is_kept_whole_so_the_refund_can_be_paid(stripe_local):
    provider = paid_online_provider(price="5000", currency="JPY", late_cancel_fee="100", free_cancel_hours=24 * 30)
    booking, _charge = paid_booking(provider, stripe_local)
    Booking.objects.filter(pk=booking.pk).update(late_cancel_fee=Decimal("100.50"))  # made before the check

    cancelled = booking_cancel(booking_id=booking.pk)
    run_gateway_calls()

    assert cancelled.refund_amount == Decimal("4900.00")
    assert Payment.objects.get(kind="refund").status == Payment.Status.SUCCEEDED


def test_a_late_payment_of_a_price_difference_alone_never_reinstates_the_booking(online_provider, stripe_local):
    booking, _first = paid_booking(online_provider, stripe_local)  # 120.00 paid
    dearer = ServiceFactory(providers=[online_provider], price="150.00", currency="EUR", payment_mode="online")
    moved = booking_reschedule(booking_id=booking.pk, start=booking.start_at + timedelta(hours=2), service_id=dearer.pk)
    difference = checkout_charge(booking=moved)
    Booking.objects.filter(pk=moved.pk).update(hold_expires_at=timezone.now())
    booking_expire_holds()  # the 120.00 is refunded, the 30.00 charge cancelled
    StripeGateway().pay(
        reference=difference.reference, card_token=stripe_local.card_token(), email="a@example.com", idempotency_key="d"
    )

    payment_succeeded(payment_id=difference.pk)

    moved.refresh_from_db()
    assert moved.status == BookingStatus.CANCELLED  # 30.00 of 150.00 would not pay for it
    refunds = sorted(Payment.objects.filter(kind="refund").values_list("amount", flat=True))
    assert refunds == [Decimal("30.00"), Decimal("120.00")]


def test_cancelling_a_paid_booking_moved_to_a_dearer_service_still_costs_the_late_fee(stripe_local):
    provider = paid_online_provider(late_cancel_fee="20.00", free_cancel_hours=24 * 30)
    booking, _charge = paid_booking(provider, stripe_local)  # inside the late window
    dearer = ServiceFactory(
        providers=[provider], price="150.00", currency="EUR", payment_mode="online", late_cancel_fee="20.00",
        free_cancel_hours=24 * 30,
    )  # fmt: skip
    moved = booking_reschedule(booking_id=booking.pk, start=booking.start_at + timedelta(hours=2), service_id=dearer.pk)
    assert moved.status == BookingStatus.PENDING  # the difference is owed

    cancelled = booking_cancel(booking_id=moved.pk)

    assert (cancelled.cancellation_fee, cancelled.refund_amount) == (Decimal("20.00"), Decimal("100.00"))


def test_a_charge_cancelled_while_its_intent_was_being_made_owes_the_gateway_a_cancellation(
    online_provider, stripe_local, monkeypatch
):
    booking = book(online_provider)
    start_charge = StripeGateway.start_charge

    def meanwhile_the_customer_gives_up(self, **kwargs):
        state = start_charge(self, **kwargs)
        booking_cancel(booking_id=booking.pk)
        return state

    monkeypatch.setattr(StripeGateway, "start_charge", meanwhile_the_customer_gives_up)
    charge = checkout_charge(booking=booking)

    assert charge.status == Payment.Status.CANCELLED and charge.reference.startswith("pi_")
    assert GatewayCall.objects.get(payment=charge).action == GatewayCall.Action.CANCEL_CHARGE
    run_gateway_calls()
    assert StripeGateway().charge_state(reference=charge.reference).status == "cancelled"


def test_a_call_claimed_again_after_its_lease_ran_out_is_left_to_the_new_claimant(stripe_local, monkeypatch):
    provider = paid_online_provider()
    booking, _charge = paid_booking(provider, stripe_local)
    booking_cancel(booking_id=booking.pk)
    [stale] = claim_due_calls(limit=10, lease=timedelta(seconds=0))  # this worker's lease runs out at once
    [fresh] = claim_due_calls(limit=10, lease=timedelta(minutes=5))  # another worker claims it again
    assert fresh.pk == stale.pk and fresh.attempts == stale.attempts + 1
    monkeypatch.setattr(payments_services.ledger, "claim_due_calls", lambda **kwargs: [stale])

    assert gateway_calls_run() == 0  # the stale claim does not make the call

    assert GatewayCall.objects.get(pk=stale.pk).status == GatewayCall.Status.PENDING
    assert not Payment.objects.filter(kind="refund", status=Payment.Status.SUCCEEDED).exists()
