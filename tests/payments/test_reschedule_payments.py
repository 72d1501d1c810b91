"""Rescheduling a paid booking: its payments move with it; another service's price difference is charged
(the new booking held until it is paid) or refunded; another currency is refused."""

from datetime import timedelta
from decimal import Decimal

import pytest
import stripe
from django.conf import settings

from payments.models import GatewayCall, Payment
from payments.services import checkout_charge, payment_pay
from scheduling.errors import InvalidInput
from scheduling.models import Booking, BookingStatus
from scheduling.services import booking_reschedule
from tests.factories import ServiceFactory
from tests.payments.conftest import book, run_gateway_calls

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


def other_service(provider, *, price: str, currency: str = "EUR"):
    return ServiceFactory(
        providers=[provider], price=price, currency=currency, payment_mode="online", late_cancel_fee="0"
    )


def test_moving_a_paid_booking_to_another_time_carries_its_payment_over(online_provider, stripe_local):
    booking, charge = paid_booking(online_provider, stripe_local)

    new = booking_reschedule(booking_id=booking.pk, start=booking.start_at + timedelta(hours=2))

    charge.refresh_from_db()
    assert new.status == BookingStatus.CONFIRMED
    assert charge.booking_id == new.pk and charge.status == Payment.Status.SUCCEEDED
    assert list(Payment.objects.values_list("pk", flat=True)) == [charge.pk]  # no new charge, no refund
    assert not GatewayCall.objects.exists()


def test_moving_to_a_dearer_service_holds_the_new_booking_until_the_difference_is_paid(online_provider, stripe_local):
    booking, charge = paid_booking(online_provider, stripe_local)
    dearer = other_service(online_provider, price="150.00")

    new = booking_reschedule(booking_id=booking.pk, start=booking.start_at + timedelta(hours=2), service_id=dearer.pk)

    assert new.status == BookingStatus.PENDING
    difference = Payment.objects.get(booking=new, status=Payment.Status.PENDING)
    assert (difference.kind, difference.amount, difference.reason) == ("charge", Decimal("30.00"), "price_difference")

    started = checkout_charge(booking=new)
    assert started.pk == difference.pk
    assert stripe_client().v1.payment_intents.retrieve(started.reference).amount == 3000
    payment_pay(payment_id=started.pk, card_token=stripe_local.card_token())

    new.refresh_from_db()
    assert new.status == BookingStatus.CONFIRMED
    assert set(Payment.objects.filter(booking=new).values_list("pk", "status")) == {
        (charge.pk, "succeeded"),
        (difference.pk, "succeeded"),
    }


def test_moving_to_a_cheaper_service_refunds_the_difference(online_provider, stripe_local):
    booking, charge = paid_booking(online_provider, stripe_local)
    cheaper = other_service(online_provider, price="100.00")

    new = booking_reschedule(booking_id=booking.pk, start=booking.start_at + timedelta(hours=2), service_id=cheaper.pk)
    run_gateway_calls()

    assert new.status == BookingStatus.CONFIRMED
    refund = Payment.objects.get(kind=Payment.Kind.REFUND)
    assert (refund.booking_id, refund.refund_of_id, refund.amount, refund.reason, refund.status) == (
        new.pk,
        charge.pk,
        Decimal("20.00"),
        "price_difference",
        "succeeded",
    )
    [at_gateway] = stripe_client().v1.refunds.list(params={"payment_intent": charge.reference}).data
    assert at_gateway.amount == 2000


def test_moving_to_a_service_in_another_currency_is_refused(online_provider, stripe_local):
    booking, charge = paid_booking(online_provider, stripe_local)
    dollars = other_service(online_provider, price="120.00", currency="USD")

    with pytest.raises(InvalidInput) as refused:
        booking_reschedule(booking_id=booking.pk, start=booking.start_at + timedelta(hours=2), service_id=dollars.pk)

    assert refused.value.http_status == 400 and "service" in refused.value.fields
    booking.refresh_from_db()
    assert booking.status == BookingStatus.CONFIRMED
    assert list(Payment.objects.values_list("pk", flat=True)) == [charge.pk]


def test_a_price_difference_too_small_for_the_gateway_is_waived_and_the_booking_stays_confirmed(
    online_provider, stripe_local
):
    booking, _charge = paid_booking(online_provider, stripe_local)  # 120.00 EUR
    dearer = other_service(online_provider, price="120.20")

    new = booking_reschedule(booking_id=booking.pk, start=booking.start_at + timedelta(hours=2), service_id=dearer.pk)

    assert new.status == BookingStatus.CONFIRMED
    assert not Payment.objects.filter(booking=new, reason=Payment.Reason.PRICE_DIFFERENCE).exists()
