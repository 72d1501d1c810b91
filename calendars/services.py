"""Calendar connections: creating them and syncing their busy times into BlockedTime rows."""

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from calendars import export_hooks
from calendars.adapters import CONNECTION_STATE_FIELDS, AdapterError, adapter_class, adapter_for
from calendars.ical_import import BusySpan
from calendars.models import CalendarConnection, ImportedEvent
from calendars.selectors import provider_horizon_days, shown_url
from scheduling.models import BlockedTime, Provider
from waitlist import hooks as waitlist

logger = logging.getLogger(__name__)

NOTE_MAX = 200
# A claimed connection is not due again for this long: a sweep that dies mid-sync leaves it to a later one.
CLAIM_LEASE = timedelta(minutes=15)
SWITCHED_OFF = "The connection is switched off."


@dataclass(frozen=True)
class SyncResult:
    read: int = 0
    added: int = 0
    removed: int = 0
    kept: int = 0
    error: str = ""
    not_modified: bool = False
    # Nothing was written: the connection is gone, or changed or was synced by someone else meanwhile.
    superseded: bool = False


def calendar_connection_create(
    *,
    provider: Provider,
    kind: str = CalendarConnection.Kind.ICAL_URL,
    url: str = "",
    account: str = "",
    credentials: dict | None = None,
    name: str = "",
    sync_every_minutes: int = 10,
) -> CalendarConnection:
    """A connection of `kind`, due for its first sync at once. Raises ValidationError (keyed by field)
    on settings its adapter cannot use (calendars.adapters); makes no network call."""
    credentials = credentials or {}
    try:
        adapter = adapter_class(kind)
    except AdapterError as exc:
        raise ValidationError({"kind": str(exc)}) from exc
    adapter.check_settings(url=url, account=account, credentials=credentials)
    if sync_every_minutes < 1:
        raise ValidationError({"sync_every_minutes": "At least one minute."})
    connection = CalendarConnection.objects.create(
        provider=provider,
        kind=kind,
        url=url,
        account=account,
        credentials=credentials,
        name=name,
        sync_every_minutes=sync_every_minutes,
    )
    transaction.on_commit(partial(export_hooks.exports_backfill, connection_id=connection.pk))
    return connection


UPDATABLE = {"name", "url", "account", "credentials", "sync_every_minutes", "is_active"}
# What a read depends on: changing any of these makes a read begun before the change stale.
READ_SETTINGS = ("url", "account", "credentials", "is_active")


def calendar_connection_update(*, connection: CalendarConnection, **fields) -> CalendarConnection:
    """Change a connection's name, address, account, credentials, interval or whether it syncs. New
    settings are checked like a new connection's; a new URL or account forgets the old conditional-fetch
    validators and is due at once. A connection switched off gives back the busy times it imported (the
    waitlist hears of it); switched on again, it reads its calendar whole. Any change of what a read
    depends on bumps `settings_version`, so a sync that read with the old settings is discarded. Locks
    the row."""
    fields = {name: value for name, value in fields.items() if name in UPDATABLE}
    if fields.get("sync_every_minutes", 1) < 1:
        raise ValidationError({"sync_every_minutes": "At least one minute."})
    with transaction.atomic():
        locked = CalendarConnection.objects.select_for_update().get(pk=connection.pk)
        if "url" in fields and fields["url"] == shown_url(locked) != locked.url:
            del fields["url"]  # the masked address, sent back as it was read: unchanged
        if fields.keys() & {"url", "account", "credentials"}:
            adapter_class(locked.kind).check_settings(
                url=fields.get("url", locked.url),
                account=fields.get("account", locked.account),
                credentials=fields.get("credentials", locked.credentials),
            )
        changed = {name for name in READ_SETTINGS if name in fields and fields[name] != getattr(locked, name)}
        if changed & {"url", "account"} or "is_active" in changed:
            locked.etag, locked.last_modified, locked.expanded_until, locked.next_sync_at = "", "", None, None
        if changed:
            locked.settings_version += 1
        if "is_active" in changed and not fields["is_active"]:
            _forget_imported(locked)
        # Switched back on or pointed elsewhere: what it missed or failed is sent again.
        if changed & {"url", "account", "credentials"} or ("is_active" in changed and fields["is_active"]):
            transaction.on_commit(partial(export_hooks.exports_backfill, connection_id=locked.pk))
        for name, value in fields.items():
            setattr(locked, name, value)
        locked.save()
        return locked


