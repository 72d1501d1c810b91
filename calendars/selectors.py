"""Reads about calendar connections and the busy times they imported."""

from collections.abc import Iterable
from datetime import datetime
from urllib.parse import urlsplit

from django.db.models import Exists, Max, OuterRef, QuerySet
from django.utils import timezone

from calendars.models import CalendarExport
from notifications.models import OUTBOX_DONE
from scheduling.models import BlockedTime, Booking, Service

DEFAULT_HORIZON_DAYS = 90
SHOWN_URL_TAIL = 4


def provider_horizon_days(*, provider_id: int) -> int:
    """How far ahead the provider can be booked: the longest horizon of its active services (the window
    a sync reads and the feed shows)."""
    days = Service.objects.filter(providers=provider_id, is_active=True).aggregate(m=Max("max_advance_days"))["m"]
    return days or DEFAULT_HORIZON_DAYS


def shown_url(connection) -> str:
    """The connection's address as staff and the API see it. An iCal URL is itself the secret that reads
    the calendar, so only its scheme, host and last characters are shown; a CalDAV collection's URL is
    not secret (its password is kept apart) and is shown whole."""
    url = connection.url
    if connection.kind != "ical_url" or not url:
        return url
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return f"{parts.scheme}://{host}/…{url[-SHOWN_URL_TAIL:]}"


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


def exports_past_retention(*, cutoff: datetime) -> QuerySet[CalendarExport]:
    """The calendar exports `notifications.services.messages_purge` may delete: sent, failed or skipped,
    last changed before `cutoff`, of a booking that ended before it. Nothing reads them again: a backfill
    looks only at bookings that have not ended, and each row's key is its own."""
    return CalendarExport.objects.filter(
        status__in=OUTBOX_DONE,
        updated_at__lt=cutoff,
        booking__end_at__lt=cutoff,
    )
