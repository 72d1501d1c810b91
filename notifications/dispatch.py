"""Claim, send, record: the delivery loop shared by reminders and the outbox (docs/architecture.md §5).

One batch:
1. **Claim**, in one short transaction: `SELECT id ... FOR UPDATE SKIP LOCKED` on due rows (waiting
   status, `next_attempt_at <= now`), oldest first, up to `limit`, through a partial index in that
   order; then the locked rows are read with their booking. Rows that must not be sent
   (a reminder whose appointment has started: skipped, never sent late) are closed here. Every other
   row gets `claimed_at = now`, `attempts + 1` and `next_attempt_at = now + lease`, and the
   transaction commits. `now` is the database's clock, so leases mean the same on every host.
   Concurrent dispatchers (a second worker, Beat firing twice) skip the locked rows and, once the claim
   has committed, no longer see them as due: their claims are disjoint.
2. **Send**, outside any transaction, one row at a time; or, given `lane` and `concurrency` > 1, the
   rows of different lanes (a webhook's endpoint) in parallel threads, each lane in claim order, so
   one receiver still gets its deliveries one after the other and oldest first.
3. **Record** each result right after its send, in its own autocommitted UPDATE guarded by
   `claimed_at = <our claim>`: sent (with `sent_at`), or a failure (`last_error`), which is retried
   with exponential backoff (`NOTIFICATIONS_RETRY_BACKOFF_SECONDS` x 2^(attempts-1), at most one hour)
   until `NOTIFICATIONS_MAX_ATTEMPTS`, then `failed`. A permanent error (channel not configured, an
   address the provider refuses) fails at once. No exception escapes a batch.

Recovery: a claim that is never finished (the worker was killed) leaves the row waiting with
`next_attempt_at` at the end of its lease (`NOTIFICATIONS_CLAIM_LEASE_SECONDS`, 300 s): it becomes due
again by itself, and the next dispatch sends it. Nothing is lost. A worker only starts a send while
`elapsed + NOTIFICATIONS_SEND_TIMEOUT_SECONDS + margin < lease`; past that it hands the rest of its
claim back (due at once). So a live worker never sends a row whose lease another worker may already
have taken over.

**Which sends can repeat, and how many.** Delivery is at least once; a second copy needs a send that
the channel accepted but that was never recorded:
- A dispatcher process that dies (SIGKILL, OOM, host loss) or freezes longer than the lease *between a
  send and the UPDATE recording it*. Each result is committed right after its own send, so this is at
  most **one message per dead or frozen process** (the one in flight); the rest of its claimed batch was
  either recorded already or never sent, and is sent once after the lease. The copy goes out when the
  lease ends, at most 300 s after the claim.
- A "sent" UPDATE that fails because the database is unreachable (an outage, a restart, a failover)
  right after the send. The write is retried on a fresh connection for up to about 7.5 s
  (`RECORD_RETRY_DELAYS`, cut short at `record_margin()`, 10 s with the default lease) before it is
  given up; only an outage longer
  than that leaves the row claimed, and it is sent again when the lease ends: at most **one copy per
  row whose send completed in that window** (one row per dispatcher, since sends are sequential).
- A send whose acceptance was lost on the way back (SMTP or HTTP timeout, a reset after the provider
  accepted): it is recorded as a transient failure and retried, so one extra copy per such ambiguous
  failure, bounded by the attempt limit.
Every copy carries the ledger key (email `Message-ID` and `X-Notification-Key`, push `idempotency_key`),
so a receiver can fold it. Not a repeat but worth knowing: a reminder cancelled or moved (reschedule)
while its send is in flight still goes out once for the old state; the guarded UPDATE then leaves the
cancellation or the move in place.
"""

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import DatabaseError, InterfaceError, OperationalError, connection, connections, models, transaction
from django.db.models import F
from django.utils import timezone

from booking_site.sql import fetch_value
from notifications.channels import OutgoingMessage, SendError, Senders

logger = logging.getLogger(__name__)

