"""Reads of the waitlist for its pages and messages."""

from django.db.models import Q

from waitlist import links
from waitlist.models import EntryStatus, WaitlistEntry


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
