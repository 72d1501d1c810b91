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

from calendars.adapters import ADAPTERS, adapter_class
from calendars.models import CalendarConnection, CalendarExport
from notifications import wakeup
from scheduling.booking_events import BookingEvent
from scheduling.ics import booking_uid, calendar_uid_host
from scheduling.models import Booking, BookingStatus, Provider

# The booking's times and status in the calendar do not change with these.
UNCHANGED_IN_CALENDAR = {BookingEvent.COMPLETED, BookingEvent.NO_SHOW}
# The kinds whose adapter writes bookings (CalDAV, Google, Microsoft), decided once.
EXPORT_KINDS = tuple(kind for kind in ADAPTERS if adapter_class(kind).can_export)


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


def exporting_connections(provider_id: int) -> list[int]:
    """The ids of the provider's active two-way connections. One query."""
    return list(
        CalendarConnection.objects.filter(provider_id=provider_id, is_active=True, kind__in=EXPORT_KINDS).values_list(
            "pk", flat=True
        )
    )


def follows_provider_sql(provider: str) -> str:
    """SQL saying whether the provider (the column expression `provider`) has a connection
    `exporting_connections` would find: the booking's lock read asks it in its own statement
    (scheduling.booking_events.presence_sql), so a provider without two-way calendars costs a booking
    no query here."""
    if not EXPORT_KINDS:
        return "FALSE"
    kinds = ", ".join(f"'{kind}'" for kind in EXPORT_KINDS)  # the adapters' own names, not input
    return (
        f"EXISTS (SELECT 1 FROM {CalendarConnection._meta.db_table} c"
        f" WHERE c.provider_id = {provider} AND c.is_active AND c.kind IN ({kinds}))"
    )


def booking_changed(*, booking: Booking, event: str, previous: Booking | None = None) -> None:
    """Queue the booking's export to each of its provider's two-way calendars: for a move, the old
    booking's event too (it must leave the calendar). A booking never confirmed was never written (a
    hold, an unpaid booking): making, expiring or cancelling it queues nothing and asks nothing."""
    if event in UNCHANGED_IN_CALENDAR:
        return
    affected = [changed for changed in (previous, booking) if changed is not None and changed.confirmed_at]
    if not affected:
        return
    connection_ids = exporting_connections(booking.provider_id)
    if not connection_ids:
        return
    now = timezone.now()
    CalendarExport.objects.bulk_create(
        [_row(pk, changed, event=str(event), now=now) for pk in connection_ids for changed in affected]
    )
    wakeup.wake_on_commit("calendar_exports")


def exports_backfill(*, connection_id: int) -> int:
    """Bring a two-way calendar up to date after it was created, switched back on, or pointed at a new
    url, account or credentials: what was skipped or failed while it was off or wrong, and bookings made
    before it existed, are sent now. Returns the number of rows queued.

    Queues one row for each of the provider's confirmed bookings that has not ended, and re-queues the
    newest failed or skipped row of each other booking that has not ended (a cancel whose delete never
    went through). A booking that already has a row waiting is left alone, so calling this twice queues
    nothing twice. Does nothing for a switched-off or read-only connection."""
    connection = CalendarConnection.objects.filter(pk=connection_id, is_active=True).only("kind", "provider_id").first()
    if connection is None or connection.kind not in EXPORT_KINDS:
        return 0
    now = timezone.now()
    with transaction.atomic():
        _wait_for_changes_in_flight(provider_id=connection.provider_id, now=now)
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
    if rows or stuck:
        wakeup.wake_on_commit("calendar_exports")
    return len(rows) + requeued


def _wait_for_changes_in_flight(*, provider_id: int, now) -> None:
    """Take the provider's row lock, then its current bookings' row locks (the lock order of
    scheduling/services/bookings.py), so the backfill's reads come after every change of them in flight.

    A booking made, moved, confirmed or cancelled by a transaction that looked for the provider's
    two-way calendars before this connection was committed queues no export of its own, and commits
    only after it. A new booking or a move holds the provider's row lock until it commits, a confirm
    or a cancel its booking's row lock: waiting for both here means the reads below, each a new
    snapshot, see those changes, and the backfill queues what their transactions did not."""
    # FOR NO KEY UPDATE: waits for those changes all the same, without holding up rows that merely
    # refer to these (an outbox row's foreign-key check takes a KEY SHARE lock).
    list(Provider.objects.select_for_update(no_key=True).filter(pk=provider_id).values_list("pk", flat=True))
    list(
        Booking.objects.select_for_update(no_key=True)
        .filter(provider_id=provider_id, end_at__gt=now)
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def _row(connection_id: int, booking: Booking, *, event: str, now) -> CalendarExport:
    return CalendarExport(
        connection_id=connection_id,
        booking=booking,
        uid=booking_uid(booking),
        event=event,
        next_attempt_at=now,
        # A ledger key per change: rows are never merged (a claimed row may have read the booking
        # before this change; a new row makes sure its effect is sent).
        dedup_key=f"calendar-export:{uuid4().hex}",
    )
