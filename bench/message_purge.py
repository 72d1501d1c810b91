"""What the daily purge of old messages costs on a large outbox (notifications.services.messages_purge).

    .venv/bin/python bench/message_purge.py [--bookings 100000]

On its own throwaway database `booking_bench_purge` (dropped and re-created every run): `--bookings`
cancelled bookings that ended 200 days ago (cancelled, so the exclusion constraint has nothing to say),
each with one sent notification and two sent reminders last changed as long ago, and as many again
ended yesterday (kept: within the retention). Prints, each next to the database's own baseline
measured in the same run:
  first purge    messages_purge with everything old still there (what the first run after a deploy does),
                 against one plain `DELETE ... WHERE id IN (SELECT ...)` of the same rows per table
  daily purge    messages_purge again, nothing left to delete (what each later day costs), against a
                 `count(*)` of each outbox table (one pass over it)
Asserts nothing about timing; exits 0.
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _setup import machine_line, setup_django

BENCH_DB = "booking_bench_purge"
TABLES = ("notifications_notification", "notifications_reminder")


def seed(count: int, *, ended_days_ago: int, start_number: int) -> None:
    from django.db import connection
    from django.utils import timezone

    from scheduling.models import Booking, BookingStatus, Customer
    from tests.factories import ProviderFactory, service_of

    provider = ProviderFactory()
    service = service_of(provider)
    customer = Customer.objects.create(name="Purge", email=f"purge{start_number}@bench.example")
    end = timezone.now() - timedelta(days=ended_days_ago)
    start = end - timedelta(minutes=30)
    batch = 5000
    for first in range(0, count, batch):
        Booking.objects.bulk_create(
            Booking(provider=provider, service=service, customer=customer, start_at=start, end_at=end,
                    blocked_from=start, blocked_until=end, status=BookingStatus.CANCELLED,
                    provider_timezone=provider.timezone, customer_name="Purge", customer_email=customer.email,
                    customer_timezone="UTC", free_cancel_until=start, manage_token_hash=f"{start_number + n:064d}")
            for n in range(first, min(first + batch, count))
        )  # fmt: skip
    changed = end.isoformat()
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO notifications_notification (channel, address, status, attempts, last_error, next_attempt_at,"
            " provider_message_id, dedup_key, created_at, updated_at, booking_id, kind, recipient)"
            " SELECT 'email', b.customer_email, 'sent', 1, '', %s, '', 'confirmation:' || b.id || ':bench', %s, %s,"
            " b.id, 'confirmation', 'customer' FROM scheduling_booking b WHERE b.provider_id = %s",
            [changed, changed, changed, provider.pk],
        )
        cursor.execute(
            "INSERT INTO notifications_reminder (booking_id, channel, lead_minutes, fire_at, status, attempts,"
            " last_error, next_attempt_at, provider_message_id, created_at, updated_at)"
            " SELECT b.id, 'email', lead, %s, 'sent', 1, '', %s, '', %s, %s"
            " FROM scheduling_booking b CROSS JOIN (VALUES (60), (1440)) leads(lead) WHERE b.provider_id = %s",
            [changed, changed, changed, changed, provider.pk],
        )
        cursor.execute("ANALYZE")


def timed(function) -> tuple[float, object]:
    started = time.perf_counter()
    result = function()
    return time.perf_counter() - started, result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bookings", type=int, default=100_000, help="old bookings, and as many recent ones")
    args = parser.parse_args()
    setup_django(BENCH_DB, fresh=True)
    from django.db import connection, transaction

    from notifications import services

    print(f"Seeding {args.bookings} old and {args.bookings} recent bookings, 3 messages each ...", flush=True)
    seed(args.bookings, ended_days_ago=200, start_number=0)
    seed(args.bookings, ended_days_ago=1, start_number=args.bookings)
    rows = 3 * args.bookings

    def baseline_delete() -> None:
        with transaction.atomic(), connection.cursor() as cursor:
            for table in TABLES:
                cursor.execute(
                    f"DELETE FROM {table} WHERE id IN (SELECT m.id FROM {table} m JOIN scheduling_booking b"
                    " ON b.id = m.booking_id WHERE m.status IN ('sent', 'failed', 'skipped', 'cancelled')"
                    " AND m.updated_at < now() - interval '180 days' AND b.end_at < now() - interval '180 days')"
                )
            transaction.set_rollback(True)  # measured, then undone: the purge deletes the same rows next

    def baseline_scan() -> None:
        with connection.cursor() as cursor:
            for table in TABLES:
                cursor.execute(f"SELECT count(*) FROM {table}")

    raw_delete, _ = timed(baseline_delete)
    first, purged = timed(services.messages_purge)
    scan, _ = timed(baseline_scan)
    daily, again = timed(services.messages_purge)
    assert purged["notifications"] + purged["reminders"] == rows, purged

    print()
    print(f"Message purge, {args.bookings} old bookings ({rows} messages to delete) and as many recent")
    print(f"  {machine_line()}")
    print(f"  first purge   {first:7.2f} s  {rows / first:9.0f} messages/s   baseline one DELETE per table "
          f"{raw_delete:6.2f} s   ratio {first / raw_delete:4.1f}x")  # fmt: skip
    print(f"  daily purge   {daily:7.2f} s  (nothing left: {sum(again.values())} deleted)   baseline count(*) "
          f"{scan:6.2f} s   ratio {daily / scan:4.1f}x")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
