"""Staff refunds and payments taken at the venue (payments.services)."""

from decimal import Decimal

import pytest

from payments.services import payment_mark_paid, payment_refund
from scheduling.errors import InvalidInput, InvalidTransition
from scheduling.services import booking_cancel
from tests.payments.conftest import book
from tests.scheduling.conftest import open_all_day_provider

pytestmark = pytest.mark.django_db


@pytest.fixture
def at_venue_booking(db):
    provider = open_all_day_provider(price="80.00", currency="EUR", late_cancel_fee="30.00", payment_mode="at_venue")
    return book(provider)


def test_an_at_venue_booking_confirms_at_once_and_owes_a_charge_staff_mark_paid(at_venue_booking):
    charge = at_venue_booking.payments.get()
    assert at_venue_booking.status == "confirmed"
    assert (charge.gateway, charge.status) == ("at_venue", "pending")
    paid = payment_mark_paid(payment_id=charge.pk)
    assert paid.status == "succeeded" and paid.succeeded_at is not None


def test_marking_paid_twice_is_refused(at_venue_booking):
    charge = at_venue_booking.payments.get()
    payment_mark_paid(payment_id=charge.pk)
    with pytest.raises(InvalidTransition):
        payment_mark_paid(payment_id=charge.pk)


def test_staff_refund_part_then_never_more_than_is_left(at_venue_booking):
    payment_mark_paid(payment_id=at_venue_booking.payments.get().pk)
    [first] = payment_refund(booking_id=at_venue_booking.pk, amount=Decimal("30.00"))
    assert (first.kind, first.amount, first.status, first.reason) == ("refund", Decimal("30.00"), "pending", "staff")
    with pytest.raises(InvalidInput, match=r"At most 50\.00 EUR"):
        payment_refund(booking_id=at_venue_booking.pk, amount=Decimal("50.01"))
    [rest] = payment_refund(booking_id=at_venue_booking.pk)
    assert rest.amount == Decimal("50.00")


def test_staff_refund_of_a_booking_never_paid_is_refused(at_venue_booking):
    with pytest.raises(InvalidInput, match="Nothing has been paid"):
        payment_refund(booking_id=at_venue_booking.pk)


def test_staff_refunding_the_late_fee_of_a_cancelled_booking_adds_to_its_refund(at_venue_booking):
    payment_mark_paid(payment_id=at_venue_booking.payments.get().pk)
    at_venue_booking.free_cancel_until = at_venue_booking.created_at  # the free-cancel deadline has passed
    at_venue_booking.save(update_fields=["free_cancel_until"])
    cancelled = booking_cancel(booking_id=at_venue_booking.pk)
    assert (cancelled.cancellation_fee, cancelled.refund_amount) == (Decimal("30.00"), Decimal("50.00"))

    payment_refund(booking_id=at_venue_booking.pk)  # goodwill: the fee back too

    cancelled.refresh_from_db()
    assert cancelled.refund_amount == Decimal("80.00")
