"""An offer of a service paid online: accepting keeps it held until paid within the offer; unpaid it lapses
to the next in line; paid after it lapsed and went on, the money goes back (docs/decisions/0013-payments.md)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from payments.gateways.stripe_gateway import StripeGateway
from payments.models import Payment
from payments.services import checkout_charge, payment_pay, payment_succeeded
from scheduling.models import Booking, BookingStatus
from scheduling.services import booking_cancel, booking_expire_holds
from tests.factories import service_of
from tests.payments.conftest import paid_online_provider
from tests.scheduling.conftest import future_slot
from tests.waitlist.conftest import ANN, BEN, DAN, book
from waitlist.models import EntryStatus, WaitlistEntry
from waitlist.services import Window, offers_make, waitlist_accept, waitlist_join

pytestmark = pytest.mark.django_db


@pytest.fixture
def offered_to_ann(stripe_local):
    """A service paid online, one slot wanted by Ann then Ben, freed by Dan: held for Ann."""
    provider = paid_online_provider()
    service = service_of(provider)
    start = future_slot()
    dans = book(provider, DAN, start)
    window = Window(start=start, end=start + timedelta(minutes=30))  # just that one slot
    ann, ben = (waitlist_join(service_id=service.pk, customer=who, window=window) for who in (ANN, BEN))
    booking_cancel(booking_id=dans.pk)
    assert offers_make(service_id=service.pk) == 1
    return service, WaitlistEntry.objects.get(pk=ann.pk), WaitlistEntry.objects.get(pk=ben.pk)


def entry_status(entry) -> str:
    return WaitlistEntry.objects.get(pk=entry.pk).status


def lapse(booking: Booking) -> None:
    Booking.objects.filter(pk=booking.pk).update(hold_expires_at=timezone.now())
    assert booking_expire_holds() == 1


def test_accepting_an_online_paid_offer_keeps_it_held_until_paid(offered_to_ann, stripe_local):
    _service, ann, _ben = offered_to_ann

    booking = waitlist_accept(entry_id=ann.pk)

    assert booking.pk == ann.offer_booking_id and booking.status == BookingStatus.PENDING
    assert entry_status(ann) == EntryStatus.OFFERED

    charge = checkout_charge(booking=booking)
    outcome = payment_pay(payment_id=charge.pk, card_token=stripe_local.card_token())

    assert outcome.payment.status == Payment.Status.SUCCEEDED
    assert Booking.objects.get(pk=booking.pk).status == BookingStatus.CONFIRMED
    assert entry_status(ann) == EntryStatus.BOOKED


def test_an_online_paid_offer_left_unpaid_lapses_to_the_next_in_line(offered_to_ann, stripe_local):
    service, ann, ben = offered_to_ann
    waitlist_accept(entry_id=ann.pk)
    checkout_charge(booking=ann.offer_booking)  # started paying, never finished

    lapse(ann.offer_booking)
    assert offers_make(service_id=service.pk) == 1

    assert (entry_status(ann), entry_status(ben)) == (EntryStatus.EXPIRED, EntryStatus.OFFERED)
    assert Booking.objects.get(pk=ann.offer_booking_id).status == BookingStatus.CANCELLED
    assert not Payment.objects.filter(booking=ann.offer_booking, status=Payment.Status.SUCCEEDED).exists()


def test_a_payment_after_the_offer_went_to_the_next_in_line_is_refunded(offered_to_ann, stripe_local):
    service, ann, ben = offered_to_ann
    charge = checkout_charge(booking=waitlist_accept(entry_id=ann.pk))
    lapse(ann.offer_booking)
    assert offers_make(service_id=service.pk) == 1  # the slot is now held for Ben
    # Ann's card went through at the gateway all the same (the page's answer lost in the race).
    paid = StripeGateway().pay(
        reference=charge.reference, card_token=stripe_local.card_token(), email=ANN.email, idempotency_key="late"
    )
    assert paid.status == "succeeded"

    payment_succeeded(payment_id=charge.pk)

    refund = Payment.objects.get(kind=Payment.Kind.REFUND)
    assert (refund.booking_id, refund.amount, refund.reason) == (
        ann.offer_booking_id,
        charge.amount,
        Payment.Reason.LATE_PAYMENT,
    )
    assert Booking.objects.get(pk=ann.offer_booking_id).status == BookingStatus.CANCELLED
    assert (entry_status(ann), entry_status(ben)) == (EntryStatus.EXPIRED, EntryStatus.OFFERED)
    ben = WaitlistEntry.objects.get(pk=ben.pk)
    assert ben.offer_booking.status == BookingStatus.PENDING  # Ben keeps the slot held for him


def test_a_payment_after_the_offer_lapsed_is_refunded_and_the_slot_goes_to_the_next_in_line(
    offered_to_ann, stripe_local
):
    service, ann, ben = offered_to_ann
    charge = checkout_charge(booking=waitlist_accept(entry_id=ann.pk))
    lapse(ann.offer_booking)  # no offer run yet: the slot is still free
    StripeGateway().pay(
        reference=charge.reference, card_token=stripe_local.card_token(), email=ANN.email, idempotency_key="late"
    )

    payment_succeeded(payment_id=charge.pk)

    # The offer was Ann's only within its time: her money goes back, and Ben's turn comes.
    assert Booking.objects.get(pk=ann.offer_booking_id).status == BookingStatus.CANCELLED
    assert entry_status(ann) == EntryStatus.EXPIRED
    refund = Payment.objects.get(kind=Payment.Kind.REFUND, refund_of=charge)
    assert (refund.amount, refund.reason) == (charge.amount, Payment.Reason.LATE_PAYMENT)
    assert offers_make(service_id=service.pk) == 1 and entry_status(ben) == EntryStatus.OFFERED


def test_a_payment_arriving_after_the_offer_time_but_before_the_sweep_is_refunded(offered_to_ann, stripe_local):
    _service, ann, _ben = offered_to_ann
    charge = checkout_charge(booking=waitlist_accept(entry_id=ann.pk))
    Booking.objects.filter(pk=ann.offer_booking_id).update(hold_expires_at=timezone.now())  # lapsed, not yet swept
    StripeGateway().pay(
        reference=charge.reference, card_token=stripe_local.card_token(), email=ANN.email, idempotency_key="late2"
    )

    payment_succeeded(payment_id=charge.pk)

    assert Booking.objects.get(pk=ann.offer_booking_id).status == BookingStatus.PENDING  # the sweep cancels it
    assert Payment.objects.filter(kind=Payment.Kind.REFUND, refund_of=charge, reason="late_payment").exists()
