"""Calendar connections: creating them and syncing their busy times into BlockedTime rows."""

import logging
from dataclasses import dataclass
from datetime import timedelta
from functools import partial

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max, Q
from django.utils import timezone

from calendars import export_hooks
from calendars.adapters import CONNECTION_STATE_FIELDS, AdapterError, adapter_class, adapter_for
from calendars.ical_import import BusySpan
from calendars.models import CalendarConnection, ImportedEvent
from scheduling.models import BlockedTime, Provider, Service
from waitlist import hooks as waitlist

logger = logging.getLogger(__name__)

DEFAULT_HORIZON_DAYS = 90
NOTE_MAX = 200


@dataclass(frozen=True)
class SyncResult:
    read: int = 0
    added: int = 0
    removed: int = 0
    kept: int = 0
    error: str = ""
    not_modified: bool = False


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
SETTINGS = {"url", "account", "credentials"}


def calendar_connection_update(*, connection: CalendarConnection, **fields) -> CalendarConnection:
    """Change a connection's name, address, account, credentials, interval or whether it syncs. New
    settings are checked like a new connection's; a new URL or account forgets the old conditional-fetch
    validators and is due at once. Locks the row."""
    fields = {name: value for name, value in fields.items() if name in UPDATABLE}
    if fields.get("sync_every_minutes", 1) < 1:
        raise ValidationError({"sync_every_minutes": "At least one minute."})
    with transaction.atomic():
        locked = CalendarConnection.objects.select_for_update().get(pk=connection.pk)
        if fields.keys() & {"url", "account", "credentials"}:
            adapter_class(locked.kind).check_settings(
                url=fields.get("url", locked.url),
                account=fields.get("account", locked.account),
                credentials=fields.get("credentials", locked.credentials),
            )
        if fields.get("url", locked.url) != locked.url or fields.get("account", locked.account) != locked.account:
            locked.etag, locked.last_modified, locked.next_sync_at = "", "", None
        # Switched back on or pointed elsewhere: what it missed or failed is sent again.
        if (fields.get("is_active") and not locked.is_active) or SETTINGS & {
            n for n in fields if fields[n] != getattr(locked, n)
        }:
            transaction.on_commit(partial(export_hooks.exports_backfill, connection_id=locked.pk))
        for name, value in fields.items():
            setattr(locked, name, value)
        locked.save()
        return locked


def calendar_connection_delete(*, connection_id: int) -> None:
    """Forget a connection and the busy times it imported, in one transaction (the times become free,
    and the waitlist may offer them). Locks the connection row, so no sync of it is half applied."""
    with transaction.atomic():
        connection = CalendarConnection.objects.select_for_update().filter(pk=connection_id).first()
        if connection is None:
            return
        BlockedTime.objects.filter(imported_event__connection=connection).delete()
        provider_id = connection.provider_id
        connection.delete()
        waitlist.slot_may_have_freed(provider_id=provider_id)


def provider_horizon_days(*, provider_id: int) -> int:
    """How far ahead the provider can be booked: the longest horizon of its active services."""
    days = Service.objects.filter(providers=provider_id, is_active=True).aggregate(m=Max("max_advance_days"))["m"]
    return days or DEFAULT_HORIZON_DAYS


def calendar_connection_sync(*, connection_id: int) -> SyncResult:
    """Read the connection's calendar (through its adapter, calendars.adapters) and replace its imported
    busy times with what the calendar says now.

    The read happens outside any transaction. The replace is one transaction holding the connection
    row (SELECT ... FOR UPDATE), so two syncs of one connection never interleave and slots never see
    half of a sync: unchanged spans keep their rows, vanished ones are deleted, new ones inserted. A
    failed read keeps the last good rows and records the error.
    """
    connection = CalendarConnection.objects.select_related("provider").get(pk=connection_id)
    now = timezone.now()
    adapter = adapter_for(connection)
    horizon = now + timedelta(days=provider_horizon_days(provider_id=connection.provider_id))
    try:
        result = adapter.read_busy(start=now, end=horizon)
    except AdapterError as exc:
        _record_error(connection_id, message=str(exc), now=now, credentials=adapter.changed_credentials)
        return SyncResult(error=str(exc))
    state = {name: value for name, value in result.state.items() if name in CONNECTION_STATE_FIELDS}
    if adapter.changed_credentials is not None:
        state["credentials"] = adapter.changed_credentials
    if result.spans is None:
        _record_success(connection_id, now=now, every=connection.sync_every_minutes, state=state)
        return SyncResult(kept=connection.imported_events.count(), not_modified=True)

    spans = _not_ours(result.spans, provider_id=connection.provider_id)
    with transaction.atomic():
        CalendarConnection.objects.select_for_update().only("pk").get(pk=connection_id)
        added, removed, kept = _replace(connection, spans)
        _record_success(connection_id, now=now, every=connection.sync_every_minutes, state=state)
    return SyncResult(read=len(result.spans), added=added, removed=removed, kept=kept)


def calendar_connections_due_sync(*, now=None) -> list[SyncResult]:
    """Sync every active connection that is due. One failing connection never stops the rest."""
    now = now or timezone.now()
    due = CalendarConnection.objects.filter(
        Q(next_sync_at__isnull=True) | Q(next_sync_at__lte=now),
        is_active=True,
    ).values_list("pk", flat=True)
    results = []
    for connection_id in list(due):
        try:
            results.append(calendar_connection_sync(connection_id=connection_id))
        except Exception as exc:  # a bug or a database hiccup on one connection must not starve the others
            logger.exception("calendar sync of connection %s failed", connection_id)
            _record_error(connection_id, message=f"Sync failed ({type(exc).__name__}).", now=timezone.now())
            results.append(SyncResult(error=type(exc).__name__))
    return results


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


def _record_error(connection_id: int, *, message: str, now, credentials: dict | None = None) -> None:
    # The next attempt is still scheduled: a calendar that is down is retried at the usual pace. A token
    # refreshed before the failure is kept, or the next attempt would refresh it again.
    every = CalendarConnection.objects.filter(pk=connection_id).values_list("sync_every_minutes", flat=True).first()
    extra = {"credentials": credentials} if credentials is not None else {}
    CalendarConnection.objects.filter(pk=connection_id).update(
        last_error=message[:2000], last_error_at=now, next_sync_at=now + timedelta(minutes=every or 10), **extra
    )
