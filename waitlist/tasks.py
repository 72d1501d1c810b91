"""Celery tasks of the waitlist: thin wrappers over services, primary keys only.

Beat runs `sweep` every minute (registered by migration 0002); a change that may free a slot also
kicks `make_offers` on commit. Concurrent runs are safe: offer-making for one service is serialized
by an advisory lock (waitlist.services.offers_make).
"""

import logging
from datetime import datetime

from celery import shared_task
from django.db import OperationalError

from waitlist import dispatch, services

logger = logging.getLogger(__name__)

MAKE_OFFERS_TASK = "waitlist.tasks.make_offers"
MAKE_SERVICE_OFFERS_TASK = "waitlist.tasks.make_service_offers"
SWEEP_TASK = "waitlist.tasks.sweep"


@shared_task(name=MAKE_OFFERS_TASK, autoretry_for=(OperationalError,), retry_backoff=True, max_retries=5)
def make_offers(provider_id: int, freed_start: str | None = None, freed_end: str | None = None) -> int:
    freed = None
    if freed_start and freed_end:
        freed = (datetime.fromisoformat(freed_start), datetime.fromisoformat(freed_end))
    return services.offers_make_for_provider(provider_id=provider_id, freed=freed)


@shared_task(name=MAKE_SERVICE_OFFERS_TASK, autoretry_for=(OperationalError,), retry_backoff=True, max_retries=5)
def make_service_offers(service_id: int) -> int:
    return services.offers_make(service_id=service_id)


@shared_task(name=SWEEP_TASK, autoretry_for=(OperationalError,), retry_backoff=True, max_retries=5)
def sweep() -> int:
    """Offers first, so the messages they write go out in the same run."""
    try:
        return services.waitlist_sweep()
    finally:
        dispatch.messages_drain()


def kick_offers(provider_id: int, *, freed: tuple[datetime, datetime] | None = None) -> None:
    """Best effort: if the broker is down, the minute sweep makes the offer."""
    span = (freed[0].isoformat(), freed[1].isoformat()) if freed else ()
    try:
        make_offers.apply_async((provider_id, *span), retry=False)
    except Exception:
        logger.warning("Could not kick waitlist offers for provider %s; the sweep will", provider_id, exc_info=True)


def kick_service_offers(service_id: int) -> None:
    try:
        make_service_offers.apply_async((service_id,), retry=False)
    except Exception:
        logger.warning("Could not kick waitlist offers for service %s; the sweep will", service_id, exc_info=True)


SEND_MESSAGES_TASK = "waitlist.tasks.send_messages"


@shared_task(name=SEND_MESSAGES_TASK, autoretry_for=(OperationalError,), retry_backoff=True, max_retries=3)
def send_messages(*message_ids: int) -> int:
    """Earlier releases' per-commit kick, kept for messages queued at a deploy: drains the outbox."""
    from notifications import wakeup

    return wakeup.drain("waitlist").sent
