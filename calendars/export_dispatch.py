"""Sending the export outbox (`CalendarExport`) with the loop of notifications/dispatch.py (claim
with SKIP LOCKED, send outside the transaction, record each result under the claim, retry with
backoff). Which failures can repeat a send is written there; here a repeat is harmless, since writing
an event is a replace by UID and deleting a missing one is no error.

Order-insensitive: a send reads the booking as it is at that moment, not as it was when the row was
written. Confirmed (or already held: completed, no-show) -> the event is written; anything else
(cancelled, expired, a pending hold) -> it is deleted. Sends for one booking and one connection take
a session advisory lock, so two workers never interleave a read and a write: the one that sends last
read the latest state, and the calendar converges whatever order rows are claimed in.
"""

from datetime import datetime, timedelta

from booking_site.sql import fetch_value
from calendars.adapters import AdapterError, ExportEvent, adapter_for
from calendars.feed import event_summary
from calendars.models import CalendarConnection, CalendarExport, ProviderFeed
from calendars.services import store_refreshed_credentials
from notifications import dispatch
from notifications.channels import PermanentSendError, TransientSendError
from notifications.dispatch import BatchResult, SendDeferred
from scheduling.models import Booking, BookingStatus

BATCH_SIZE = 100
ADVISORY_NAMESPACE = 1_616  # pg_try_advisory_lock(namespace, hash of connection and booking)
IN_CALENDAR = (BookingStatus.CONFIRMED, BookingStatus.COMPLETED, BookingStatus.NO_SHOW)
Status = CalendarExport.Status
# A calendar that is down for a weekend still gets its events: retried with the usual doubling backoff
# (at most an hour apart) for this long, then failed (staff fixing the connection re-queues it:
# calendars.export_hooks.exports_backfill).
RETRY_FOR = timedelta(days=3)
# Another worker holds this booking's lock for this calendar: try again shortly, no attempt counted.
LOCK_BUSY_DELAY = timedelta(seconds=5)


def retry_delay(attempts: int) -> timedelta | None:
    """Delay after `attempts` failed sends, or None once they have been spread over RETRY_FOR."""
    spent = sum((dispatch.backoff(n) for n in range(1, attempts)), timedelta())
    return None if spent >= RETRY_FOR else dispatch.backoff(attempts)


def export_event(booking: Booking, *, uid: str) -> ExportEvent:
    hide = ProviderFeed.objects.filter(provider_id=booking.provider_id, hide_customer_details=True).exists()
    return ExportEvent(
        uid=uid,
        start=booking.start_at,
        end=booking.end_at,
        summary=event_summary(booking, hide_customer_details=hide),
        description=f"Booking {booking.reference}",
        # Seconds since the booking was made: grows with every change, as RFC 5545 asks of SEQUENCE.
        sequence=int((booking.updated_at - booking.created_at).total_seconds()),
    )


def _triage(row: CalendarExport, now: datetime) -> tuple[str, str] | None:
    if not row.connection.is_active:
        return Status.SKIPPED, "The calendar connection is switched off."
    return None


def _send(row: CalendarExport, now: datetime) -> str:
    # Raw: advisory locks are functions the ORM has no call for.
    key = [ADVISORY_NAMESPACE, f"{row.connection_id}:{row.booking_id}"]
    if not fetch_value("SELECT pg_try_advisory_lock(%s, hashtext(%s))", key):
        raise SendDeferred("Another export of this booking to this calendar is in progress.", delay=LOCK_BUSY_DELAY)
    try:
        return _send_locked(row)
    finally:
        fetch_value("SELECT pg_advisory_unlock(%s, hashtext(%s))", key)


def _send_locked(row: CalendarExport) -> str:
    # Read now, under the lock: the current state, whichever change queued this row.
    booking = Booking.objects.select_related("service").get(pk=row.booking_id)
    connection = CalendarConnection.objects.select_related("provider").get(pk=row.connection_id)
    adapter = adapter_for(connection)
    try:
        if booking.status in IN_CALENDAR:
            adapter.write_event(event=export_event(booking, uid=row.uid))
            outcome = "written"
        else:
            adapter.delete_event(uid=row.uid)
            outcome = "deleted"
    except AdapterError as exc:
        error_class = TransientSendError if exc.retryable else PermanentSendError
        raise error_class(str(exc)) from exc
    finally:
        store_refreshed_credentials(adapter=adapter)
    return outcome


def exports_dispatch(
    *, pks: list[int] | None = None, limit: int = BATCH_SIZE, now: datetime | None = None
) -> BatchResult:
    """Send one batch of due exports (or only those of `pks` that are due and unclaimed)."""
    return dispatch.dispatch_batch(
        CalendarExport,
        limit=limit,
        pks=pks,
        now=now,
        triage=_triage,
        send=_send,
        select_related=("connection",),
        retry_delay=retry_delay,
    )


def exports_drain(*, batch_size: int = BATCH_SIZE, budget_seconds: float = 50) -> BatchResult:
    return dispatch.drain(lambda: exports_dispatch(limit=batch_size), limit=batch_size, budget_seconds=budget_seconds)
