"""A payment's outcome arriving while its booking is being rescheduled: the outcome reads the payment's
booking before the move commits and then waits for that booking's lock; by the time it has it, the move
has carried the payment to the new booking. The outcome must settle the booking the payment is on now
(payments.services._lock_booking_then_payment reads it again under the lock)."""

import threading
from datetime import timedelta

import pytest
from django.db import connections, transaction

from payments.models import Payment
from payments.services import checkout_charge, payment_succeeded
from scheduling.models import Booking, BookingStatus
from scheduling.services import booking_reschedule
from tests.concurrency import backends_waiting_on_a_lock, wait_until
from tests.payments.conftest import book, paid_online_provider

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_payment_that_succeeds_while_its_booking_moves_confirms_the_new_booking(stripe_local):
    provider = paid_online_provider()
    held = book(provider)
    charge = checkout_charge(booking=held)
    moved, commit_move = threading.Event(), threading.Event()
    outcome = {}

    def move_and_hold_the_commit():
        try:
            with transaction.atomic():
                outcome["new"] = booking_reschedule(booking_id=held.pk, start=held.start_at + timedelta(hours=2))
                moved.set()
                commit_move.wait(20)
        finally:
            connections.close_all()

    def succeed():
        try:
            outcome["payment"] = payment_succeeded(payment_id=charge.pk)
        except Exception as exc:  # noqa: BLE001 - asserted below
            outcome["payment"] = exc
        finally:
            connections.close_all()

    moving, paying = threading.Thread(target=move_and_hold_the_commit), threading.Thread(target=succeed)
    moving.start()
    assert moved.wait(20)
    paying.start()
    assert wait_until(lambda: backends_waiting_on_a_lock() == 1)  # the outcome, on the moved booking's lock
    commit_move.set()
    for thread in (moving, paying):
        thread.join(30)

    new = Booking.objects.get(pk=outcome["new"].pk)
    payment = Payment.objects.get(pk=charge.pk)
    assert not isinstance(outcome["payment"], Exception), outcome["payment"]
    assert (payment.booking_id, payment.status) == (new.pk, Payment.Status.SUCCEEDED)
    assert new.status == BookingStatus.CONFIRMED
    held.refresh_from_db()
    assert held.status == BookingStatus.CANCELLED
