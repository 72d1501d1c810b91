"""Hooks the scheduling services call inside their transactions (docs/decisions/0014-waitlist.md).

Like notifications.services and payments.ledger, this module imports scheduling models, never
scheduling services. The offers themselves are made by a task sent on commit (waitlist.tasks), so a
rolled-back change offers nothing and the change itself never waits for the offer search.
"""

from datetime import datetime

from django.db import transaction
from django.utils import timezone

from scheduling.models import Booking, CancelReason
from waitlist.models import EntryStatus, WaitlistEntry


def slot_may_have_freed(*, provider_id: int, freed: tuple[datetime, datetime] | None = None) -> None:
    """A booking of this provider ended, its hours widened or a block was lifted: look for offers after
    the commit, only around `freed` when the change freed just that span (a booking's). The Beat sweep
    searches everything every minute, so a lost task only delays an offer."""
    from waitlist import tasks  # tasks import services, which import scheduling services

    transaction.on_commit(lambda: tasks.kick_offers(provider_id, freed=freed), robust=True)


def booking_cancelled(*, booking: Booking) -> bool:
    """A cancelled offer closes its entry: declined (withdrawn) or lapsed (expired), and the slot goes on
    to the next in line. An offer the provider cancelled was nobody's fault on the customer's side: the
    entry goes back to waiting in its old place, and nothing is said. Returns whether the booking was a
    live offer (its customer hears about it from the waitlist's messages, not the booking's)."""
    entry = WaitlistEntry.objects.select_for_update().filter(offer_booking=booking, status=EntryStatus.OFFERED).first()
    if entry is not None:
        if booking.cancel_reason == CancelReason.PROVIDER:
            entry.status, entry.offer_booking, entry.offer_expires_at = EntryStatus.WAITING, None, None
            entry.save(update_fields=["status", "offer_booking", "offer_expires_at", "updated_at"])
        else:
            declined = booking.cancel_reason in (CancelReason.CUSTOMER, CancelReason.DECLINED)
            entry.status = EntryStatus.WITHDRAWN if declined else EntryStatus.EXPIRED
            entry.closed_at = timezone.now()
            entry.save(update_fields=["status", "closed_at", "updated_at"])
            from waitlist import messages

            messages.offer_closed(entry=entry, booking=booking)
    slot_may_have_freed(provider_id=booking.provider_id, freed=(booking.blocked_from, booking.blocked_until))
    return entry is not None


def is_offer(*, booking: Booking) -> bool:
    """Whether the booking is (or was) a waitlist offer."""
    return WaitlistEntry.objects.filter(offer_booking=booking).exists()


def booking_confirmed(*, booking: Booking) -> bool:
    """An offer confirmed (accepted, paid, or confirmed by staff) books its entry. Returns whether it
    was an offer: its customer is told by the waitlist's "booked" message, not the booking's."""
    entry = WaitlistEntry.objects.select_for_update().filter(offer_booking=booking).first()
    if entry is None or entry.status != EntryStatus.OFFERED:
        return False
    entry.status = EntryStatus.BOOKED
    entry.closed_at = timezone.now()
    entry.save(update_fields=["status", "closed_at", "updated_at"])
    from waitlist import messages

    messages.offer_booked(entry=entry, booking=booking)
    from notifications import webhook_events

    webhook_events.waitlist_event(entry=entry, booking=booking, type_=webhook_events.WAITLIST_BOOKED)
    return True
