"""Reads about imported calendar busy times."""

from collections.abc import Iterable

from django.db.models import Exists, OuterRef, QuerySet
from django.utils import timezone

from scheduling.models import BlockedTime, Booking


def bookings_overlapping_external_busy(*, provider_ids: Iterable[int] | QuerySet, now=None) -> QuerySet[Booking]:
    """Live, not yet finished bookings of these providers that a busy time imported from one of their
    calendars overlaps (buffers included, as availability counts them): staff should look at them.
    Imported busy time never cancels a booking, so this flag is all that happens. One query."""
    imported_overlap = BlockedTime.objects.filter(
        provider_id=OuterRef("provider_id"),
        reason=BlockedTime.Reason.EXTERNAL,
        imported_event__isnull=False,
        start_at__lt=OuterRef("blocked_until"),
        end_at__gt=OuterRef("blocked_from"),
    )
    return (
        Booking.objects.live()
        .filter(provider_id__in=provider_ids, end_at__gt=now or timezone.now())
        .filter(Exists(imported_overlap))
        .order_by("start_at")
    )
