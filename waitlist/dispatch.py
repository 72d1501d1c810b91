"""Sending the waitlist's outbox (`WaitlistMessage`) with the loop the booking outbox uses
(notifications/dispatch.py: claim with SKIP LOCKED, send outside the transaction, record each result
under the claim). Which failures can repeat a send, and how rarely, is written there and holds here.
"""

from datetime import datetime

from notifications import dispatch
from notifications.dispatch import BatchResult
from scheduling.models import BookingStatus
from waitlist import content
from waitlist.models import EntryStatus, WaitlistMessage

BATCH_SIZE = 100
Kind, Status = WaitlistMessage.Kind, WaitlistMessage.Status


def _triage(message: WaitlistMessage, now: datetime) -> tuple[str, str] | None:
    """Close a row whose news is stale by the time it would go out, as the booking outbox does: an
    offer no longer open (declined, lapsed or taken meanwhile) must not invite an accept that fails."""
    entry, booking = message.entry, message.booking
    if message.kind == Kind.OFFER:
        if entry.status != EntryStatus.OFFERED or entry.offer_booking_id != message.booking_id:
            return Status.SKIPPED, f"The offer is no longer open (the entry is {entry.status})."
        if booking.status != BookingStatus.PENDING or (booking.hold_expires_at and booking.hold_expires_at <= now):
            return Status.SKIPPED, f"The offered time is no longer held ({booking.status})."
    if message.kind == Kind.BOOKED and booking.status != BookingStatus.CONFIRMED:
        return Status.SKIPPED, f"The booking is no longer confirmed ({booking.status})."
    return None


def messages_dispatch(
    *, pks: list[int] | None = None, limit: int = BATCH_SIZE, now: datetime | None = None
) -> BatchResult:
    """Send one batch of due waitlist messages (or only those of `pks` that are due and unclaimed)."""
    return dispatch.dispatch_batch(
        WaitlistMessage,
        limit=limit,
        pks=pks,
        now=now,
        triage=_triage,
        render=lambda row, at: content.message_for(row, now=at),
        select_related=(
            "entry__service",
            "entry__provider",
            "booking__service",
            "booking__provider",
        ),
    )


def messages_drain(*, batch_size: int = BATCH_SIZE, budget_seconds: float = 50) -> BatchResult:
    return dispatch.drain(lambda: messages_dispatch(limit=batch_size), limit=batch_size, budget_seconds=budget_seconds)