MAX_BACKOFF = timedelta(hours=1)
# Pauses between attempts to record a send that went out while the database is unreachable (7.5 s in
# all). `_record_sent` stops early once the next pause would pass `record_margin()`, the part of the
# lease that send_budget() keeps for recording, so the retries end before the lease does.
RECORD_RETRY_DELAYS = (0.25, 0.5, 1.0, 2.0, 3.75)

# (status, reason) for a row that must be closed instead of sent; None to send it.
Triage = Callable[[models.Model, datetime], tuple[str, str] | None]
Render = Callable[[models.Model, datetime], OutgoingMessage]
# Sends one row itself (not through a channel: a calendar export, a webhook) and returns the id to
# record; raises SendError.
Send = Callable[[models.Model, datetime], str]
# Delay before the next attempt after `attempts` failed ones, or None to fail for good; replaces the
# exponential backoff and NOTIFICATIONS_MAX_ATTEMPTS (webhooks keep an explicit schedule).
RetryDelay = Callable[[int], timedelta | None]


class SendDeferred(Exception):
    """Raised by a `send` that cannot start now for a reason that is not the receiver's (another worker
    holds the same target): the row is handed back due in `delay`, and the attempt is not counted."""

    def __init__(self, reason: str, *, delay: timedelta):
        super().__init__(reason)
        self.delay = delay


@dataclass
class BatchResult:
    claimed: int = 0  # rows taken for sending
    closed: int = 0  # rows closed at claim time (skipped, cancelled)
    sent: int = 0
    retrying: int = 0
    failed: int = 0
    released: int = 0  # claimed but handed back unsent (the lease running short, or the send deferred)
    lost: int = 0  # sent, but the claim had been taken over or the row closed meanwhile
    unfinished: int = 0  # drain(): 1 when the time budget ran out before a batch came back short

    @property
    def rows(self) -> int:
        return self.claimed + self.closed


def db_now() -> datetime:
    """The database's clock, which every worker's leases are measured against."""
    # Raw: the ORM cannot SELECT an expression without reading a table.
    return fetch_value("SELECT clock_timestamp()")


def lease() -> timedelta:
    return timedelta(seconds=settings.NOTIFICATIONS_CLAIM_LEASE_SECONDS)


def record_margin() -> float:
    """Seconds of the lease kept, after the last possible send, for recording its result."""
    return min(10.0, settings.NOTIFICATIONS_CLAIM_LEASE_SECONDS * 0.1)


def send_budget() -> float:
    """Seconds after a claim during which a send may still start: the lease minus one send timeout
    minus a margin for recording the result."""
    lease_s = settings.NOTIFICATIONS_CLAIM_LEASE_SECONDS
    budget = lease_s - settings.NOTIFICATIONS_SEND_TIMEOUT_SECONDS - record_margin()
    if budget <= 0:
        raise ImproperlyConfigured(
            "NOTIFICATIONS_CLAIM_LEASE_SECONDS must exceed NOTIFICATIONS_SEND_TIMEOUT_SECONDS by a margin."
        )
    return budget


def backoff(attempts: int) -> timedelta:
    """Delay before the next attempt after `attempts` failed ones: base, 2x base, 4x base, ..."""
    base = settings.NOTIFICATIONS_RETRY_BACKOFF_SECONDS
    # The exponent is capped: past the hour it changes nothing, and a long retry (calendar exports)
    # would overflow timedelta.
    return min(timedelta(seconds=base * 2 ** min(max(0, attempts - 1), 30)), MAX_BACKOFF)


