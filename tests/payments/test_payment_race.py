"""Twenty customers booking and paying for one slot at once: one booking, and no charge without a booking."""

import pytest

from payments.gateways import gateway_for
from payments.models import Payment
from payments.services import checkout_charge, payment_pay
from scheduling.errors import SlotUnavailable
from scheduling.models import Booking, BookingStatus
from scheduling.services import CustomerData, booking_create
from tests.concurrency import run_concurrently
from tests.payments.conftest import paid_online_provider
from tests.scheduling.conftest import future_slot

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def book_and_pay(provider_id: int, start, n: int, card_token: str):
    customer = CustomerData(name=f"Racer {n}", email=f"racer{n}@example.com")

    def attempt():
        booking = booking_create(provider_id=provider_id, start=start, customer=customer)
        charge = checkout_charge(booking=booking)
        return payment_pay(payment_id=charge.pk, card_token=card_token)

    return attempt


def test_twenty_customers_paying_for_one_slot_leave_one_paid_booking_and_no_other_charge(stripe_local):
    provider = paid_online_provider()
    start = future_slot()
    tokens = [stripe_local.card_token() for _ in range(20)]

    results = run_concurrently([book_and_pay(provider.pk, start, n, tokens[n]) for n in range(20)], timeout=120)

    paid = [r for r in results if not isinstance(r, Exception)]
    refused = [r for r in results if isinstance(r, SlotUnavailable)]
    assert len(paid) == 1 and paid[0].status == "succeeded"
    assert len(refused) == 19, [r for r in results if isinstance(r, Exception) and r not in refused]
    winner = Booking.objects.get(provider=provider)  # the losers left no booking, not even a cancelled one
    assert winner.status == BookingStatus.CONFIRMED
    [charge] = Payment.objects.all()  # and no charge: none was started for a slot they did not hold
    assert (charge.booking_id, charge.status) == (winner.pk, Payment.Status.SUCCEEDED)
    assert gateway_for("stripe").charge_state(reference=charge.reference).status == "succeeded"
