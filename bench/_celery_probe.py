"""An empty Celery task for the latency bench's baseline: the worker writes one row and nothing else.
Loaded into the bench's worker with `-I _celery_probe` (bench/ on PYTHONPATH); not part of the app."""

from celery import shared_task
from django.db import connection


@shared_task(name="bench.probe")
def probe(n: int) -> None:
    with connection.cursor() as cursor:
        cursor.execute("INSERT INTO bench_probe (n) VALUES (%s)", [n])
