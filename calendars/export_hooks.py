"""Bookings written to the provider's two-way calendars (CalDAV, Google, Microsoft): called by
scheduling.booking_events inside the booking's transaction (docs/decisions/0015-calendar-sync.md).

Each change writes one CalendarExport row per active connection of the provider whose adapter can
export; the rows commit or roll back with the change, and are sent after the commit (the outbox's
wake-up, notifications/wakeup.py, and the minute sweep for whatever it missed). A calendar that is down
delays its rows, never the booking.
"""

from urllib.parse import urlsplit
from uuid import uuid4

from django.conf import settings
from django.utils import timezone

from calendars.adapters import AdapterError, adapter_class
from calendars.models import CalendarConnection, CalendarExport
from notifications import wakeup
from scheduling.ics import booking_uid
from scheduling.models import Booking

# The booking's times and status in the calendar do not change with these.
UNCHANGED_IN_CALENDAR = {"completed", "no_show"}


def export_uid(booking: Booking) -> str:
    """The UID of the booking's event in the provider's calendars; import skips events with it."""
    return booking_uid(booking, host=urlsplit(settings.SITE_URL).netloc or "booking")


def exported_uids(uids: set[str], *, provider_id: int) -> set[str]:
    """Those of `uids` that are the export UIDs of the provider's bookings. One query."""
    suffix = "@" + export_uid(Booking(reference=""))[1:]
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
        [
            CalendarExport(
                connection=connection,
                booking=changed,
                uid=export_uid(changed),
                event=str(event),
                next_attempt_at=now,
                # A ledger key per change: rows are never merged (a claimed row may have read the
                # booking before this change; a new row makes sure its effect is sent).
                dedup_key=f"calendar-export:{uuid4().hex}",
            )
            for connection in connections
            for changed in affected
        ]
    )
    if rows:
        wakeup.wake_on_commit("calendar_exports")


def _can_export(kind: str) -> bool:
    try:
        return adapter_class(kind).can_export
    except AdapterError:
        return False
