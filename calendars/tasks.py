"""Celery tasks for calendar sync: thin wrappers around calendars.services."""

from celery import shared_task
from django.db import OperationalError

from calendars.push_services import calendar_push_channels_maintain
from calendars.services import calendar_connection_sync, calendar_connections_due_sync

SYNC_DUE_CALENDARS_TASK = "calendars.tasks.sync_due_calendars"


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
