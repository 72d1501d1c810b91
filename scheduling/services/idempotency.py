"""Housekeeping of the API's Idempotency-Key records (`scheduling.api.idempotency` claims them)."""

from datetime import datetime, timedelta

from django.utils import timezone

from scheduling.models import IdempotencyRecord

IDEMPOTENCY_TTL = timedelta(hours=24)


def idempotency_records_purge(*, now: datetime | None = None, batch_size: int = 5000) -> int:
    """Delete the records older than IDEMPOTENCY_TTL, in batches (each its own short transaction).

    Takes no lock beyond the rows it deletes; a request reusing an expired key concurrently takes
    the row over or inserts it again (`scheduling.api.idempotency._claim`). Returns how many.
    """
    cutoff = (now or timezone.now()) - IDEMPOTENCY_TTL
    expired = IdempotencyRecord.objects.filter(created_at__lt=cutoff)
    purged = 0
    while True:
        batch = list(expired.order_by("created_at").values_list("pk", flat=True)[:batch_size])
        if not batch:
            return purged
        purged += IdempotencyRecord.objects.filter(pk__in=batch, created_at__lt=cutoff).delete()[0]
