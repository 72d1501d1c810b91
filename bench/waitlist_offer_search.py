"""Time the waitlist's offer search: `offers_make` for one freed slot with 10,000 entries waiting.

    BENCH_DB=booking_bench .venv/bin/python bench/waitlist_offer_search.py [--slots 50]

Scenario (bench/_waitlist_seed.py): 100 services, each with its own provider open on weekdays, every
slot of the next 14 days booked, 100 waiting entries per service (10,000 in all). Per freed slot: one
booking a waiting entry could take is cancelled (untimed; its on-commit kick goes to a queue nobody
reads, deleted at the end), then `offers_make` for its service is timed, alternately searching the
whole line's windows (what the sweep does) and only around the freed span (what the kick does).
Target: under 20 ms per freed slot. Baseline, in the same run: `selectors.service_slots` for one day of
one service. Also prints the plan of the entry query, which must use the index waitlist_line_idx.
Prints figures; asserts nothing about timing and exits 0.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time as clock
import uuid
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from _setup import cpu_model, postgres_version, setup_django  # noqa: E402 - bench/ is on the path

TARGET_MS = 20.0


def ms(seconds: list[float]) -> tuple[float, float]:
    values = sorted(s * 1000 for s in seconds)
    return statistics.median(values), values[min(len(values) - 1, int(len(values) * 0.95))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--slots", type=int, default=50, help="freed slots timed per mode (default 50)")
    args = parser.parse_args()
    setup_django()

    import redis
    from _waitlist_seed import PROVIDER_TZ, cancellable, first_day, seed
    from django.conf import settings
    from django.db import connection
    from django.utils import timezone

    from booking_site.celery import app
    from scheduling.selectors import service_slots
    from scheduling.services import booking_cancel
    from waitlist.models import EntryStatus, WaitlistEntry
    from waitlist.services import offers_make

    settings.DEBUG = False
    lost_queue = f"bench-unread-{uuid.uuid4().hex[:8]}"
    app.conf.task_default_queue = lost_queue  # the kicks are not what is measured here
    now = timezone.now()
    started = clock.perf_counter()
    services = seed(now=now)
    print(f"Seeded {WaitlistEntry.objects.count():,} entries over {len(services)} services "
          f"in {clock.perf_counter() - started:.1f} s.")  # fmt: skip

    rng = random.Random(7)
    picked = rng.sample(services, min(args.slots, len(services)))
    freed = [b for service in picked for b in cancellable(service, now=now, count=2, rng=rng)]

    day = first_day(now) + timedelta(days=2)
    baseline = []
    for service in picked:
        t0 = clock.perf_counter()
        service_slots(service=service, first=day, last=day, viewer_tz=PROVIDER_TZ)
        baseline.append(clock.perf_counter() - t0)

    # Alternating, so both see the same machine load: the whole line's search (what the sweep does,
    # and every kick did before the freed span was passed on) and the search around the freed span.
    timings: dict[str, list[float]] = {"whole": [], "freed": []}
    made = {"whole": 0, "freed": 0}
    for n, booking in enumerate(freed):
        mode = "freed" if n % 2 else "whole"
        booking_cancel(booking_id=booking.pk)
        span = (booking.blocked_from, booking.blocked_until) if mode == "freed" else None
        t0 = clock.perf_counter()
        made[mode] += offers_make(service_id=booking.service_id, freed=span)
        timings[mode].append(clock.perf_counter() - t0)

    sql, params = (
        WaitlistEntry.objects.filter(service_id=picked[0].pk, status=EntryStatus.WAITING, window_end__gt=now)
        .order_by("created_at", "id")[:200]
        .query.sql_with_params()
    )
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN {sql}", params)
        plan = [row[0] for row in cursor.fetchall()]
    redis.Redis.from_url(settings.CELERY_BROKER_URL).delete(lost_queue)

    base_median, base_p95 = ms(baseline)
    print(f"Machine: {cpu_model()}; PostgreSQL {postgres_version()}")
    print(f"Baseline service_slots, one day of one service: median {base_median:.1f} ms, p95 {base_p95:.1f} ms")
    labels = {"whole": "whole line's windows (the sweep)", "freed": "around the freed span (the kick)"}
    for mode, label in labels.items():
        median, p95 = ms(timings[mode])
        print(f"offers_make per freed slot, {label}: {len(timings[mode])} slots, {made[mode]} offers made")
        print(f"  median {median:.1f} ms, p95 {p95:.1f} ms  (target < {TARGET_MS:.0f} ms: "
              f"{'met' if p95 < TARGET_MS else 'MISSED'} at p95); "
              f"vs baseline: median {median / base_median:.1f}x, p95 {p95 / base_p95:.1f}x")  # fmt: skip
    print("Plan of the entry query:")
    for line in plan:
        print(f"  {line}")
    index_lines = [line for line in plan if "waitlist_line_idx" in line]
    scans = [line.strip() for line in plan if "Index Scan" in line or "Bitmap Index Scan" in line]
    print(f"Plan lines naming waitlist_line_idx: {len(index_lines)}; index scans: {scans or 'NONE (sequential)'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
