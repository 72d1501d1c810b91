"""Every legal and every illegal booking transition, through the services (docs/architecture.md §2, invariant 3)."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django_fsm import ConcurrentTransition

from scheduling.errors import InvalidTransition
from scheduling.models import Booking, BookingStatus
from scheduling.services import booking_cancel, booking_complete, booking_confirm, booking_mark_no_show
from tests.factories import BookingFactory

pytestmark = pytest.mark.django_db

TRANSITIONS = {
    "confirm": lambda pk: booking_confirm(booking_id=pk),
    "cancel": lambda pk: booking_cancel(booking_id=pk),
    "complete": lambda pk: booking_complete(booking_id=pk),
    "mark_no_show": lambda pk: booking_mark_no_show(booking_id=pk),
}
LEGAL = {
    (BookingStatus.PENDING, "confirm"): BookingStatus.CONFIRMED,
    (BookingStatus.PENDING, "cancel"): BookingStatus.CANCELLED,
    (BookingStatus.CONFIRMED, "cancel"): BookingStatus.CANCELLED,
    (BookingStatus.CONFIRMED, "complete"): BookingStatus.COMPLETED,
    (BookingStatus.CONFIRMED, "mark_no_show"): BookingStatus.NO_SHOW,
}
ILLEGAL = [(status, name) for status in BookingStatus.values for name in TRANSITIONS if (status, name) not in LEGAL]


def started_booking(status: str) -> Booking:
    """A booking that began an hour ago, so time conditions never stand in the way."""
    return BookingFactory(status=status, start_at=timezone.now().replace(microsecond=0) - timedelta(hours=1))


@pytest.mark.parametrize(("source", "name"), list(LEGAL))
def test_legal_transition_moves_to_its_target(source, name):
    booking = started_booking(source)
    TRANSITIONS[name](booking.pk)
    booking.refresh_from_db()
    assert booking.status == LEGAL[(source, name)]


@pytest.mark.parametrize(("source", "name"), ILLEGAL)
def test_illegal_transition_is_refused_and_changes_nothing(source, name):
    booking = started_booking(source)
    with pytest.raises(InvalidTransition):
        TRANSITIONS[name](booking.pk)
    booking.refresh_from_db()
    assert booking.status == source


@pytest.mark.parametrize("name", ["complete", "mark_no_show"])
def test_completing_or_no_show_before_the_start_is_refused(name):
    booking = BookingFactory(status=BookingStatus.CONFIRMED, start_at=timezone.now() + timedelta(hours=2))
    with pytest.raises(InvalidTransition, match="before it starts"):
        TRANSITIONS[name](booking.pk)
    booking.refresh_from_db()
    assert booking.status == BookingStatus.CONFIRMED


def test_status_cannot_be_assigned_directly():
    booking = BookingFactory(status=BookingStatus.CONFIRMED)
    with pytest.raises(AttributeError):
        booking.status = BookingStatus.CANCELLED


def test_a_stale_copy_cannot_overwrite_a_concurrent_transition():
    booking = BookingFactory(status=BookingStatus.PENDING)
    stale = Booking.objects.get(pk=booking.pk)
    booking_confirm(booking_id=booking.pk)
    stale.cancel(reason="customer")
    with pytest.raises(ConcurrentTransition), transaction.atomic():
        stale.save()
    assert Booking.objects.get(pk=booking.pk).status == BookingStatus.CONFIRMED


def test_plain_full_clean_trips_over_the_protected_status_field():
    booking = BookingFactory(status=BookingStatus.CONFIRMED)
    with pytest.raises(AttributeError):
        booking.full_clean()


def test_validate_passes_for_a_valid_booking_despite_the_protected_field():
    booking = BookingFactory(status=BookingStatus.CONFIRMED)
    booking.validate()


def test_validate_reports_an_overlap_before_the_database_does():
    existing = BookingFactory(status=BookingStatus.CONFIRMED)
    clash = BookingFactory.build(provider=existing.provider, customer=existing.customer, start_at=existing.start_at)
    with pytest.raises(ValidationError) as exc:
        clash.validate()
    assert exc.value.messages == ["This time overlaps another live booking of this provider, buffers included."]
