"""Celery tasks for calendar sync and export: thin wrappers around calendars.services and
calendars.export_dispatch."""

from celery import shared_task
from django.db import OperationalError

from calendars import export_dispatch
from calendars.push_services import calendar_push_channels_maintain
from calendars.services import calendar_connection_sync, calendar_connections_due_sync

SYNC_DUE_CALENDARS_TASK = "calendars.tasks.sync_due_calendars"
SWEEP_EXPORTS_TASK = "calendars.tasks.sweep_exports"


@shared_task(name=SYNC_DUE_CALENDARS_TASK, autoretry_for=(OperationalError,), retry_backoff=True, max_retries=3)
def sync_due_calendars() -> int:
    return len(calendar_connections_due_sync())


@shared_task(autoretry_for=(OperationalError,), retry_backoff=True, max_retries=3)
def sync_calendar(connection_id: int) -> dict:
    result = calendar_connection_sync(connection_id=connection_id)
    return {
        "read": result.read,
        "added": result.added,
        "removed": result.removed,
        "kept": result.kept,
        "error": result.error,
    }


@shared_task(autoretry_for=(OperationalError,), retry_backoff=True, max_retries=3)
def renew_push_channels() -> int:
    return calendar_push_channels_maintain()


@shared_task(name=SWEEP_EXPORTS_TASK, autoretry_for=(OperationalError,), retry_backoff=True, max_retries=3)
def sweep_exports() -> int:
    """Every minute: what the kick missed (broker down) and retries whose backoff has passed."""
    return export_dispatch.exports_drain().sent
