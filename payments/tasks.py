"""Celery tasks of the payments domain: thin wrappers over services, primary keys only.

Beat runs `run_gateway_calls` every minute (registered by migration 0002); each commit that owes a
call also kicks it at once. Overlapping runs are safe: calls are claimed with SKIP LOCKED.
"""

import logging

from celery import shared_task
from django.db import OperationalError

from payments import services

logger = logging.getLogger(__name__)

RUN_GATEWAY_CALLS_TASK = "payments.tasks.run_gateway_calls"


@shared_task(name=RUN_GATEWAY_CALLS_TASK, autoretry_for=(OperationalError,), retry_backoff=True, max_retries=5)
def run_gateway_calls(*call_ids: int) -> int:
    # The ids only say why the task runs now; every due call is made, a batch at a time.
    return services.gateway_calls_run()


def kick_gateway_calls(*call_ids: int) -> None:
    """Ask a worker to make these calls now. Best effort: the Beat sweep makes them within a minute."""
    try:
        run_gateway_calls.apply_async(call_ids, retry=False)
    except Exception:  # the change is committed; the sweep is the safety net
        logger.warning("Could not kick gateway calls %s; the sweep will make them", call_ids, exc_info=True)
