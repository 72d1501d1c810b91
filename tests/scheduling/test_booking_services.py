import re
from datetime import datetime, timedelta
from decimal import Decimal

import psycopg
import pytest
from django.db import IntegrityError, OperationalError, connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone, translation

from scheduling import manage_links
from scheduling.errors import BookingMoved, InvalidInput, InvalidTransition, SlotNotOffered, SlotUnavailable
from scheduling.models import Booking, BookingStatus, CancelReason, Customer
from scheduling.services import (
    CustomerData,
    booking_cancel,
    booking_confirm,
    booking_create,
    booking_expire_holds,
    booking_reschedule,
)
from tests.factories import BlockedTimeFactory, CustomerFactory, PaidChargeFactory
from tests.scheduling.conftest import future_slot, open_all_day_provider

pytestmark = pytest.mark.django_db

ALICE = CustomerData(name="Alice", email="alice@example.com", timezone="Asia/Tokyo")
BOB = CustomerData(name="Bob", email="bob@example.com")


def book(provider, start, customer=ALICE):
    return booking_create(provider_id=provider.pk, start=start, customer=customer)


def assert_nothing_written(before_bookings: int, before_customers: int) -> None:
    assert Booking.objects.count() == before_bookings
    assert Customer.objects.count() == before_customers


# --- create ------------------------------------------------------------------------------------


def test_create_confirms_at_once_when_provider_needs_no_confirmation(provider):
    booking = book(provider, future_slot())
    booking.refresh_from_db()
    assert booking.status == BookingStatus.CONFIRMED
    assert booking.hold_expires_at is None
    assert booking.confirmed_at is not None


def test_create_holds_a_pending_booking_when_provider_requires_confirmation():
    provider = open_all_day_provider(requires_confirmation=True, hold_minutes=20)
    before = timezone.now()
    booking = book(provider, future_slot())
    booking.refresh_from_db()
    assert booking.status == BookingStatus.PENDING
    assert before + timedelta(minutes=20) <= booking.hold_expires_at <= timezone.now() + timedelta(minutes=20)


def test_create_sets_end_from_slot_length_and_pads_buffers():
    provider = open_all_day_provider(duration_minutes=60, buffer_before_minutes=10, buffer_after_minutes=15)
    start = future_slot()
    booking = book(provider, start)
    assert booking.end_at == start + timedelta(minutes=60)
    assert booking.blocked_from == start - timedelta(minutes=10)
    assert booking.blocked_until == start + timedelta(minutes=75)


def test_create_snapshots_both_zones_and_the_cancellation_policy(provider):
    start = future_slot()
    booking = book(provider, start)
    booking.refresh_from_db()
    assert str(booking.provider_timezone) == "UTC"
    assert str(booking.customer_timezone) == "Asia/Tokyo"
    assert booking.price == Decimal("100.00")
    assert booking.late_cancel_fee == Decimal("25.00")
    assert booking.free_cancel_until == start - timedelta(hours=24)


def test_create_stores_no_manage_secret_and_returns_a_signed_token(provider):
    booking = book(provider, future_slot())
    stored = Booking.objects.get(pk=booking.pk)
    assert stored.manage_token_hash == ""
    assert stored.manage_secret_version == 0
    assert manage_links.unsign(booking.manage_token) == (booking.pk, 0)
    assert booking.manage_token.split(":")[-1] not in str(stored.__dict__)


def test_create_matches_an_existing_customer_by_email_ignoring_case(provider):
    existing = CustomerFactory(email="Alice@Example.com", name="Alice Original")
    booking = book(provider, future_slot(), CustomerData(name="Someone Else", email="alice@example.COM"))
    assert booking.customer == existing
    existing.refresh_from_db()
    assert existing.name == "Alice Original"


def test_the_returning_customer_lookup_can_use_the_case_insensitive_email_index(provider):
    CustomerFactory(email="alice@example.com")
    with CaptureQueriesContext(connection) as captured:
        book(provider, future_slot())
    lookup = next(q["sql"] for q in captured.captured_queries if re.search(r'FROM "?scheduling_customer\b', q["sql"]))

    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("EXPLAIN " + lookup)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "customer_email_unique_ci" in plan


