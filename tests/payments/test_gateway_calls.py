"""The gateway calls owed after a cancellation: a process that dies between the commit and the call loses
no refund and never refunds twice; a gateway that is down delays the money, never the cancellation."""

import time

import pytest
import stripe
from django.conf import settings
from django.utils import timezone

from payments import services
from payments.models import GatewayCall, Payment
from payments.services import checkout_charge, gateway_calls_run, payment_pay
from scheduling.models import BookingStatus
from scheduling.services import booking_cancel
from tests.concurrency import run_concurrently
from tests.payments.conftest import book, paid_online_provider, run_gateway_calls
from tests.scheduling.conftest import future_slot
from tests.stripe_fixtures import free_port


class Died(BaseException):
    """The process ending mid-call (a SIGKILL, an OOM): nothing of ours catches it."""


def stripe_client() -> stripe.StripeClient:
    return stripe.StripeClient(settings.STRIPE_SECRET_KEY, base_addresses={"api": settings.STRIPE_API_BASE})


def refunds_at_gateway(reference: str) -> list:
    return stripe_client().v1.refunds.list(params={"payment_intent": reference}).data


def cancelled_after_paying(provider, stripe_local, *, start=None) -> tuple[Payment, GatewayCall]:
    """A paid booking cancelled by its customer: a full refund owed, its gateway call not yet made."""
    booking = book(provider, start=start)
    charge = checkout_charge(booking=booking)
    payment_pay(payment_id=charge.pk, card_token=stripe_local.card_token())
    booking_cancel(booking_id=booking.pk)
    call = GatewayCall.objects.get(payment__refund_of=charge, action=GatewayCall.Action.REFUND)
    assert call.status == GatewayCall.Status.PENDING
    return charge, call


@pytest.mark.django_db
def test_running_the_owed_calls_twice_refunds_once(online_provider, stripe_local):
    charge, call = cancelled_after_paying(online_provider, stripe_local)

    assert run_gateway_calls() == 1
    assert run_gateway_calls() == 0

    call.refresh_from_db()
    assert call.status == GatewayCall.Status.DONE and call.attempts == 1
    assert [r.amount for r in refunds_at_gateway(charge.reference)] == [12000]


@pytest.mark.django_db
def test_dying_after_the_gateway_refunded_retries_to_the_same_refund(online_provider, stripe_local, monkeypatch):
    settings.PAYMENTS_CLAIM_LEASE_SECONDS = 1  # restored by the settings fixture through stripe_local
    charge, call = cancelled_after_paying(online_provider, stripe_local)
    record = services._record_call

    def die_once(*args, **kwargs):
        monkeypatch.setattr(services, "_record_call", record)
        raise Died

    monkeypatch.setattr(services, "_record_call", die_once)
    with pytest.raises(Died):
        run_gateway_calls()  # Stripe has refunded; our record of it never committed
    [made] = refunds_at_gateway(charge.reference)
    refund = Payment.objects.get(pk=call.payment_id)
    assert refund.status == Payment.Status.PENDING and refund.reference == ""
    assert run_gateway_calls() == 0  # the dead worker's lease still holds the call

    time.sleep(1.2)
    assert run_gateway_calls() == 1

    refund.refresh_from_db()
    call.refresh_from_db()
    assert refund.status == Payment.Status.SUCCEEDED and refund.reference == made.id
    assert call.status == GatewayCall.Status.DONE and call.attempts == 2
    assert [r.id for r in refunds_at_gateway(charge.reference)] == [made.id]


@pytest.mark.django_db
def test_a_gateway_that_is_down_delays_the_refund_never_the_cancellation(online_provider, stripe_local):
    booking = book(online_provider)
    charge = checkout_charge(booking=booking)
    payment_pay(payment_id=charge.pk, card_token=stripe_local.card_token())
    settings.PAYMENTS_RETRY_BACKOFF_SECONDS = 1
    settings.STRIPE_API_BASE = f"http://127.0.0.1:{free_port()}"  # nothing listens there

    cancelled = booking_cancel(booking_id=booking.pk)
    before = timezone.now()
    assert run_gateway_calls() == 0

    assert cancelled.status == BookingStatus.CANCELLED
    call = GatewayCall.objects.get(action=GatewayCall.Action.REFUND)
    assert call.status == GatewayCall.Status.PENDING and call.last_error
    assert call.next_attempt_at > before
    assert Payment.objects.get(pk=call.payment_id).status == Payment.Status.PENDING

    settings.STRIPE_API_BASE = stripe_local.base_url  # back up
    assert run_gateway_calls() == 0  # not due again before its backoff
    time.sleep(max(0.0, (call.next_attempt_at - timezone.now()).total_seconds()) + 0.1)
    assert run_gateway_calls() == 1

    call.refresh_from_db()
    assert call.status == GatewayCall.Status.DONE and call.last_error == ""
    assert [r.amount for r in refunds_at_gateway(charge.reference)] == [12000]


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_concurrent_runners_never_make_the_same_call_twice(stripe_local):
    provider = paid_online_provider()
    charges = [cancelled_after_paying(provider, stripe_local, start=future_slot(hour=8 + n))[0] for n in range(6)]

    def runner():
        done = 0
        while made := gateway_calls_run(limit=1):
            done += made
        return done

    results = run_concurrently([runner for _ in range(4)])

    assert all(isinstance(r, int) for r in results), results
    assert sum(results) == 6
    assert not GatewayCall.objects.filter(status=GatewayCall.Status.PENDING).exists()
    assert [len(refunds_at_gateway(c.reference)) for c in charges] == [1] * 6