def calendar_connection_delete(*, connection_id: int) -> None:
    """Forget a connection and the busy times it imported, in one transaction (the times become free,
    and the waitlist may offer them). Locks the connection row, so no sync of it is half applied. Its
    push channels are stopped at the vendor after the commit, best effort (they expire on their own)."""
    from calendars.push_services import push_channels_stop_after_delete  # it imports this module

    with transaction.atomic():
        connection = CalendarConnection.objects.select_for_update().filter(pk=connection_id).first()
        if connection is None:
            return
        push_channels_stop_after_delete(connection=connection)
        _forget_imported(connection)
        connection.delete()


def _forget_imported(connection: CalendarConnection) -> None:
    """Inside the caller's transaction and lock: the connection's imported busy times become free."""
    if BlockedTime.objects.filter(imported_event__connection=connection).delete()[0]:
        waitlist.slot_may_have_freed(provider_id=connection.provider_id)


def store_refreshed_credentials(*, adapter) -> bool:
    """Keep the credentials `adapter` refreshed, unless staff gave the connection another refresh token
    since the adapter read it: a compare-and-set on the refresh token the adapter used, so a sync, an
    export or a push call that started before never writes the old token back over the new one. True
    when stored."""
    if adapter.changed_credentials is None:
        return False
    used = (adapter.connection.credentials or {}).get("refresh_token")
    return bool(
        CalendarConnection.objects.filter(pk=adapter.connection.pk, credentials__refresh_token=used).update(
            credentials=adapter.changed_credentials
        )
    )


def calendar_connection_sync(*, connection_id: int, now: datetime | None = None) -> SyncResult:
    """Read the connection's calendar (through its adapter, calendars.adapters) over [now, now + the
    provider's horizon) and replace its imported busy times with what the calendar says now.

    The read happens outside any transaction. The result is applied in one transaction holding the
    connection row (SELECT ... FOR UPDATE), so two syncs of one connection never interleave and slots
    never see half of a sync: unchanged spans keep their rows, vanished ones are deleted, new ones
    inserted. Under that lock the result is discarded (`superseded`, nothing written) when it is stale:
    the connection was deleted or switched off, its address, account or credentials changed
    (`settings_version`), or another sync that started later already stored its own. A failed read
    keeps the last good rows and records the error. A refreshed token is stored by
    `store_refreshed_credentials` either way.
    """
    connection = CalendarConnection.objects.select_related("provider").filter(pk=connection_id).first()
    if connection is None:
        return SyncResult(superseded=True)  # deleted meanwhile: nothing to sync
    if not connection.is_active:
        return SyncResult(error=SWITCHED_OFF)
    now = now or timezone.now()
    adapter = adapter_for(connection)
    horizon = now + timedelta(days=provider_horizon_days(provider_id=connection.provider_id))
    try:
        result = adapter.read_busy(start=now, end=horizon)
    except AdapterError as exc:
        result, error = None, str(exc)
    store_refreshed_credentials(adapter=adapter)
    if result is None:
        with transaction.atomic():
            if not _still_current(connection, started=now):
                return SyncResult(superseded=True)
            _record_error(connection_id, message=error, now=now)
        return SyncResult(error=error)

    state = {name: value for name, value in result.state.items() if name in CONNECTION_STATE_FIELDS}
    spans = None if result.spans is None else _not_ours(result.spans, provider_id=connection.provider_id)
    with transaction.atomic():
        if not _still_current(connection, started=now):
            return SyncResult(superseded=True)
        if spans is None:
            _record_success(connection_id, now=now, every=connection.sync_every_minutes, state=state)
            return SyncResult(kept=connection.imported_events.count(), not_modified=True)
        added, removed, kept = _replace(connection, spans)
        state["expanded_until"] = horizon  # a later "not modified" covers instances up to here only
        _record_success(connection_id, now=now, every=connection.sync_every_minutes, state=state)
    return SyncResult(read=len(result.spans), added=added, removed=removed, kept=kept)


def _still_current(connection: CalendarConnection, *, started: datetime) -> bool:
    """Lock the connection row (inside the caller's transaction) and say whether a read begun at
    `started` with `connection`'s settings may still be applied."""
    locked = (
        CalendarConnection.objects.select_for_update()
        .filter(pk=connection.pk)
        .values("settings_version", "is_active", "last_synced_at")
        .first()
    )
    return (
        locked is not None
        and locked["is_active"]
        and locked["settings_version"] == connection.settings_version
        and (locked["last_synced_at"] is None or locked["last_synced_at"] <= started)
    )


