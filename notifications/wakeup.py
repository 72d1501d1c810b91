"""One debounced wake-up per outbox (docs/architecture.md §5): after a commit that wrote outbox rows,
`wake(name)` asks a worker to drain that outbox, and publishes at most one task however many commits ask.

Publishing a Celery task per commit cost every booking a broker round trip in the request and the worker
a task per booking. Instead:

- `wake(name)` runs, after the commit, `SET outbox:wake:<name> 1 NX EX WAKE_TTL_SECONDS` on the broker's
  Redis (one round trip) and publishes one `drain_outbox(name)` task only when that SET created the flag.
- The task runs OUTBOX_WAKE_DELAY_SECONDS (a quarter second) after the first commit of a burst, so the
  commits of that moment share it and its claim: a worker that keeps up would otherwise start one drain,
  one claim and one record round per booking (ADR 0007 measures the difference).
- The task (`drain`) first DELETEs the flag, then drains every due row of the outbox in batches (the
  claims of notifications/dispatch.py, SKIP LOCKED) within a time budget; if the budget ran out with
  rows left, it wakes the outbox again.

**Why no committed row is left behind.** Take a commit C whose rows R committed at time t0, then C's SET
at t1 > t0. If the SET created the flag, C published a drain itself, which starts after t1. If the flag
was already there, some wake published (or is publishing) a drain D that has not yet deleted it: D's
DELETE comes after t1, and D reads the outbox only after its DELETE, so with READ COMMITTED every claim
query of D sees R. Then R is either claimed by D, or locked (SKIP LOCKED) or already claimed by another
dispatcher, which sends it; and D keeps draining until a batch comes back short or its budget runs out,
when it wakes the outbox again. A commit after D's DELETE finds no flag and publishes its own drain.
So every committed row is sent by a drain that starts after its commit, or by another dispatcher that
claimed it first. (`tests/notifications/test_wakeup.py` replays these interleavings.)

What that rests on, and the safety net when it fails: the drain task runs. A publish that fails (broker
down) deletes the flag again so the next commit retries; a task lost after publishing (a worker killed
before running it) leaves the flag for at most WAKE_TTL_SECONDS. Redis or the broker down, nothing is
raised to the request: the booking is committed, and the per-minute Beat sweeps send its rows.
"""

import logging
from collections.abc import Callable

import redis
from django.conf import settings
from django.db import transaction
from django.utils.module_loading import import_string

from notifications.dispatch import BatchResult

logger = logging.getLogger(__name__)

# Long enough that a drain queued behind a busy worker is not published twice per commit burst, short
# enough that a lost task delays the outbox no longer than the minute sweep would.
WAKE_TTL_SECONDS = 60
DRAIN_BUDGET_SECONDS = 50

# Outbox name -> its drain (keyword `budget_seconds`), imported when first used: the outboxes live in
# apps that import notifications, not the other way round.
OUTBOXES: dict[str, str] = {
    "notifications": "notifications.services.notifications_drain",
    "webhooks": "notifications.webhook_delivery.webhooks_drain",
    "waitlist": "waitlist.dispatch.messages_drain",
    "calendar_exports": "calendars.export_dispatch.exports_drain",
}

_client: redis.Redis | None = None


def flag_key(name: str) -> str:
    return f"outbox:wake:{name}"


def client() -> redis.Redis:
    """The broker's Redis (the flag lives next to the queue it debounces), with the publish timeouts."""
    global _client
    if _client is None:
        timeout = settings.BROKER_PUBLISH_TIMEOUT
        _client = redis.Redis.from_url(
            settings.CELERY_BROKER_URL, socket_timeout=timeout, socket_connect_timeout=timeout
        )
    return _client


def wake_on_commit(name: str) -> None:
    """Wake the outbox `name` once the current transaction commits (at once outside one)."""
    _check(name)
    transaction.on_commit(lambda: wake(name), robust=True)


def wake(name: str) -> bool:
    """Ask for a drain of `name` unless one is already asked for and not yet started. Returns whether a
    task was published. Never raises: the minute sweep covers whatever a failure here leaves."""
    from notifications.tasks import drain_outbox

    _check(name)
    key = flag_key(name)
    try:
        if not client().set(key, 1, nx=True, ex=WAKE_TTL_SECONDS):
            return False  # a drain is queued and has not deleted the flag yet: it will see our rows
    except Exception:
        logger.warning("Could not wake the %s outbox (Redis); the sweep will send its rows", name, exc_info=True)
        return False
    try:
        drain_outbox.apply_async((name,), retry=False, countdown=settings.OUTBOX_WAKE_DELAY_SECONDS or None)
    except Exception:
        logger.warning("Could not publish a drain of the %s outbox; the sweep will send its rows", name, exc_info=True)
        _forget(key)  # no drain is coming: let the next commit try again
        return False
    return True


def drain(name: str, *, budget_seconds: float = DRAIN_BUDGET_SECONDS) -> BatchResult:
    """Delete the flag, then send every due row of `name` (the order is what the module docstring's
    argument rests on). Wakes the outbox again if the budget ran out with rows left."""
    _forget(flag_key(name))
    result = _drain_function(name)(budget_seconds=budget_seconds)
    if result.unfinished or result.released:
        wake(name)
    return result


def _forget(key: str) -> None:
    try:
        client().delete(key)
    except Exception:
        # The flag then expires by itself (WAKE_TTL_SECONDS); until then commits rely on this drain
        # (their rows committed before it reads) or on the sweep.
        logger.warning("Could not delete the wake-up flag %s", key, exc_info=True)


def _drain_function(name: str) -> Callable[..., BatchResult]:
    return import_string(OUTBOXES[name])


def _check(name: str) -> None:
    if name not in OUTBOXES:
        raise ValueError(f"Unknown outbox {name!r}; known: {', '.join(OUTBOXES)}.")
