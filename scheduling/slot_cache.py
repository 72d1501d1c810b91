"""The slots cache: a provider's free starts for one service and window, keyed by the provider's
availability version (docs/decisions/0007-api-cost-per-request.md, "Slots cache").

PostgreSQL triggers give the provider a fresh `availability_version` in the same transaction as every
change that can alter its free slots (scheduling/migrations/0016_provider_availability_version.py), so
a key names one state of everything the engine read. What is stored is the list before the cut that
depends on `now` (notice, horizon, the past): the caller applies that cut on every read, so a cached
list answers exactly as a fresh computation would at any later instant.

Nothing here decides a booking: `booking_create` re-reads and locks on the primary and the exclusion
constraint arbitrates. A stale list could only offer a taken time, which the booking then refuses.
Redis being down costs the computation, never the answer (fail open).
"""

import logging
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.core.cache import cache
from redis.exceptions import RedisError

from scheduling.availability import Interval, SlotSpec
from scheduling.models import Provider

logger = logging.getLogger(__name__)

CACHE_DOWN = (RedisError, OSError)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_KEY_FORMAT = "slots:1"  # bump when what is stored, or how the key is built, changes


def seconds() -> int:
    """How long a list is kept; 0 turns the cache off."""
    return int(getattr(settings, "SLOTS_CACHE_SECONDS", 0))


def provider_versions(providers: Iterable[Provider], *, using: str, fresh: bool) -> dict[int, int]:
    """Each provider's availability version, read before the data it guards, on the database the data
    will be read from.

    `fresh`: the caller read these provider rows in this request, after any change it made, so the
    version that came with them keys the cache without another query. That holds only for rows read
    from `using`: a replica lagging behind the primary must not file its older answer under the
    primary's newer version. Every other provider costs one query (for all of them at once).
    """
    versions: dict[int, int] = {}
    missing = []
    for provider in providers:
        if fresh and provider._state.db == using and "availability_version" in provider.__dict__:
            versions[provider.pk] = provider.availability_version
        else:
            missing.append(provider.pk)
    if missing:
        rows = Provider.objects.using(using).filter(pk__in=missing).values_list("pk", "availability_version")
        versions.update(rows)
    return versions


def key(
    *,
    provider_id: int,
    version: int,
    service_id: int,
    spec: SlotSpec,
    window: Interval,
    exclude_booking_id: int | None,
) -> str:
    """Everything the uncut list depends on. The viewer's zone only moves the window, which is here
    in UTC. Notice and horizon are left out: they belong to the cut made on reading."""
    return ":".join(
        str(part)
        for part in (
            _KEY_FORMAT,
            provider_id,
            version,
            service_id,
            spec.timezone.key,
            spec.slot_minutes,
            spec.step_minutes,
            spec.buffer_before_minutes,
            spec.buffer_after_minutes,
            _micros(window[0]),
            _micros(window[1]),
            "-" if exclude_booking_id is None else exclude_booking_id,
        )
    )


def get_many(keys: list[str]) -> dict[str, list[datetime]]:
    """The lists found, by key; none when Redis is down."""
    try:
        found = cache.get_many(keys)
    except CACHE_DOWN:
        logger.warning("Slots cache unavailable; computing slots", exc_info=True)
        return {}
    return {k: [_EPOCH + timedelta(microseconds=m) for m in micros] for k, micros in found.items()}


def set_many(lists: dict[str, list[datetime]]) -> None:
    if not lists:
        return
    try:
        cache.set_many({k: [_micros(start) for start in starts] for k, starts in lists.items()}, seconds())
    except CACHE_DOWN:
        logger.warning("Slots cache unavailable; slots not stored", exc_info=True)


def _micros(instant: datetime) -> int:
    # Integers pickle small and fast; an exact count of microseconds loses nothing.
    return (instant - _EPOCH) // timedelta(microseconds=1)


def uncut_starts(
    *,
    service_id: int,
    providers: list[Provider],
    specs: dict[int, SlotSpec],
    window: Interval,
    exclude_booking_id: int | None,
    using: str,
    fresh: bool,
    compute: Callable[[list[Provider]], dict[int, list[datetime]]],
) -> dict[int, list[datetime]]:
    """Each provider's free starts in `window` before the `now` cut: from the cache, and from
    `compute` (one call, for the providers not found) stored for the next reader.

    The versions are read first: a list computed afterwards reflects at least the state they name,
    never an older one.
    """
    versions = provider_versions(providers, using=using, fresh=fresh)
    keys = {
        p.pk: key(
            provider_id=p.pk,
            version=versions[p.pk],
            service_id=service_id,
            spec=specs[p.pk],
            window=window,
            exclude_booking_id=exclude_booking_id,
        )
        for p in providers
        if p.pk in versions  # a provider deleted meanwhile is computed (to nothing), not stored
    }
    found = get_many(list(keys.values())) if keys else {}
    starts = {pk: found[k] for pk, k in keys.items() if k in found}
    missing = [p for p in providers if p.pk not in starts]
    if missing:
        computed = compute(missing)
        set_many({keys[p.pk]: computed.get(p.pk, []) for p in missing if p.pk in keys})
        starts.update(computed)
    return starts
