"""booking_cancel's optional note: the canceller's reason, kept in the booking's notes."""

from scheduling.services import booking_cancel
from tests.pages.conftest import make_booking


def test_a_cancel_note_follows_the_existing_notes(provider):
    booking = make_booking(provider)
    booking.notes = "Prefers mornings."
    booking.save(update_fields=["notes"])

    booking = booking_cancel(booking_id=booking.pk, note="Moving abroad")

    assert booking.notes == "Prefers mornings.\nCancellation note: Moving abroad"


def test_cancelling_without_a_note_leaves_the_notes_alone(provider):
    booking = make_booking(provider)

    booking = booking_cancel(booking_id=booking.pk)

    assert booking.notes == ""