def dispatch_batch(
    model: type[models.Model],
    *,
    limit: int,
    triage: Triage,
    render: Render | None = None,
    send: Send | None = None,
    select_related: tuple[str, ...] = (),
    pks: list[int] | None = None,
    now: datetime | None = None,
    retry_delay: RetryDelay | None = None,
    lane: Callable[[models.Model], object] | None = None,
    concurrency: int = 1,
) -> BatchResult:
    """Claim up to `limit` due rows of `model`, send them, record each result. See the module docstring.

    Each row is sent through a channel (`render` makes its message), or by `send` itself (the
    calendar export writes to a calendar, calendars/export_dispatch.py; a webhook is signed and POSTed,
    notifications/webhook_delivery.py). `retry_delay` replaces the exponential backoff (webhooks keep an
    explicit schedule)."""
    if (render is None) == (send is None):
        raise TypeError("dispatch_batch needs exactly one of render and send.")
    if lane is not None and render is not None:
        raise TypeError("Lanes need `send`: the channel senders (an SMTP connection) are not shared across threads.")
    budget = send_budget()
    started = time.monotonic()
    result = BatchResult()
    with transaction.atomic():
        now = now or db_now()
        due = model.objects.due(now=now)
        if pks is not None:
            due = due.filter(pk__in=pks)
        # Lock the ids alone (the partial index in claim order, stopping after `limit`), then read the
        # locked rows with their booking: a join in the locking query would join every due row first.
        ids = list(
            due.select_for_update(skip_locked=True)
            .order_by("next_attempt_at", "id")
            .values_list("pk", flat=True)[:limit]
        )
        rows = list(model.objects.filter(pk__in=ids).select_related(*select_related).order_by("next_attempt_at", "id"))
        to_send = []
        closed: dict[tuple[str, str], list[int]] = {}
        for row in rows:
            verdict = triage(row, now)
            if verdict is None:
                to_send.append(row)
            else:
                closed.setdefault(verdict, []).append(row.pk)
        for (status, reason), ids in closed.items():
            model.objects.filter(pk__in=ids).update(status=status, last_error=reason, claimed_at=None, updated_at=now)
        if to_send:
            model.objects.filter(pk__in=[r.pk for r in to_send]).update(
                claimed_at=now, attempts=F("attempts") + 1, next_attempt_at=now + lease(), updated_at=now
            )
    result.closed = sum(len(ids) for ids in closed.values())
    result.claimed = len(to_send)
    for row in to_send:
        row.claimed_at, row.attempts = now, row.attempts + 1

    lanes: dict[object, list] = {}
    for row in to_send:
        lanes.setdefault(lane(row) if lane else None, []).append(row)
    with Senders() as senders:

        def run_lane(rows: list, part: BatchResult) -> None:
            for index, row in enumerate(rows):
                if time.monotonic() - started > budget:
                    part.released = _release(model, rows[index:], claimed_at=now)
                    logger.warning("%s: lease running short, handed back %d rows", model.__name__, part.released)
                    return
                _send_and_record(
                    model, row, senders=senders, render=render, send=send, result=part, retry_delay=retry_delay
                )

        if concurrency <= 1 or len(lanes) <= 1:
            run_lane(to_send, result)
        else:
            _run_lanes_in_threads(run_lane, list(lanes.values()), concurrency=concurrency, result=result)
    return result


def _run_lanes_in_threads(run_lane, lanes: list[list], *, concurrency: int, result: BatchResult) -> None:
    """Up to `concurrency` threads, each taking whole lanes; every thread closes its own database
    connection when done (Django's connections are per thread)."""
    pending = iter(lanes)
    take = threading.Lock()
    parts: list[BatchResult] = []

    def worker() -> None:
        part = BatchResult()
        parts.append(part)
        try:
            while True:
                with take:
                    rows = next(pending, None)
                if rows is None:
                    return
                run_lane(rows, part)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(min(concurrency, len(lanes)))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for part in parts:
        _add(result, part)


def _add(total: BatchResult, part: BatchResult) -> None:
    for name in BatchResult.__dataclass_fields__:
        setattr(total, name, getattr(total, name) + getattr(part, name))


