"""A payment's outcome arriving while its booking is being rescheduled: the outcome reads the payment's
booking before the move commits and then waits for that booking's lock; by the time it has it, the move
has carried the payment to the new booking. The outcome must settle the booking the payment is on now
(payments.services._lock_booking_then_payment reads it again under the lock)."""

from datetime import timedelta

import pytest

from payments.models import Payment
from payments.services import checkout_charge, payment_succeeded
from scheduling.models import BookingStatus
from scheduling.services import booking_reschedule
from tests.concurrency import InThread, backends_waiting_on_a_lock, transaction_held_open, wait_until
from tests.payments.conftest import book, paid_online_provider

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_payment_that_succeeds_while_its_booking_moves_confirms_the_new_booking(stripe_local):
    provider = paid_online_provider()
    held = book(provider)
    charge = checkout_charge(booking=held)
    with transaction_held_open(
        lambda: booking_reschedule(booking_id=held.pk, start=held.start_at + timedelta(hours=2))
    ) as new:
        paying = InThread(lambda: payment_succeeded(payment_id=charge.pk))
        assert wait_until(lambda: backends_waiting_on_a_lock() == 1)  # the outcome, on the moved booking's locks
    paying.result()

    new.refresh_from_db()
    payment = Payment.objects.get(pk=charge.pk)
    assert (payment.booking_id, payment.status) == (new.pk, Payment.Status.SUCCEEDED)
    assert new.status == BookingStatus.CONFIRMED
    held.refresh_from_db()
    assert held.status == BookingStatus.CANCELLED
