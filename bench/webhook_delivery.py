"""Benchmark webhook delivery (docs/decisions/0016-webhooks.md): 1,000 bookings, 3 endpoints each,
sent by a real Celery worker to a local HTTP receiver.

    .venv/bin/python bench/webhook_delivery.py [--bookings 1000] [--endpoints 3] [--concurrency 2]

Uses the database `booking_bench_webhooks` (BENCH_DB overrides) on the cluster DATABASE_URL points at,
wiped and migrated on every run. Starts `celery worker` on the default queue of REDIS_URL, so run it
where no other worker listens there. Each booking is made with booking_create (its own transaction);
the commit wakes the webhook outbox (notifications/wakeup.py). The receiver, in this process, keeps
every request's `webhook-id` and arrival time. Prints: deliveries made, sent twice, missing, and
commit-to-arrival p50/p99. Asserts nothing about timing; exits 1 if a delivery is missing or doubled.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time as clock
import uuid
from collections import Counter
from datetime import date, time, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

os.environ.setdefault("BENCH_DB", "booking_bench_webhooks")
sys.path.insert(0, str(Path(__file__).resolve().parent))

import _setup

ROOT = _setup.ROOT
ARRIVALS: dict[str, list[float]] = {}  # webhook-id -> arrival times (monotonic)
BOOKING_OF: dict[str, int] = {}  # webhook-id -> booking id
LOCK = threading.Lock()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self):
        arrived = clock.monotonic()
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        webhook_id = self.headers["webhook-id"]
        with LOCK:
            ARRIVALS.setdefault(webhook_id, []).append(arrived)
            BOOKING_OF[webhook_id] = json.loads(body)["data"]["id"]
        self.send_response(204)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


def seed(endpoints: int, url: str):
    from django.contrib.auth import get_user_model
    from django.db import transaction

    from notifications.models import WebhookDelivery, WebhookEndpoint, WebhookEvent
    from notifications.webhooks import webhook_endpoint_create
    from scheduling.models import AvailabilityRule, Booking, Customer, Provider, Service

    with transaction.atomic():
        WebhookDelivery.objects.all().delete()
        WebhookEvent.objects.all().delete()
        WebhookEndpoint.objects.all().delete()
        Booking.objects.all().delete()
        Customer.objects.all().delete()
        Service.objects.all().delete()
        Provider.objects.all().delete()
        get_user_model().objects.filter(username="hooks-bench").delete()
        providers = Provider.objects.bulk_create(
            Provider(name=f"Hooks bench {n}", slug=f"hooks-bench-{n}", timezone="UTC") for n in range(10)
        )
        service = Service.objects.create(
            name="Visit", slug="visit", duration_minutes=30, min_notice_minutes=0, max_advance_days=365
        )
        service.providers.set(providers)
        AvailabilityRule.objects.bulk_create(
            AvailabilityRule(
                provider=p,
                rrule="FREQ=DAILY",
                starts_on=date.today() - timedelta(days=1),
                start_time=time(0),
                end_time=time(0),
            )
            for p in providers
        )
        owner = get_user_model().objects.create_superuser("hooks-bench", "hooks-bench@bench.example", uuid.uuid4().hex)
        for n in range(endpoints):
            webhook_endpoint_create(owner=owner, url=f"{url}/{n}")
    return providers, service


def start_worker(concurrency: int, log: Path) -> subprocess.Popen:
    env = {**os.environ, "WEBHOOK_ALLOW_PRIVATE_URLS": "1", "LOG_LEVEL": "WARNING"}
    command = [
        str(Path(sys.executable).parent / "celery"), "-A", "booking_site", "worker", "-c", str(concurrency),
        "-P", "prefork", "-l", "INFO", "--without-gossip", "--without-mingle", "--without-heartbeat",
    ]  # fmt: skip
    with open(log, "w") as out:
        process = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    deadline = clock.monotonic() + 60
    while " ready." not in log.read_text():
        if process.poll() is not None or clock.monotonic() > deadline:
            raise SystemExit(f"The worker did not start:\n{log.read_text()}")
        clock.sleep(0.1)
    return process


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--bookings", type=int, default=1000)
    parser.add_argument("--endpoints", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=2)
    args = parser.parse_args()

    os.environ["WEBHOOK_ALLOW_PRIVATE_URLS"] = "1"
    _setup.setup_django()
    from django.utils import timezone

    from notifications.models import WebhookDelivery
    from scheduling.services import CustomerData, booking_create

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/hooks"
    providers, service = seed(args.endpoints, url)

    log = Path(tempfile.mkdtemp(prefix="hooks-bench-")) / "worker.log"
    worker = start_worker(args.concurrency, log)
    committed: dict[int, float] = {}
    first = (timezone.now() + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    try:
        started = clock.monotonic()
        for n in range(args.bookings):
            provider = providers[n % len(providers)]
            start = first + timedelta(minutes=30 * (n // len(providers)))
            customer = CustomerData(name=f"C{n}", email=f"c{n}@bench.example", timezone="UTC")
            booking = booking_create(provider_id=provider.pk, service_id=service.pk, start=start, customer=customer)
            committed[booking.pk] = clock.monotonic()  # booking_create's transaction has committed
        made = clock.monotonic() - started
        expected = args.bookings * args.endpoints
        deadline = clock.monotonic() + 300
        while sum(len(v) for v in ARRIVALS.values()) < expected and clock.monotonic() < deadline:
            clock.sleep(0.2)
        clock.sleep(2)  # anything sent twice would arrive now
        drained = clock.monotonic() - started
    finally:
        os.killpg(worker.pid, signal.SIGTERM)
        worker.wait(timeout=30)
        server.shutdown()

    copies = Counter({key: len(times) for key, times in ARRIVALS.items()})
    ids = set(WebhookDelivery.objects.values_list("webhook_id", flat=True))
    missing = ids - set(copies)
    twice = sum(1 for n in copies.values() if n > 1)
    latencies = [(ARRIVALS[key][0] - committed[BOOKING_OF[key]]) * 1000 for key in copies if key in ids]
    print(f"Webhook delivery: {args.bookings} bookings x {args.endpoints} endpoints, worker -c {args.concurrency}")
    print(
        f"  deliveries queued {len(ids)}, received {sum(copies.values())}, missing {len(missing)}, sent twice {twice}"
    )
    print(f"  bookings made in {made:.1f} s; all delivered {drained:.1f} s after the first")
    if latencies:
        print(
            f"  commit -> arrival: p50 {statistics.median(latencies):.0f} ms, p99 {percentile(latencies, 0.99):.0f} ms,"
            f" max {max(latencies):.0f} ms"
        )
    print(f"  machine: {_setup.cpu_model()}")
    return 1 if missing or twice else 0


if __name__ == "__main__":
    raise SystemExit(main())
