"""Benchmark the reminder dispatch (docs/architecture.md §5): 10,000 due reminders drained by 2 Celery worker processes.

    .venv/bin/python bench/reminders.py [--reminders 10000] [--workers 2] [--batch-size 100]

Creates the database `booking_bench_reminders` on the cluster that DATABASE_URL (or the local default)
points at, migrates it and reseeds it on every run, so dev data (and the other benchmarks' database) is
never touched. Starts the workers (`celery -A booking_site worker -c 1`, each its own process) on a
queue of their own on the local Redis, with the file email backend writing into a temporary directory,
then does what Beat does: sends the dispatch task, once per worker. Prints the drain time (from the
first task sent until no reminder is left scheduled) and the duplicate count (emails written per
ledger key, minus one), next to the targets. Asserts nothing about timing and exits 0.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time as clock
import uuid
from collections import Counter
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _setup import ROOT, setup_django

BENCH_DB = "booking_bench_reminders"
TARGET_SECONDS = 20
KEY_HEADER = re.compile(r"^X-Notification-Key: (\S+)$", re.MULTILINE)


def seed(count: int) -> None:
    """Wipe the bench database and write `count` confirmed bookings, each with one email reminder that
    fell due a minute ago for an appointment still ahead: 20 providers, 200 customers in 5 zones."""
    from django.db import connection, transaction
    from django.utils import timezone

    from notifications.models import Channel, Notification, Reminder
    from scheduling.models import Booking, BookingStatus, Customer, Provider

    zones = ["America/New_York", "Europe/London", "Asia/Tokyo", "Australia/Sydney", "America/Los_Angeles"]
    now = timezone.now().replace(microsecond=0)
    with transaction.atomic():
        Reminder.objects.all().delete()
        Notification.objects.all().delete()
        Booking.objects.all().delete()
        Customer.objects.all().delete()
        Provider.objects.all().delete()
        providers = Provider.objects.bulk_create(
            [Provider(name=f"Bench provider {n}", slug=f"bench-{n}", timezone=zones[n % 5]) for n in range(20)]
        )
        customers = Customer.objects.bulk_create(
            [Customer(name=f"Customer {n}", email=f"c{n}@bench.example", timezone=zones[n % 5]) for n in range(200)]
        )
        per_provider = -(-count // len(providers))
        bookings = []
        for n in range(count):
            provider = providers[n % len(providers)]
            customer = customers[n % len(customers)]
            start = now + timedelta(hours=2, minutes=30 * (n // len(providers)))
            end = start + timedelta(minutes=30)
            bookings.append(
                Booking(
                    provider=provider,
                    customer=customer,
                    start_at=start,
                    end_at=end,
                    blocked_from=start,
                    blocked_until=end,
                    status=BookingStatus.CONFIRMED,
                    provider_timezone=provider.timezone,
                    customer_name=customer.name,
                    customer_email=customer.email,
                    customer_phone=customer.phone,
                    customer_timezone=customer.timezone,
                    free_cancel_until=start - timedelta(hours=24),
                    manage_token_hash="0" * 64,
                )
            )
        Booking.objects.bulk_create(bookings, batch_size=2000)
        fire_at = now - timedelta(minutes=1)
        Reminder.objects.bulk_create(
            [
                Reminder(
                    booking=b,
                    channel=Channel.EMAIL,
                    lead_minutes=round((b.start_at - fire_at).total_seconds() / 60),
                    fire_at=fire_at,
                    next_attempt_at=fire_at,
                )
                for b in bookings
            ],
            batch_size=2000,
        )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    print(f"  Seeded {count} due reminders ({per_provider} bookings per provider).")


class Workers:
    """N `celery worker -c 1` processes on a private queue, each in its own process group."""

    def __init__(self, count: int, *, mail_dir: Path, log_dir: Path, batch_size: int) -> None:
        self.queue = f"bench-reminders-{uuid.uuid4().hex[:12]}"
        env = {
            **os.environ,
            "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
            "EMAIL_FILE_PATH": str(mail_dir),
            "SMS_BACKEND": "",
            "PUSH_BACKEND": "",
            "LOG_LEVEL": "WARNING",
        }
        self.logs = [log_dir / f"worker-{n}.log" for n in range(count)]
        self.processes = []
        for n, log in enumerate(self.logs):
            command = [
                str(Path(sys.executable).parent / "celery"), "-A", "booking_site", "worker", "-Q", self.queue,
                "-n", f"{self.queue}-{n}@%h", "-c", "1", "-P", "prefork", "--prefetch-multiplier", "1", "-O", "fair",
                "-l", "INFO", "--without-gossip", "--without-mingle", "--without-heartbeat",
            ]  # fmt: skip
            with open(log, "w") as out:
                self.processes.append(
                    subprocess.Popen(
                        command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
                    )
                )

    def wait_ready(self, timeout: float = 60) -> None:
        deadline = clock.monotonic() + timeout
        while clock.monotonic() < deadline:
            for process, log in zip(self.processes, self.logs, strict=True):
                if process.poll() is not None:
                    raise SystemExit(f"A worker exited:\n{log.read_text()}")
            if all(" ready." in log.read_text() for log in self.logs):
                return
            clock.sleep(0.1)
        raise SystemExit("The workers did not start in time.")

    def per_worker_sent(self) -> list[int]:
        pattern = re.compile(r"dispatch_due_reminders\[[^\]]+\] succeeded in [\d.]+s: (\d+)")
        return [sum(int(n) for n in pattern.findall(log.read_text())) for log in self.logs]

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


def count_copies(mail_dir: Path) -> Counter:
    copies: Counter = Counter()
    for path in mail_dir.glob("*"):
        copies.update(KEY_HEADER.findall(path.read_text(errors="replace")))
    return copies


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reminders", type=int, default=10_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--timeout", type=float, default=180, help="give up after this many seconds")
    parser.add_argument("--keep", action="store_true", help="keep the emails and worker logs (a temporary dir)")
    args = parser.parse_args()

    setup_django(BENCH_DB)

    import django
    from django.conf import settings
    from django.db import connection

    from notifications.models import Reminder
    from notifications.services import BATCH_SIZE
    from notifications.tasks import dispatch_due_reminders

    seed(args.reminders)
    scratch = Path(tempfile.mkdtemp(prefix="bench-reminders-"))
    mail_dir, log_dir = scratch / "mail", scratch / "logs"
    mail_dir.mkdir()
    log_dir.mkdir()
    workers = Workers(args.workers, mail_dir=mail_dir, log_dir=log_dir, batch_size=BATCH_SIZE)
    try:
        workers.wait_ready()
        waiting = Reminder.objects.filter(status=Reminder.Status.SCHEDULED)
        started = clock.perf_counter()
        for _ in range(args.workers):  # what Beat does each minute: one tick, here once per worker
            dispatch_due_reminders.apply_async(queue=workers.queue)
        left = args.reminders
        while left and clock.perf_counter() - started < args.timeout:
            clock.sleep(0.05)
            left = waiting.count()
        drain = clock.perf_counter() - started
        clock.sleep(0.5)  # let each task log its total
        per_worker = workers.per_worker_sent()
    finally:
        workers.stop()

    copies = count_copies(mail_dir)
    duplicates = sum(n - 1 for n in copies.values() if n > 1)
    statuses = Counter(Reminder.objects.values_list("status", flat=True))
    attempts = Counter(Reminder.objects.values_list("attempts", flat=True))
    db = connection.settings_dict
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        pg_version = cursor.fetchone()[0]
        cursor.execute("SHOW synchronous_commit")
        sync_commit = cursor.fetchone()[0]

    load = "/".join(f"{n:.1f}" for n in os.getloadavg())
    print(f"Reminder dispatch benchmark ({platform.platform()}, {os.cpu_count()} logical CPUs, load {load})")
    print(f"  Python {platform.python_version()}, Django {django.__version__}, PostgreSQL {pg_version} at "
          f"{db['HOST']}:{db['PORT']}/{db['NAME']} (throwaway; synchronous_commit={sync_commit})")  # fmt: skip
    print(f"  {args.workers} Celery worker processes (-c 1 each), batches of {BATCH_SIZE}, lease "
          f"{settings.NOTIFICATIONS_CLAIM_LEASE_SECONDS:.0f} s, file email backend")  # fmt: skip
    print()
    print(f"  reminders              {args.reminders}")
    print(f"  drain time             {drain:6.2f} s   target <= {TARGET_SECONDS} s: "
          f"{'met' if drain <= TARGET_SECONDS and not left else 'MISSED'}")  # fmt: skip
    print(f"  throughput             {args.reminders / drain:8.0f} reminders/s")
    print(f"  sent per worker        {per_worker}")
    print(f"  emails written         {sum(copies.values())} for {len(copies)} distinct reminders")
    print(f"  duplicates             {duplicates}   target 0: {'met' if duplicates == 0 else 'MISSED'}")
    print(f"  rows by status         {dict(statuses)}; by attempts {dict(attempts)}")
    if left:
        print(f"  NOT DRAINED: {left} reminders still scheduled after {args.timeout:.0f} s")
    if not args.keep:
        shutil.rmtree(scratch, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