def test_a_returning_customer_books_in_the_zone_they_give_now(provider):
    CustomerFactory(email="alice@example.com", timezone="Europe/Paris")
    booking = book(
        provider, future_slot(), CustomerData(name="Alice", email="alice@example.com", timezone="Asia/Tokyo")
    )
    assert str(booking.customer_timezone) == "Asia/Tokyo"


def test_reschedule_keeps_the_customer_zone_snapshot(provider):
    old = book(provider, future_slot(hour=10))
    new = booking_reschedule(booking_id=old.pk, start=future_slot(hour=12))
    assert str(new.customer_timezone) == "Asia/Tokyo"


def test_a_booking_keeps_the_contact_details_given_with_it_not_the_stored_customers(provider):
    existing = CustomerFactory(email="carol@example.com", name="Carol Ames", phone="+15550001111")
    given = CustomerData(name="C. Berg", email="Carol@Example.com", phone=" +49301234567 ", timezone="Europe/Berlin")
    booking = book(provider, future_slot(), given)
    stored = Booking.objects.get(pk=booking.pk)
    assert stored.customer == existing
    details = (stored.customer_name, stored.customer_email, stored.customer_phone, str(stored.customer_timezone))
    assert details == ("C. Berg", "Carol@Example.com", "+49301234567", "Europe/Berlin")
    existing.refresh_from_db()
    assert (existing.name, existing.email, existing.phone) == ("Carol Ames", "carol@example.com", "+15550001111")


def test_a_returning_customer_must_give_a_name_with_each_booking(provider):
    CustomerFactory(email="carol@example.com", name="Carol Ames")
    counts = Booking.objects.count(), Customer.objects.count()
    with pytest.raises(InvalidInput) as exc:
        book(provider, future_slot(), CustomerData(name=" ", email="carol@example.com"))
    assert "customer.name" in exc.value.fields
    assert_nothing_written(*counts)


def test_reschedule_keeps_the_contact_details_of_the_booking_it_moves(provider):
    old = book(provider, future_slot(hour=10), CustomerData(name="C. Berg", email="carol@example.com", phone="+4930"))
    Customer.objects.filter(pk=old.customer_id).update(name="Renamed", phone="+1999")
    new = booking_reschedule(booking_id=old.pk, start=future_slot(hour=12))
    assert (new.customer_name, new.customer_email, new.customer_phone) == ("C. Berg", "carol@example.com", "+4930")
    stored = Booking.objects.get(pk=new.pk)
    assert (stored.customer_name, stored.customer_phone) == ("C. Berg", "+4930")


def test_create_refuses_a_naive_datetime_and_writes_nothing(provider):
    counts = Booking.objects.count(), Customer.objects.count()
    with pytest.raises(InvalidInput) as exc:
        book(provider, datetime(2030, 1, 1, 10, 0))
    assert exc.value.fields == {"start": [exc.value.detail]}
    assert_nothing_written(*counts)


def test_create_refuses_an_unknown_customer_zone_and_writes_nothing(provider):
    counts = Booking.objects.count(), Customer.objects.count()
    with pytest.raises(InvalidInput) as exc:
        book(provider, future_slot(), CustomerData(name="X", email="x@example.com", timezone="Moon/Base"))
    assert "customer.timezone" in exc.value.fields
    assert_nothing_written(*counts)


def test_create_refuses_a_start_in_the_past_and_writes_nothing(provider):
    counts = Booking.objects.count(), Customer.objects.count()
    with pytest.raises(SlotNotOffered) as exc:
        book(provider, future_slot(days=-1))
    assert "past" in exc.value.detail
    assert exc.value.fields.keys() == {"start"}
    assert_nothing_written(*counts)


def test_create_refuses_a_start_off_the_slot_grid(provider):
    with pytest.raises(SlotNotOffered, match="off the slot grid"):
        book(provider, future_slot(minute=10))


def test_create_refuses_a_start_outside_open_time():
    provider = open_all_day_provider()
    provider.rules.update(rrule="FREQ=WEEKLY;BYDAY=MO", start_time="09:00", end_time="10:00")
    monday = future_slot(days=7, hour=9)
    monday -= timedelta(days=monday.weekday())
    tuesday = monday + timedelta(days=1)
    assert book(provider, monday).pk
    with pytest.raises(SlotNotOffered):
        book(provider, tuesday, BOB)