def calendar_connections_due_sync(*, now=None) -> list[SyncResult]:
    """Sync every active connection that is due. Due connections are claimed first (their next_sync_at
    pushed out by CLAIM_LEASE in a short transaction, rows locked by another sweep skipped), so two
    sweeps running at once never sync the same connection; a sweep that dies leaves its claims to
    expire. One failing connection never stops the rest."""
    now = now or timezone.now()
    results = []
    for connection_id in _claim_due(now):
        try:
            results.append(calendar_connection_sync(connection_id=connection_id))
        except Exception as exc:  # a bug or a database hiccup on one connection must not starve the others
            logger.exception("calendar sync of connection %s failed", connection_id)
            _record_error(connection_id, message=f"Sync failed ({type(exc).__name__}).", now=timezone.now())
            results.append(SyncResult(error=type(exc).__name__))
    return results


def _claim_due(now: datetime) -> list[int]:
    """The due connections this sweep takes: SELECT ... FOR UPDATE SKIP LOCKED, then next_sync_at
    pushed out, in one short transaction."""
    with transaction.atomic():
        due = list(
            CalendarConnection.objects.select_for_update(skip_locked=True)
            .filter(Q(next_sync_at__isnull=True) | Q(next_sync_at__lte=now), is_active=True)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        CalendarConnection.objects.filter(pk__in=due).update(next_sync_at=now + CLAIM_LEASE)
    return due


def _not_ours(spans: list[BusySpan], *, provider_id: int) -> list[BusySpan]:
    """The spans that are not the provider's own bookings as we exported them (calendars.export_hooks):
    those already block their time as bookings, and importing them would count them twice (and keep a
    cancelled booking's time blocked until the calendar forgot it). Works for every adapter: the UID is
    the booking's own."""
    ours = export_hooks.exported_uids({span.uid_key.rsplit("|", 1)[0] for span in spans}, provider_id=provider_id)
    if not ours:
        return spans
    return [span for span in spans if span.uid_key.rsplit("|", 1)[0] not in ours]


def _replace(connection: CalendarConnection, spans: list[BusySpan]) -> tuple[int, int, int]:
    """Inside the caller's transaction and lock: make the connection's rows match `spans`."""
    existing = {
        (uid, start, end): (imported_pk, blocked_pk)
        for imported_pk, blocked_pk, uid, start, end in ImportedEvent.objects.filter(connection=connection).values_list(
            "pk", "blocked_time_id", "uid", "blocked_time__start_at", "blocked_time__end_at"
        )
    }
    wanted = {(s.uid_key, s.start, s.end): s for s in spans}
    vanished = [pks for key, pks in existing.items() if key not in wanted]
    new = [span for key, span in wanted.items() if key not in existing]
    if vanished:
        # Deleting the BlockedTime cascades to its ImportedEvent.
        BlockedTime.objects.filter(pk__in=[blocked_pk for _, blocked_pk in vanished]).delete()
        # A busy time gone from the calendar is free time: the waitlist may offer it (after the commit).
        waitlist.slot_may_have_freed(provider_id=connection.provider_id)
    if new:
        blocked = BlockedTime.objects.bulk_create(
            [
                BlockedTime(
                    provider_id=connection.provider_id,
                    start_at=span.start,
                    end_at=span.end,
                    reason=BlockedTime.Reason.EXTERNAL,
                    note=span.summary[:NOTE_MAX],
                )
                for span in new
            ],
            batch_size=1000,
        )
        ImportedEvent.objects.bulk_create(
            [
                ImportedEvent(connection=connection, uid=span.uid_key, blocked_time=row)
                for span, row in zip(new, blocked, strict=True)
            ],
            batch_size=1000,
        )
    return len(new), len(vanished), len(existing) - len(vanished)


def _success_fields(now, every_minutes: int) -> dict:
    return {
        "last_synced_at": now,
        "next_sync_at": now + timedelta(minutes=every_minutes),
        "last_error": "",
        "last_error_at": None,
    }


def _record_success(connection_id: int, *, now, every: int, state: dict) -> None:
    CalendarConnection.objects.filter(pk=connection_id).update(**_success_fields(now, every), **state)


def _record_error(connection_id: int, *, message: str, now) -> None:
    # The next attempt is still scheduled: a calendar that is down is retried at the usual pace.
    every = CalendarConnection.objects.filter(pk=connection_id).values_list("sync_every_minutes", flat=True).first()
    CalendarConnection.objects.filter(pk=connection_id).update(
        last_error=message[:2000], last_error_at=now, next_sync_at=now + timedelta(minutes=every or 10)
    )
