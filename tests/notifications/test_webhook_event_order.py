"""Which webhook events a booking's changes queue, in which order and with which numbers, read from the
queued `WebhookEvent` rows (what is sent is each row's payload; tests/notifications/test_webhooks.py
sends them)."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from notifications.models import WebhookEvent
from notifications.webhooks import webhook_endpoint_create
from payments.services import payment_attempt_failed, payment_mark_paid
from scheduling.models import Booking, BookingStatus
from scheduling.services import (
    CustomerData,
    booking_cancel,
    booking_complete,
    booking_create,
    booking_expire_holds,
    booking_mark_no_show,
    booking_reschedule,
)
from scheduling.services.payment_outcomes import booking_reinstate
from tests.factories import BookingFactory, ServiceFactory, UserFactory, service_of
from tests.payments.conftest import paid_online_provider
from tests.scheduling.conftest import future_slot, open_all_day_provider

pytestmark = pytest.mark.django_db

ADA = CustomerData(name="Ada", email="ada@example.com", timezone="Europe/London")


@pytest.fixture(autouse=True)
def hook():
    admin = UserFactory(username="integrator", is_superuser=True, is_staff=True)
    return webhook_endpoint_create(owner=admin, url="https://hooks.example.com/in")[0]


def events() -> list[tuple[str, int | None, dict]]:
    return [(e.type, e.sequence, e.payload["data"]) for e in WebhookEvent.objects.order_by("created_at", "id")]


def types() -> list[str]:
    return [type_ for type_, _, _ in events()]


def venue_provider():
    return open_all_day_provider(slug="venue", price="50.00", currency="EUR", payment_mode="at_venue")


def test_a_move_to_a_cheaper_service_is_numbered_before_its_refund_on_one_sequence():
    provider = venue_provider()
    cheaper = ServiceFactory(
        providers=[provider],
        price=Decimal("20.00"),
        currency="EUR",
        payment_mode="at_venue",
        duration_minutes=service_of(provider).duration_minutes,
    )
    booking = booking_create(
        provider_id=provider.pk, service_id=service_of(provider).pk, start=future_slot(), customer=ADA
    )
    payment_mark_paid(payment_id=booking.payments.get().pk)
    moved = booking_reschedule(booking_id=booking.pk, start=future_slot(days=4), service_id=cheaper.pk)

    rows = events()
    assert [t for t, _, _ in rows] == [
        "booking.created",
        "payment.succeeded",
        "booking.rescheduled",
        "payment.refunded",
    ]
    assert [s for _, s, _ in rows] == [1, 2, 3, 4]
    rescheduled, refunded = rows[2][2], rows[3][2]
    assert rescheduled["payment"]["amount_paid"] == "50.00"  # the payments were carried over before it was told
    assert (refunded["amount"], refunded["booking"]["id"]) == ("30.00", moved.pk)


def test_a_refund_after_a_move_continues_the_old_bookings_numbers_even_if_the_move_was_not_queued(hook):
    type(hook).objects.filter(pk=hook.pk).update(event_types=["payment.succeeded", "payment.refunded"])
    provider = venue_provider()
    cheaper = ServiceFactory(
        providers=[provider],
        price=Decimal("20.00"),
        currency="EUR",
        payment_mode="at_venue",
        duration_minutes=service_of(provider).duration_minutes,
    )
    booking = booking_create(
        provider_id=provider.pk, service_id=service_of(provider).pk, start=future_slot(), customer=ADA
    )
    payment_mark_paid(payment_id=booking.payments.get().pk)
    booking_reschedule(booking_id=booking.pk, start=future_slot(days=4), service_id=cheaper.pk)

    assert [(t, s) for t, s, _ in events()] == [("payment.succeeded", 1), ("payment.refunded", 2)]


def test_a_cancellation_is_told_with_its_refund_amount_before_the_refund():
    provider = venue_provider()
    booking = booking_create(provider_id=provider.pk, start=future_slot(days=5), customer=ADA)
    payment_mark_paid(payment_id=booking.payments.get().pk)
    booking_cancel(booking_id=booking.pk)

    rows = events()
    assert [t for t, _, _ in rows] == ["booking.created", "payment.succeeded", "booking.cancelled", "payment.refunded"]
    assert [s for _, s, _ in rows] == [1, 2, 3, 4]
    cancelled, refunded = rows[2][2], rows[3][2]
    assert (cancelled["status"], cancelled["refund_amount"]) == ("cancelled", "50.00")
    assert (refunded["booking"]["status"], refunded["booking"]["refund_amount"]) == ("cancelled", "50.00")


def started() -> Booking:
    """A confirmed booking that began an hour ago (made directly: no service books the past)."""
    return BookingFactory(
        status=BookingStatus.CONFIRMED, start_at=timezone.now().replace(microsecond=0) - timedelta(hours=1)
    )


def test_completing_a_booking_queues_booking_completed():
    booking = started()
    booking_complete(booking_id=booking.pk)
    assert types() == ["booking.completed"]
    assert events()[-1][2]["status"] == "completed"


def test_marking_a_no_show_queues_booking_no_show():
    booking = started()
    booking_mark_no_show(booking_id=booking.pk)
    assert types() == ["booking.no_show"]
    assert events()[-1][2]["status"] == "no_show"


def held_and_expired(provider) -> Booking:
    booking = booking_create(provider_id=provider.pk, start=future_slot(), customer=ADA)
    assert booking.status == BookingStatus.PENDING
    Booking.objects.filter(pk=booking.pk).update(hold_expires_at=timezone.now() - timedelta(seconds=1))
    return booking


def test_a_hold_running_out_queues_booking_expired():
    held_and_expired(open_all_day_provider(requires_confirmation=True))
    assert booking_expire_holds() == 1
    assert types() == ["booking.created", "booking.expired"]
    assert events()[-1][2]["cancel_reason"] == "expired"


def test_a_hold_whose_payment_failed_queues_booking_expired():
    booking = held_and_expired(paid_online_provider())
    payment_attempt_failed(payment_id=booking.payments.get().pk, failure="card declined")
    assert booking_expire_holds() == 1
    assert types() == ["booking.created", "booking.expired"]
    assert events()[-1][2]["cancel_reason"] == "payment_failed"


def test_reinstating_a_lapsed_hold_queues_booking_confirmed():
    booking = held_and_expired(open_all_day_provider(requires_confirmation=True))
    booking_expire_holds()
    booking_reinstate(booking_id=booking.pk)
    assert types() == ["booking.created", "booking.expired", "booking.confirmed"]
    assert [s for _, s, _ in events()] == [1, 2, 3]
    assert events()[-1][2]["status"] == "confirmed"
