"""Time from a cancellation's commit to its waitlist offer's outbox row, with a real Celery worker.

    BENCH_DB=booking_bench .venv/bin/python bench/waitlist_offer_latency.py [--cancellations 200] [--interval 0.1]

Scenario (bench/_waitlist_seed.py): 100 fully booked services with 100 waiting entries each. One
worker (solo pool, a queue of its own, on the bench database) is started; then `--cancellations`
bookings a waiting entry could take are cancelled one after another, `--interval` seconds apart (a
burst is a queue, not latency). The commit instant of each is noted by an on-commit callback
registered before the cancellation's own; the offer's instant is the `created_at` of its
WaitlistMessage (kind "offer"), polled for afterwards. Target: p99 under 2 s. Baseline, in the same
run: the round trip of an empty task (apply_async, the worker inserts one row; bench/_celery_probe.py).
Prints figures; asserts nothing about timing and exits 0.
"""

from __future__ import annotations

import argparse
import os
import random
import signal
import subprocess
import sys
import time as clock
import uuid
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from _setup import cpu_model, postgres_version, setup_django  # noqa: E402 - bench/ is on the path

TARGET_S = 2.0


def percentiles(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    return {f"p{p}": ordered[min(len(ordered) - 1, int(len(ordered) * p / 100))] for p in (50, 95, 99)}


def start_worker(queue: str, log: Path) -> subprocess.Popen:
    env = dict(os.environ, PYTHONPATH=f"{ROOT / 'bench'}:{ROOT}", LOG_LEVEL="WARNING",
               EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend")  # fmt: skip
    command = [
        str(Path(sys.executable).parent / "celery"), "-A", "booking_site", "worker", "-Q", queue,
        "-n", f"{queue}@%h", "-c", "1", "-P", "solo", "-l", "INFO", "-I", "_celery_probe",
        "--without-gossip", "--without-mingle", "--without-heartbeat",
    ]  # fmt: skip
    with open(log, "w") as out:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
                                   start_new_session=True)  # fmt: skip
    deadline = clock.monotonic() + 60
    while " ready." not in log.read_text():
        if process.poll() is not None or clock.monotonic() > deadline:
            raise SystemExit(f"The worker did not start:\n{log.read_text()}")
        clock.sleep(0.2)
    return process


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cancellations", type=int, default=200)
    parser.add_argument("--interval", type=float, default=0.1, help="seconds between cancellations")
    parser.add_argument("--probes", type=int, default=200, help="empty-task round trips for the baseline")
    args = parser.parse_args()
    setup_django()

    import redis
    from _celery_probe import probe
    from _waitlist_seed import cancellable, seed
    from django.conf import settings
    from django.db import connection, transaction
    from django.utils import timezone

    from booking_site.celery import app
    from scheduling.services import booking_cancel
    from waitlist.models import WaitlistMessage

    settings.DEBUG = False
    queue = f"bench-waitlist-{uuid.uuid4().hex[:8]}"
    app.conf.task_default_queue = queue
    now = timezone.now()
    services = seed(now=now)
    rng = random.Random(11)
    per_service = -(-args.cancellations // len(services))
    freed = [b for s in services for b in cancellable(s, now=now, count=per_service, rng=rng)]
    freed = freed[: args.cancellations]
    rng.shuffle(freed)
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS bench_probe")
        cursor.execute(
            "CREATE TABLE bench_probe (n int PRIMARY KEY, at timestamptz NOT NULL DEFAULT clock_timestamp())"
        )

    log = Path(f"/tmp/{queue}.log")
    worker = start_worker(queue, log)
    try:
        sent = {}
        for n in range(args.probes):
            sent[n] = datetime.now(UTC)
            probe.apply_async((n,))
            clock.sleep(args.interval / 2)
        committed = {}
        for booking in freed:
            with transaction.atomic():
                transaction.on_commit(lambda pk=booking.pk: committed.__setitem__(pk, datetime.now(UTC)))
                booking_cancel(booking_id=booking.pk)
            clock.sleep(args.interval)
        deadline = clock.monotonic() + 60
        offers = {}
        while clock.monotonic() < deadline and len(offers) < len(freed):
            for booking in freed:
                if booking.pk not in offers:
                    row = (
                        WaitlistMessage.objects.filter(
                            kind=WaitlistMessage.Kind.OFFER,
                            booking__service_id=booking.service_id,
                            booking__start_at=booking.start_at,
                            created_at__gte=committed[booking.pk],
                        )
                        .order_by("created_at")
                        .values_list("created_at", flat=True)
                        .first()
                    )
                    if row:
                        offers[booking.pk] = row
            clock.sleep(0.5)
        with connection.cursor() as cursor:
            cursor.execute("SELECT n, at FROM bench_probe")
            probes = dict(cursor.fetchall())
    finally:
        os.killpg(worker.pid, signal.SIGTERM)
        worker.wait(timeout=30)
        redis.Redis.from_url(settings.CELERY_BROKER_URL).delete(queue)

    latency = [(offers[pk] - committed[pk]).total_seconds() for pk in offers]
    baseline = [(probes[n] - sent[n]).total_seconds() for n in probes]
    print(f"Machine: {cpu_model()}; PostgreSQL {postgres_version()}; one solo worker; {args.interval}s apart")
    if not latency:
        print("No offer appeared: see the worker log", log)
        return 0
    lat, base = percentiles(latency), percentiles(baseline)
    print(f"Commit -> offer row: {len(latency)} of {len(freed)} cancellations got their offer within 60 s")
    print("  " + ", ".join(f"{k} {v * 1000:.0f} ms" for k, v in lat.items())
          + f"  (target p99 < {TARGET_S:.0f} s: {'met' if lat['p99'] < TARGET_S else 'MISSED'})")  # fmt: skip
    print(f"Baseline, empty task round trip ({len(baseline)} of {args.probes}): "
          + ", ".join(f"{k} {v * 1000:.0f} ms" for k, v in base.items()))  # fmt: skip
    print(f"Ratio p99 / baseline p99: {lat['p99'] / base['p99']:.1f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
