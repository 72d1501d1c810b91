"""What the waitlist tells the customer: rows of its outbox (`WaitlistMessage`), written in the
transaction of the change and sent after the commit by the outbox's wake-up (notifications/wakeup.py),
like the booking outbox.

The dedup key (kind, entry, booking, channel) writes each message once however often it is asked for.
"""

from django.utils import timezone

from booking_site.sql import insert_skipping_conflicts
from notifications import wakeup
from scheduling.models import Booking
from waitlist.models import WaitlistEntry, WaitlistMessage

Kind = WaitlistMessage.Kind


def joined(*, entry: WaitlistEntry) -> list[WaitlistMessage]:
    return enqueue(entry=entry, kind=Kind.JOINED)


def offered(*, entry: WaitlistEntry, booking: Booking) -> list[WaitlistMessage]:
    return enqueue(entry=entry, kind=Kind.OFFER, booking=booking)


def offer_closed(*, entry: WaitlistEntry, booking: Booking) -> list[WaitlistMessage]:
    """The offer lapsed or was declined: the customer may join again."""
    return enqueue(entry=entry, kind=Kind.CLOSED, booking=booking)


def offer_booked(*, entry: WaitlistEntry, booking: Booking) -> list[WaitlistMessage]:
    return enqueue(entry=entry, kind=Kind.BOOKED, booking=booking)


def window_passed(*, entry: WaitlistEntry) -> list[WaitlistMessage]:
    return enqueue(entry=entry, kind=Kind.ENDED)


def enqueue(*, entry: WaitlistEntry, kind: str, booking: Booking | None = None) -> list[WaitlistMessage]:
    now = timezone.now()
    rows = [
        WaitlistMessage(
            entry=entry,
            booking=booking,
            kind=kind,
            channel="email",
            address=entry.customer_email,
            next_attempt_at=now,
            dedup_key=f"waitlist:{kind}:{entry.pk}:{booking.pk if booking else '-'}:email",
        )
    ]
    written = insert_skipping_conflicts(rows, key="dedup_key")
    if written:
        wakeup.wake_on_commit("waitlist")
    return written
