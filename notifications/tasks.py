"""Celery tasks of the notifications domain: thin wrappers over services, primary keys only.

Beat runs the two sweeps every minute (registered by migration 0002) and the purge of old messages
daily (migration 0011). Each run drains batches for at
most DRAIN_BUDGET_SECONDS; overlapping runs (a slow run, Beat firing twice) are safe because claims
use SKIP LOCKED and a claimed row is no longer due. `drain_outbox` is the debounced wake-up of every
outbox after a commit (notifications/wakeup.py). The per-row kick task of earlier releases
(`send_notification(*ids)`) stays registered for messages still queued at a deploy: it drains the outbox.
"""

from celery import shared_task
from django.db import OperationalError

from notifications import services, wakeup

DISPATCH_REMINDERS_TASK = "notifications.tasks.dispatch_due_reminders"
SWEEP_OUTBOX_TASK = "notifications.tasks.sweep_outbox"
SEND_NOTIFICATION_TASK = "notifications.tasks.send_notification"
SWEEP_WEBHOOKS_TASK = "notifications.tasks.sweep_webhooks"
DRAIN_OUTBOX_TASK = "notifications.tasks.drain_outbox"
PURGE_MESSAGES_TASK = "notifications.tasks.purge_messages"
DRAIN_BUDGET_SECONDS = wakeup.DRAIN_BUDGET_SECONDS


@shared_task(name=DRAIN_OUTBOX_TASK, autoretry_for=(OperationalError,), retry_backoff=True, max_retries=3)
def drain_outbox(name: str) -> int:
    return wakeup.drain(name, budget_seconds=DRAIN_BUDGET_SECONDS).sent


@shared_task(name=DISPATCH_REMINDERS_TASK, autoretry_for=(OperationalError,), retry_backoff=True, max_retries=5)
def dispatch_due_reminders() -> int:
    return services.reminders_drain(budget_seconds=DRAIN_BUDGET_SECONDS).sent


@shared_task(name=SWEEP_OUTBOX_TASK, autoretry_for=(OperationalError,), retry_backoff=True, max_retries=5)
def sweep_outbox() -> int:
    return services.notifications_drain(budget_seconds=DRAIN_BUDGET_SECONDS).sent


@shared_task(name=SEND_NOTIFICATION_TASK, autoretry_for=(OperationalError,), retry_backoff=True, max_retries=3)
def send_notification(*notification_ids: int) -> int:
    """Earlier releases' per-commit kick: drains the outbox (the ids' rows among the rest)."""
    return wakeup.drain("notifications", budget_seconds=DRAIN_BUDGET_SECONDS).sent


@shared_task(name=PURGE_MESSAGES_TASK, autoretry_for=(OperationalError,), retry_backoff=True, max_retries=5)
def purge_messages() -> dict[str, int]:
    return services.messages_purge()


@shared_task(name=SWEEP_WEBHOOKS_TASK, autoretry_for=(OperationalError,), retry_backoff=True, max_retries=5)
def sweep_webhooks() -> int:
    from notifications import webhook_delivery

    return webhook_delivery.webhooks_drain(budget_seconds=DRAIN_BUDGET_SECONDS).sent
