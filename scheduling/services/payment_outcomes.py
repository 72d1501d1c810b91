"""What a payment's outcome does to its booking (docs/decisions/0013-payments.md).

payments.services calls these inside its own transaction, after `booking_lock_for_payment` has taken
the locks in the scheduling order (provider, then booking); the payment rows are locked after them.
"""

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext

from notifications import services as notifications
from scheduling.booking_events import BookingEvent, booking_changed
from scheduling.errors import InvalidInput, InvalidTransition
from scheduling.models import BlockedTime, Booking, Provider
from scheduling.services.bookings import (
    EXCLUSION_VIOLATION,
    NO_OVERLAP_CONSTRAINT,
    _apply,
    _constraint_name,
    _lock_booking,
    _Overlap,
    _sqlstate,
)
from waitlist import hooks as waitlist


def booking_lock_for_payment(*, booking_id: int) -> Booking:
    """Lock the booking's provider row, then the booking row, for the caller's transaction: the order
    booking_create takes, so a payment settling a booking never deadlocks with a booking of its slot."""
    provider_id = Booking.objects.filter(pk=booking_id).values_list("provider_id", flat=True).first()
    if provider_id is None:
        raise InvalidInput(gettext("No such booking."), field="booking")
    Provider.objects.select_for_update().filter(pk=provider_id).values_list("pk", flat=True).first()
    return _lock_booking(booking_id)


def booking_confirm_paid(*, booking_id: int) -> Booking:
    """Confirm a pending booking whose payment has succeeded, even past its hold: a pending booking never
    let its slot go, so nobody else can have booked it. Locks the booking row."""
    with transaction.atomic():
        booking = _lock_booking(booking_id)
        _apply(booking, "confirm")
        booking.save()
        booking_changed(booking=booking, event=BookingEvent.CONFIRMED)
        was_offer = waitlist.booking_confirmed(booking=booking)
        notifications.booking_confirmed(booking=booking, tell_customer=not was_offer)
        return booking


def booking_reinstate(*, booking_id: int) -> Booking:
    """Take a released slot back for a booking paid after its hold was cancelled (expired or payment
    failed), if the slot is still free: no live booking over it (the exclusion constraint decides), no
    blocked time, not started. Raises SlotUnavailable (or InvalidTransition) otherwise, leaving the
    booking cancelled. The caller holds the provider and booking locks (`booking_lock_for_payment`).
    """
    with transaction.atomic():
        booking = _lock_booking(booking_id)
        if booking.start_at <= timezone.now():
            raise InvalidTransition("The booking's time has already begun.")
        blocked = BlockedTime.objects.filter(
            provider_id=booking.provider_id, start_at__lt=booking.end_at, end_at__gt=booking.start_at
        ).exists()
        if blocked:
            raise InvalidTransition("The provider has blocked this time since.")
        _apply(booking, "reinstate")
        try:
            with transaction.atomic():
                booking.save()
        except IntegrityError as exc:
            if _sqlstate(exc) == EXCLUSION_VIOLATION and _constraint_name(exc) == NO_OVERLAP_CONSTRAINT:
                raise _Overlap(booking).as_conflict() from exc
            raise
        booking_changed(booking=booking, event=BookingEvent.CONFIRMED)
        notifications.booking_confirmed(booking=booking)
        waitlist.booking_confirmed(booking=booking)
        return booking
