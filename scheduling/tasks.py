"""Celery tasks of the scheduling domain: thin wrappers over services."""

from celery import shared_task
from django.db import OperationalError

from scheduling.services import booking_expire_holds, idempotency_records_purge

EXPIRE_HOLDS_TASK = "scheduling.tasks.expire_holds"
PURGE_IDEMPOTENCY_TASK = "scheduling.tasks.purge_idempotency_records"


@shared_task(name=EXPIRE_HOLDS_TASK, autoretry_for=(OperationalError,), retry_backoff=True, max_retries=5)
def expire_holds() -> int:
    return booking_expire_holds()


@shared_task(name=PURGE_IDEMPOTENCY_TASK, autoretry_for=(OperationalError,), retry_backoff=True, max_retries=5)
def purge_idempotency_records() -> int:
    return idempotency_records_purge()