def test_create_refuses_a_slot_inside_a_blocked_time(provider):
    start = future_slot()
    BlockedTimeFactory(provider=provider, start_at=start - timedelta(minutes=15), end_at=start + timedelta(minutes=15))
    with pytest.raises(SlotNotOffered):
        book(provider, start)


def test_create_refuses_a_start_within_the_minimum_notice():
    provider = open_all_day_provider(min_notice_minutes=36 * 60)
    with pytest.raises(SlotNotOffered, match="36 hours"):
        book(provider, future_slot(days=1))


def test_create_refuses_a_start_beyond_the_horizon():
    provider = open_all_day_provider(max_advance_days=5)
    with pytest.raises(SlotNotOffered, match="5 days"):
        book(provider, future_slot(days=6))


def test_create_refuses_an_inactive_provider(provider):
    provider.is_active = False
    provider.save()
    with pytest.raises(InvalidInput) as exc:
        book(provider, future_slot())
    assert "provider" in exc.value.fields


def test_create_on_a_taken_slot_names_the_booking_it_collided_with(provider):
    start = future_slot()
    winner = book(provider, start)
    with pytest.raises(SlotUnavailable) as exc:
        book(provider, start, BOB)
    assert exc.value.conflicting_booking_id == winner.pk
    assert exc.value.as_dict()["conflicting_booking_id"] == winner.pk


def test_create_inside_another_bookings_buffer_is_unavailable():
    provider = open_all_day_provider(buffer_after_minutes=15)
    start = future_slot()
    first = book(provider, start)
    with pytest.raises(SlotUnavailable) as exc:
        book(provider, start + timedelta(minutes=30), BOB)
    assert exc.value.conflicting_booking_id == first.pk


# --- cancel ------------------------------------------------------------------------------------


def test_cancel_before_the_free_cancel_deadline_costs_no_fee_and_refunds_what_was_paid(provider):
    booking = book(provider, future_slot(days=3))
    PaidChargeFactory(booking=booking)
    cancelled = booking_cancel(booking_id=booking.pk, reason=CancelReason.CUSTOMER)
    assert cancelled.status == BookingStatus.CANCELLED
    assert cancelled.cancellation_fee == Decimal("0.00")
    assert cancelled.refund_amount == Decimal("100.00")


def test_cancel_after_the_free_cancel_deadline_costs_the_late_fee():
    provider = open_all_day_provider(price="100.00", late_cancel_fee="25.00", free_cancel_hours=72)
    booking = book(provider, future_slot(days=2))
    PaidChargeFactory(booking=booking)
    cancelled = booking_cancel(booking_id=booking.pk, reason=CancelReason.CUSTOMER)
    assert cancelled.cancellation_fee == Decimal("25.00")
    assert cancelled.refund_amount == Decimal("75.00")


def test_cancel_by_the_provider_never_charges_the_late_fee():
    provider = open_all_day_provider(price="100.00", late_cancel_fee="25.00", free_cancel_hours=72)
    booking = book(provider, future_slot(days=2))
    PaidChargeFactory(booking=booking)
    cancelled = booking_cancel(booking_id=booking.pk, reason=CancelReason.PROVIDER)
    assert cancelled.cancellation_fee == Decimal("0.00")
    assert cancelled.refund_amount == Decimal("100.00")


def test_cancel_of_a_booking_never_paid_refunds_nothing(provider):
    booking = book(provider, future_slot(days=3))
    cancelled = booking_cancel(booking_id=booking.pk, reason=CancelReason.PROVIDER)
    assert cancelled.refund_amount == Decimal("0.00")
    assert not cancelled.payments.filter(kind="refund").exists()


def test_cancel_uses_the_policy_snapshot_not_the_providers_current_policy(provider):
    booking = book(provider, future_slot(days=3))
    provider.free_cancel_hours = 24 * 10
    provider.late_cancel_fee = Decimal("99.00")
    provider.save()
    cancelled = booking_cancel(booking_id=booking.pk, reason=CancelReason.CUSTOMER)
    assert cancelled.cancellation_fee == Decimal("0.00")


def test_cancel_with_an_unknown_reason_is_invalid_input(provider):
    booking = book(provider, future_slot())
    with pytest.raises(InvalidInput):
        booking_cancel(booking_id=booking.pk, reason="bored")
    booking.refresh_from_db()
    assert booking.status == BookingStatus.CONFIRMED


