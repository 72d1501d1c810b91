"""Bookings written to the provider's two-way calendars (CalDAV, Google, Microsoft): called by
scheduling.booking_events inside the booking's transaction (docs/decisions/0015-calendar-sync.md).

Each change writes one CalendarExport row per active connection of the provider whose adapter can
export; the rows commit or roll back with the change, and are sent after the commit (the outbox's
wake-up, notifications/wakeup.py, and the minute sweep for whatever it missed). A calendar that is down
delays its rows, never the booking.
"""

from uuid import uuid4

from django.db import transaction
from django.utils import timezone

from calendars.adapters import AdapterError, adapter_class
from calendars.models import CalendarConnection, CalendarExport
from notifications import wakeup
from scheduling.ics import booking_uid, calendar_uid_host
from scheduling.models import Booking, BookingStatus

# The booking's times and status in the calendar do not change with these.
UNCHANGED_IN_CALENDAR = {"completed", "no_show"}


def export_uid(booking: Booking) -> str:
    """The UID of the booking's event in the provider's calendars; import skips events with it."""
    return booking_uid(booking)


def exported_uids(uids: set[str], *, provider_id: int) -> set[str]:
    """Those of `uids` that are the export UIDs of the provider's bookings. One query."""
    suffix = f"@{calendar_uid_host()}"
    references = {uid[: -len(suffix)] for uid in uids if uid.endswith(suffix)}
    if not references:
        return set()
    found = Booking.objects.filter(provider_id=provider_id, reference__in=references).values_list(
        "reference", flat=True
    )
    return {f"{reference}{suffix}" for reference in found}


def exporting_connections(provider_id: int) -> list[CalendarConnection]:
    connections = CalendarConnection.objects.filter(provider_id=provider_id, is_active=True).only("pk", "kind")
    return [connection for connection in connections if _can_export(connection.kind)]


def booking_changed(*, booking: Booking, event: str, previous: Booking | None = None) -> None:
    """Queue the booking's export to each of its provider's two-way calendars: for a move, the old
    booking's event too (it must leave the calendar)."""
    if str(event) in UNCHANGED_IN_CALENDAR:
        return
    connections = exporting_connections(booking.provider_id)
    if not connections:
        return
    now = timezone.now()
    affected = [booking] if previous is None else [previous, booking]
    rows = CalendarExport.objects.bulk_create(
        [_row(connection.pk, changed, event=str(event), now=now) for connection in connections for changed in affected]
    )
    _wake_on_commit([row.pk for row in rows])


def exports_backfill(*, connection_id: int) -> int:
    """Bring a two-way calendar up to date after it was created, switched back on, or pointed at a new
    url, account or credentials: what was skipped or failed while it was off or wrong, and bookings made
    before it existed, are sent now. Returns the number of rows queued.

    Queues one row for each of the provider's confirmed bookings that has not ended, and re-queues the
    newest failed or skipped row of each other booking that has not ended (a cancel whose delete never
    went through). A booking that already has a row waiting is left alone, so calling this twice queues
    nothing twice. Does nothing for a switched-off or read-only connection."""
    connection = CalendarConnection.objects.filter(pk=connection_id, is_active=True).only("kind", "provider_id").first()
    if connection is None or not _can_export(connection.kind):
        return 0
    now = timezone.now()
    with transaction.atomic():
        exports = CalendarExport.objects.filter(connection_id=connection_id)
        waiting = set(exports.filter(status=CalendarExport.WAITING).values_list("booking_id", flat=True))
        current = Booking.objects.filter(provider_id=connection.provider_id, end_at__gt=now).exclude(pk__in=waiting)
        confirmed = list(current.filter(status=BookingStatus.CONFIRMED))
        stuck = (
            exports.filter(
                status__in=(CalendarExport.Status.FAILED, CalendarExport.Status.SKIPPED),
                booking__in=current.exclude(status=BookingStatus.CONFIRMED),
            )
            .order_by("booking_id", "-created_at", "-pk")
            .distinct("booking_id")
            .values_list("pk", flat=True)
        )
        stuck = list(stuck)
        requeued = CalendarExport.objects.filter(pk__in=stuck).update(
            status=CalendarExport.WAITING, attempts=0, next_attempt_at=now, claimed_at=None, updated_at=now
        )
        rows = CalendarExport.objects.bulk_create(
            [_row(connection.pk, booking, event="backfill", now=now) for booking in confirmed]
        )
    _wake_on_commit([row.pk for row in rows] + stuck)
    return len(rows) + requeued


def _row(connection_id: int, booking: Booking, *, event: str, now) -> CalendarExport:
    return CalendarExport(
        connection_id=connection_id,
        booking=booking,
        uid=export_uid(booking),
        event=event,
        next_attempt_at=now,
        # A ledger key per change: rows are never merged (a claimed row may have read the booking
        # before this change; a new row makes sure its effect is sent).
        dedup_key=f"calendar-export:{uuid4().hex}",
    )


def _wake_on_commit(pks: list[int]) -> None:
    if pks:
        wakeup.wake_on_commit("calendar_exports")


def _can_export(kind: str) -> bool:
    try:
        return adapter_class(kind).can_export
    except AdapterError:
        return False