def _send_and_record(
    model,
    row,
    *,
    senders: Senders,
    render: Render | None,
    send: Send | None,
    result: BatchResult,
    retry_delay: "RetryDelay | None",
) -> None:
    try:
        if send is not None:
            provider_id = send(row, timezone.now())
        else:
            provider_id = senders.send(render(row, timezone.now()))
    except SendDeferred as exc:
        result.released += _release(model, [row], claimed_at=row.claimed_at, delay=exc.delay)
    except SendError as exc:
        _record_failure(model, row, error=str(exc), permanent=exc.permanent, result=result, retry_delay=retry_delay)
    except Exception as exc:  # a bad row (template, data) must not stop the batch
        logger.exception("%s %s: unexpected error while sending", model.__name__, row.pk)
        _record_failure(
            model, row, error=f"{type(exc).__name__}: {exc}", permanent=False, result=result, retry_delay=retry_delay
        )
    else:
        _record_sent(model, row, result=result, provider_message_id=provider_id)


def _record_sent(model, row, *, result: BatchResult, provider_message_id: str) -> None:
    """Record a send the channel accepted, retrying on a fresh connection while the database is
    unreachable: every failed attempt here is a message that would go out twice. The pauses stay
    within record_margin(), past which another worker may already have taken the claim over."""
    started = time.monotonic()
    for delay in (*RECORD_RETRY_DELAYS, None):
        try:
            _record(
                model,
                row,
                result,
                status="sent",
                sent_at=timezone.now(),
                last_error="",
                provider_message_id=provider_message_id,
            )
            return
        except (OperationalError, InterfaceError):
            if delay is None or time.monotonic() - started + delay > record_margin():
                raise
            logger.warning("%s %s: sent, but recording it failed; retrying in %.2fs", model.__name__, row.pk, delay)
            time.sleep(delay)
            # A broken connection stays broken: drop it so the next attempt opens a new one.
            _discard_broken_connection()


def _discard_broken_connection() -> None:
    if connection.in_atomic_block:
        return
    try:
        usable = connection.connection is not None and connection.is_usable()
    except DatabaseError:
        usable = False
    if not usable:
        connection.close()


def _record_failure(
    model, row, *, error: str, permanent: bool, result: BatchResult, retry_delay: RetryDelay | None = None
) -> None:
    error = error[:2000]
    if retry_delay is not None:
        delay = None if permanent else retry_delay(row.attempts)
    else:
        exhausted = permanent or row.attempts >= settings.NOTIFICATIONS_MAX_ATTEMPTS
        delay = None if exhausted else backoff(row.attempts)
    if delay is None:
        logger.warning("%s %s failed for good after %d attempts: %s", model.__name__, row.pk, row.attempts, error)
        _record(model, row, result, status="failed", last_error=error)
    else:
        retry_at = timezone.now() + delay
        _record(model, row, result, status=None, last_error=error, next_attempt_at=retry_at)


def _record(model, row, result: BatchResult, *, status: str | None, **fields) -> None:
    """Write one outcome, only while our claim is still the row's claim."""
    changes = {"claimed_at": None, "updated_at": timezone.now(), **fields}
    if status:
        changes["status"] = status
    updated = model.objects.filter(pk=row.pk, status=model.WAITING, claimed_at=row.claimed_at).update(**changes)
    if not updated:
        result.lost += 1
        logger.warning(
            "%s %s: claim taken over or row closed before its %s was recorded",
            model.__name__,
            row.pk,
            status or "retry",
        )
    elif status == "sent":
        result.sent += 1
    elif status == "failed":
        result.failed += 1
    else:
        result.retrying += 1


def _release(model, rows, *, claimed_at: datetime, delay: timedelta = timedelta(0)) -> int:
    """Hand claimed rows back unsent, due after `delay`, their claim's attempt not counted."""
    return model.objects.filter(pk__in=[r.pk for r in rows], status=model.WAITING, claimed_at=claimed_at).update(
        claimed_at=None, next_attempt_at=timezone.now() + delay, attempts=F("attempts") - 1
    )


def drain(batch: Callable[[], BatchResult], *, limit: int, budget_seconds: float) -> BatchResult:
    """Run batches until one comes back short (nothing more due, or the rest is claimed by others)
    or the time budget is spent. Returns the totals."""
    total = BatchResult()
    started = time.monotonic()
    while True:
        result = batch()
        _add(total, result)
        if result.rows < limit:
            return total
        if time.monotonic() - started > budget_seconds:
            total.unfinished = 1
            return total