def test_cancelling_frees_the_slot(provider):
    start = future_slot()
    booking = book(provider, start)
    booking_cancel(booking_id=booking.pk)
    assert book(provider, start, BOB).status == BookingStatus.CONFIRMED


# --- reschedule --------------------------------------------------------------------------------


def test_reschedule_cancels_the_old_booking_and_links_the_new_one(provider):
    old = book(provider, future_slot(hour=10))
    new = booking_reschedule(booking_id=old.pk, start=future_slot(hour=14))
    old.refresh_from_db()
    assert old.status == BookingStatus.CANCELLED
    assert old.cancel_reason == CancelReason.RESCHEDULED
    assert new.rescheduled_from == old
    assert old.rescheduled_to == new
    assert new.status == BookingStatus.CONFIRMED
    assert new.customer == old.customer
    assert new.price == old.price


def test_reschedule_may_move_into_time_its_own_old_booking_held():
    provider = open_all_day_provider(duration_minutes=60, slot_step_minutes=30, buffer_after_minutes=30)
    old = book(provider, future_slot(hour=10))
    new = booking_reschedule(booking_id=old.pk, start=future_slot(hour=10, minute=30))
    assert new.start_at == future_slot(hour=10, minute=30)


def test_reschedule_onto_a_taken_slot_changes_nothing(provider):
    old = book(provider, future_slot(hour=10))
    other = book(provider, future_slot(hour=14), BOB)
    with pytest.raises(SlotUnavailable) as exc:
        booking_reschedule(booking_id=old.pk, start=future_slot(hour=14))
    assert exc.value.conflicting_booking_id == other.pk
    old.refresh_from_db()
    assert old.status == BookingStatus.CONFIRMED
    assert old.cancel_reason == ""
    assert Booking.objects.count() == 2


def test_reschedule_of_a_cancelled_booking_is_an_invalid_transition(provider):
    old = book(provider, future_slot(hour=10))
    booking_cancel(booking_id=old.pk)
    with pytest.raises(InvalidTransition):
        booking_reschedule(booking_id=old.pk, start=future_slot(hour=14))


def test_reschedule_to_the_bookings_own_time_is_refused_naming_start_and_changes_nothing(provider):
    old = book(provider, future_slot(hour=10))
    with pytest.raises(InvalidInput) as exc:
        booking_reschedule(booking_id=old.pk, start=future_slot(hour=10))
    assert list(exc.value.fields) == ["start"]
    old.refresh_from_db()
    assert (old.status, old.cancel_reason, Booking.objects.count()) == (BookingStatus.CONFIRMED, "", 1)


def test_reschedule_of_a_moved_booking_is_booking_moved_naming_its_successor(provider):
    old = book(provider, future_slot(hour=10))
    new = booking_reschedule(booking_id=old.pk, start=future_slot(hour=12))
    with pytest.raises(BookingMoved) as exc:
        booking_reschedule(booking_id=old.pk, start=future_slot(hour=14))
    assert exc.value.rescheduled_to == new.pk
    assert isinstance(exc.value, InvalidTransition)  # still the documented 409 `invalid_transition`
    assert Booking.objects.count() == 2


def test_reschedule_keeps_a_pending_booking_pending_with_a_fresh_hold():
    provider = open_all_day_provider(requires_confirmation=True)
    old = book(provider, future_slot(hour=10))
    new = booking_reschedule(booking_id=old.pk, start=future_slot(hour=11))
    assert new.status == BookingStatus.PENDING
    assert new.hold_expires_at > timezone.now()


# --- holds -------------------------------------------------------------------------------------


def test_an_expired_hold_is_cancelled_and_frees_the_slot():
    provider = open_all_day_provider(requires_confirmation=True)
    start = future_slot()
    held = book(provider, start)
    Booking.objects.filter(pk=held.pk).update(hold_expires_at=timezone.now() - timedelta(seconds=1))
    assert booking_expire_holds() == 1
    held.refresh_from_db()
    assert held.status == BookingStatus.CANCELLED
    assert held.cancel_reason == CancelReason.EXPIRED
    assert held.cancellation_fee == Decimal("0.00")
    assert book(provider, start, BOB).pk != held.pk


