"""Reads of the waitlist for its pages and messages."""

from datetime import datetime

from django.db.models import Q, QuerySet

from notifications.models import OUTBOX_DONE
from waitlist import links
from waitlist.models import LIVE_ENTRY_STATUSES, EntryStatus, WaitlistEntry, WaitlistMessage


def entry_by_token(*, entry_id: int, token: str) -> WaitlistEntry | None:
    """The entry this private link opens, or None: an unknown id and a wrong or revoked token look the same."""
    signed = links.unsign(token)
    if signed is None or signed[0] != entry_id:
        return None
    entry = (
        WaitlistEntry.objects.select_related("service", "provider", "offer_booking__provider", "offer_booking__service")
        .filter(pk=entry_id)
        .first()
    )
    if entry is None or entry.manage_secret_version != signed[1]:
        return None
    return entry


def position(*, entry: WaitlistEntry) -> int | None:
    """The entry's place in its service's line: 1 + the waiting entries of that service that joined
    before it (the order offers follow). None once it no longer waits."""
    if entry.status != EntryStatus.WAITING:
        return None
    earlier = Q(created_at__lt=entry.created_at) | Q(created_at=entry.created_at, pk__lt=entry.pk)
    ahead = WaitlistEntry.objects.filter(earlier, service_id=entry.service_id, status=EntryStatus.WAITING).count()
    return ahead + 1


def messages_past_retention(*, cutoff: datetime) -> QuerySet[WaitlistMessage]:
    """The waitlist messages `notifications.services.messages_purge` may delete: sent, failed or skipped,
    last changed before `cutoff`, of an entry that is over (booked, expired or withdrawn), whose window
    ended and which last changed before `cutoff`, and about no booking or one that ended before it.
    Each message's key belongs to one event of its entry's life, and an entry long over has none left."""
    return WaitlistMessage.objects.filter(
        Q(booking__isnull=True) | Q(booking__end_at__lt=cutoff),
        status__in=OUTBOX_DONE,
        updated_at__lt=cutoff,
        entry__window_end__lt=cutoff,
        entry__updated_at__lt=cutoff,
    ).exclude(entry__status__in=LIVE_ENTRY_STATUSES)
