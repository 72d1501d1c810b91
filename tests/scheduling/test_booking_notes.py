"""booking_update_notes: the one write the console's booking form makes."""

import pytest

from scheduling.errors import InvalidInput
from scheduling.models import Booking, BookingStatus
from scheduling.services import booking_cancel, booking_update_notes
from tests.factories import BookingFactory

pytestmark = pytest.mark.django_db


def test_update_notes_changes_the_notes():
    booking = BookingFactory(notes="")
    booking_update_notes(booking_id=booking.pk, notes="Bring the X-rays.")
    assert Booking.objects.get(pk=booking.pk).notes == "Bring the X-rays."


def test_update_notes_never_undoes_a_transition_made_since_the_booking_was_read():
    stale = BookingFactory(status=BookingStatus.CONFIRMED)
    booking_cancel(booking_id=stale.pk, reason="provider")
    booking_update_notes(booking_id=stale.pk, notes="called the customer")
    fresh = Booking.objects.get(pk=stale.pk)
    assert (fresh.status, fresh.cancel_reason) == (BookingStatus.CANCELLED, "provider")
    assert fresh.notes == "called the customer"


def test_update_notes_of_a_missing_booking_is_invalid_input():
    with pytest.raises(InvalidInput):
        booking_update_notes(booking_id=999_999, notes="x")