def test_expiring_holds_leaves_live_holds_and_confirmed_bookings_alone():
    provider = open_all_day_provider(requires_confirmation=True)
    held = book(provider, future_slot(hour=10))
    confirmed = booking_confirm(booking_id=book(provider, future_slot(hour=11), BOB).pk)
    assert booking_expire_holds() == 0
    held.refresh_from_db()
    confirmed.refresh_from_db()
    assert (held.status, confirmed.status) == (BookingStatus.PENDING, BookingStatus.CONFIRMED)


def test_confirming_an_expired_hold_is_refused():
    provider = open_all_day_provider(requires_confirmation=True)
    held = book(provider, future_slot())
    Booking.objects.filter(pk=held.pk).update(hold_expires_at=timezone.now() - timedelta(seconds=1))
    with pytest.raises(InvalidTransition, match="expired"):
        booking_confirm(booking_id=held.pk)


def test_hold_expiry_is_registered_with_beat_every_minute():
    from django_celery_beat.models import PeriodicTask

    task = PeriodicTask.objects.get(task="scheduling.tasks.expire_holds")
    assert task.enabled
    assert (task.interval.every, task.interval.period) == (1, "minutes")


def test_the_exclusion_constraint_refuses_an_overlap_and_names_the_winner():
    """booking_create leaves overlap to booking_no_overlap (ADR 0006): no application check can race."""
    provider = open_all_day_provider(slot_step_minutes=15)
    start = future_slot()
    winner = book(provider, start)
    with pytest.raises(SlotUnavailable) as exc:
        book(provider, start + timedelta(minutes=15), BOB)
    assert exc.value.conflicting_booking_id == winner.pk
    assert isinstance(exc.value.__cause__, IntegrityError)
    assert Booking.objects.count() == 1


@pytest.mark.parametrize(
    ("language", "minutes", "sentence"),
    [
        ("en", 60, "This service needs at least 1 hour notice."),
        ("en", 2160, "This service needs at least 36 hours notice."),
        ("de", 1440, "Dieser Dienst braucht mindestens 1 Tag Vorlauf."),
        ("de", 90, "Dieser Dienst braucht mindestens 90 Minuten Vorlauf."),
    ],
)
def test_the_notice_refusal_is_a_whole_sentence_in_the_active_language(language, minutes, sentence):
    provider = open_all_day_provider(min_notice_minutes=minutes)
    with translation.override(language), pytest.raises(SlotNotOffered) as exc:
        book(provider, timezone.now().replace(second=0, microsecond=0) + timedelta(minutes=29))
    assert exc.value.detail == sentence


def _deadlock() -> OperationalError:
    error = OperationalError("deadlock detected")
    error.__cause__ = psycopg.errors.DeadlockDetected("deadlock detected")
    return error


@pytest.mark.django_db(transaction=True)  # the retry needs the service to own its transaction
def test_a_deadlock_is_retried_once(provider, monkeypatch):
    from scheduling.services import bookings

    real_lock, calls = bookings._lock_provider, []

    def deadlock_first_time(*, provider_id, service, start):
        calls.append(provider_id)
        if len(calls) == 1:
            raise _deadlock()
        return real_lock(provider_id=provider_id, service=service, start=start)

    monkeypatch.setattr(bookings, "_lock_provider", deadlock_first_time)
    assert book(provider, future_slot()).status == BookingStatus.CONFIRMED
    assert len(calls) == 2


@pytest.mark.django_db(transaction=True)
def test_a_second_deadlock_is_raised_not_retried_forever(provider, monkeypatch):
    from scheduling.services import bookings

    calls = []

    def always_deadlock(*, provider_id, service, start):
        calls.append(provider_id)
        raise _deadlock()

    monkeypatch.setattr(bookings, "_lock_provider", always_deadlock)
    with pytest.raises(OperationalError):
        book(provider, future_slot())
    assert len(calls) == 2


def test_no_retry_inside_a_callers_transaction(provider, monkeypatch):
    """Inside an outer transaction a retry cannot start afresh, so the deadlock goes to the caller."""
    from scheduling.services import bookings

    calls = []

    def always_deadlock(*, provider_id, service, start):
        calls.append(provider_id)
        raise _deadlock()

    monkeypatch.setattr(bookings, "_lock_provider", always_deadlock)
    with pytest.raises(OperationalError):
        book(provider, future_slot())
    assert len(calls) == 1
