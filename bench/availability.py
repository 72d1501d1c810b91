"""Benchmark `provider_slots` and `service_slots` (docs/architecture.md §3) against a throwaway database.

    .venv/bin/python bench/availability.py [--reps 200]

Creates the database `booking_bench` on the cluster that DATABASE_URL (or the local default) points at,
migrates it and reseeds it on every run, so dev data is never touched. Prints figures next to the
targets; it asserts nothing about timing and exits 0.

Then the cost of a rule's age: a 30-day expansion of a daily rule starting today, 10 and 100 years ago
(first use and warm), and the process's memory after expanding 1,000 such century-old rules. Target: the
100-year-old rule within 1.5x of the new one.

Scenario: one service (25-minute bookings every 30 minutes) offered by five providers in
America/New_York, each with five rules (weekdays 09:00-17:00, Tuesdays 10:00-14:00, the first Saturday
of each month 10:00-14:00, a closed lunch break, a closed holiday), 200 live bookings on its slot grid
over the next 30 days (plus cancelled ones, which must not count), and a few blocked times.
`provider_slots` is timed for the first provider; `service_slots` ("any available") over all five and
over the first alone. Target: five providers within 3x one, with a query count that does not grow
with the number of days.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import platform
import random
import statistics
import sys
import time as clock
from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from functools import partial
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from _setup import cpu_model, postgres_version, setup_django  # noqa: E402 - bench/ is on the path

PROVIDER_TZ = ZoneInfo("America/New_York")
LIVE_BOOKINGS = 200
CANCELLED_BOOKINGS = 50
DAYS = 30
PROVIDERS = 5


# --- seeding ------------------------------------------------------------------------------------


def seed(*, now: datetime, first: date, last: date):
    """Wipe the bench database's scheduling rows and write the scenario. Returns the providers and the service."""
    from django.db import connection, transaction

    from scheduling.models import AvailabilityRule, BlockedTime, Booking, Customer, Provider, Service

    rng = random.Random(20270315)
    with transaction.atomic():
        Booking.objects.all().delete()
        BlockedTime.objects.all().delete()
        AvailabilityRule.objects.all().delete()
        Service.objects.all().delete()
        Provider.objects.all().delete()
        Customer.objects.all().delete()

        service = Service.objects.create(
            name="Bench service",
            slug="bench-service",
            duration_minutes=25,
            slot_step_minutes=30,
            buffer_after_minutes=5,  # padded span 30 min: neighbouring grid slots can both be booked
            min_notice_minutes=60,
            max_advance_days=90,
            price=Decimal("50.00"),
        )
        customers = Customer.objects.bulk_create(
            [Customer(name=f"Bench customer {n}", email=f"bench{n}@example.com") for n in range(40)]
        )
        providers = [
            seed_provider(n, service=service, customers=customers, rng=rng, now=now, first=first, last=last)
            for n in range(PROVIDERS)
        ]
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return [Provider.objects.get(pk=p.pk) for p in providers], Service.objects.get(pk=service.pk)


def seed_provider(n: int, *, service, customers, rng, now: datetime, first: date, last: date):
    """One provider offering `service`, with the scenario's rules, bookings and blocked times."""
    from scheduling.availability import CLOSED, OPEN
    from scheduling.models import AvailabilityRule, BlockedTime, Booking, BookingStatus, Provider
    from scheduling.selectors import provider_slots

    provider = Provider.objects.create(name=f"Bench provider {n}", slug=f"bench-provider-{n}", timezone=PROVIDER_TZ)
    service.providers.add(provider)
    holiday = next(d for d in (first + timedelta(days=n) for n in range(10, 20)) if d.weekday() < 5)
    since = first - timedelta(days=365)

    def rule(kind: str, rrule: str, start: time, end: time, label: str, starts_on: date = since):
        return AvailabilityRule(
            provider=provider,
            kind=kind,
            rrule=rrule,
            starts_on=starts_on,
            start_time=start,
            end_time=end,
            label=label,
        )

    AvailabilityRule.objects.bulk_create(
        [
            rule(OPEN, "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR", time(9), time(17), "Weekdays"),
            rule(OPEN, "FREQ=WEEKLY;BYDAY=TU", time(10), time(14), "Tuesday extra"),
            rule(OPEN, "FREQ=MONTHLY;BYDAY=1SA", time(10), time(14), "First Saturday"),
            rule(CLOSED, "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR", time(12), time(13), "Lunch"),
            rule(CLOSED, "FREQ=DAILY;COUNT=1", time(0), time(0), "Holiday", starts_on=holiday),
        ]
    )

    # Every bookable start over the range, before anything is booked: the grid to book on.
    grid = [s.start for s in provider_slots(provider=provider, service=service, first=first, last=last, now=now)]
    if n == 0:
        print(f"  Seeding: {len(grid)} free starts per provider before booking; holiday {holiday}.")
    if len(grid) < LIVE_BOOKINGS:
        raise SystemExit(f"Only {len(grid)} slots on the grid; cannot place {LIVE_BOOKINGS} bookings.")
    live_starts = sorted(rng.sample(grid, LIVE_BOOKINGS))
    cancelled_starts = sorted(rng.sample(grid, CANCELLED_BOOKINGS))
    token_hash = hashlib.sha256(b"bench").hexdigest()

    def booking(start: datetime, status: str) -> Booking:
        end = start + timedelta(minutes=service.duration_minutes)
        customer = rng.choice(customers)
        return Booking(
            provider=provider,
            service=service,
            customer=customer,
            start_at=start,
            end_at=end,
            blocked_from=start - timedelta(minutes=service.buffer_before_minutes),
            blocked_until=end + timedelta(minutes=service.buffer_after_minutes),
            status=status,
            provider_timezone=provider.timezone,
            customer_name=customer.name,
            customer_email=customer.email,
            customer_phone=customer.phone,
            customer_timezone=customer.timezone,
            hold_expires_at=now + timedelta(minutes=15) if status == BookingStatus.PENDING else None,
            price=service.price,
            free_cancel_until=start - timedelta(hours=service.free_cancel_hours),
            cancelled_at=now if status == BookingStatus.CANCELLED else None,
            manage_token_hash=token_hash,
        )

    live = [
        booking(s, BookingStatus.PENDING if n % 5 == 0 else BookingStatus.CONFIRMED) for n, s in enumerate(live_starts)
    ]
    Booking.objects.bulk_create(live + [booking(s, BookingStatus.CANCELLED) for s in cancelled_starts])

    blocked_days = [d for d in (first + timedelta(days=n) for n in range(2, DAYS)) if d.weekday() < 5][::6][:4]
    BlockedTime.objects.bulk_create(
        [
            BlockedTime(
                provider=provider,
                start_at=datetime.combine(d, time(14), tzinfo=provider.timezone),
                end_at=datetime.combine(d, time(15, 30), tzinfo=provider.timezone),
                reason=BlockedTime.Reason.EXTERNAL,
            )
            for d in blocked_days
        ]
    )
    return provider


# --- measuring ----------------------------------------------------------------------------------


def timed(call: Callable[[], object], *, reps: int, warmup: int = 10) -> tuple[float, float]:
    """Median and p95 of `reps` calls, in milliseconds."""
    for _ in range(warmup):
        call()
    samples = []
    for _ in range(reps):
        started = clock.perf_counter()
        call()
        samples.append((clock.perf_counter() - started) * 1000)
    p95 = statistics.quantiles(samples, n=20, method="inclusive")[18]
    return statistics.median(samples), p95


def queries_per_call(call: Callable[[], object]) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as ctx:
        call()
    return len(ctx.captured_queries)


def rss_mb() -> float:
    """Resident memory of this process now (Linux), in MB."""
    pages = int(Path("/proc/self/statm").read_text().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def rule_age_costs(*, today: date, reps: int) -> None:
    """Print what a rule's age costs a 30-day request, on first use and warm, and the memory 1,000
    century-old rules leave behind."""
    from scheduling import availability

    last = today + timedelta(days=DAYS - 1)

    def rule(starts_on: date) -> availability.RuleSpec:
        return availability.RuleSpec(availability.OPEN, "FREQ=DAILY", starts_on, None, time(9), time(17))

    print()
    print(f"  Rule age, FREQ=DAILY expanded over {first_and_last(today, last)} ({DAYS} days), engine only:")
    print(f"  {'starts_on':>12} {'first use':>11} {'warm':>9}")
    warm_costs = {}
    for years in (0, 10, 100):
        start = today.replace(year=today.year - years)
        # First use: a rule this process has not seen (a distinct start day each time, same age).
        fresh = [rule(start - timedelta(days=n)) for n in range(1, 51)]
        first_use = []
        for spec in fresh:
            started = clock.perf_counter()
            availability.rule_dates(spec, today, last)
            first_use.append((clock.perf_counter() - started) * 1000)
        warm, _ = timed(partial(availability.rule_dates, rule(start), today, last), reps=reps)
        warm_costs[years] = warm
        print(f"  {start.isoformat():>12} {statistics.median(first_use):9.3f}ms {warm:7.3f}ms")
    ratio = warm_costs[100] / warm_costs[0]
    print(f"  100-year-old rule / new rule (warm): {ratio:.2f}x   target <= 1.5x: {verdict_mark(ratio <= 1.5)}")
    before = rss_mb()
    century = today.replace(year=today.year - 100)
    for n in range(1000):
        availability.rule_dates(rule(century + timedelta(days=n)), today, last)
    print(f"  Memory: {before:.0f} MB before, {rss_mb():.0f} MB after 1,000 rules starting about 100 years ago")


def first_and_last(first: date, last: date) -> str:
    return f"{first.isoformat()}..{last.isoformat()}"


def verdict_mark(ok: bool) -> str:
    return "met" if ok else "MISSED"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reps", type=int, default=200, help="timed calls per figure (default 200)")
    args = parser.parse_args()

    setup_django()

    import django
    from django.conf import settings
    from django.db import connection
    from django.utils import timezone

    from scheduling import availability
    from scheduling.selectors import (
        provider_blocked,
        provider_busy,
        provider_rules,
        provider_slots,
        service_slots,
        slot_spec,
    )

    now = timezone.now().replace(second=0, microsecond=0)
    today = now.astimezone(PROVIDER_TZ).date()
    first, last = today, today + timedelta(days=DAYS - 1)
    providers, service = seed(now=now, first=first, last=last)
    provider = providers[0]
    one_day = next(d for d in (first + timedelta(days=n) for n in range(2, 9)) if d.weekday() == 1)  # a Tuesday

    # Timing without Django's debug cursor, which records every query when DEBUG is on.
    settings.DEBUG = False

    def month() -> list:
        return provider_slots(provider=provider, service=service, first=first, last=last, now=now)

    def day() -> list:
        return provider_slots(provider=provider, service=service, first=one_day, last=one_day, now=now)

    def any_of(chosen: list, first_day: date, last_day: date) -> Callable[[], list]:
        return partial(
            service_slots, service=service, first=first_day, last=last_day, viewer_tz=PROVIDER_TZ,
            providers=chosen, now=now,
        )  # fmt: skip

    spec = slot_spec(provider=provider, service=service)
    rules = provider_rules(provider=provider)
    window = availability.local_dates_window(first, last, provider.timezone)
    busy = provider_busy(provider=provider, service=service, window=window)
    blocked = provider_blocked(provider=provider, service=service, window=window)

    day_window = availability.local_dates_window(one_day, one_day, provider.timezone)

    def engine_month() -> list:
        return availability.slots_between(spec, rules, busy=busy, blocked=blocked, window=window, now=now)

    def engine_day() -> list:
        return availability.slots_between(spec, rules, busy=busy, blocked=blocked, window=day_window, now=now)

    month_slots, day_slots = month(), day()
    if engine_month() != month_slots or engine_day() != day_slots:
        print("WARNING: the engine alone and provider_slots disagree.")
    month_queries, day_queries = queries_per_call(month), queries_per_call(day)
    month_median, month_p95 = timed(month, reps=args.reps)
    day_median, day_p95 = timed(day, reps=args.reps)
    engine_median, engine_p95 = timed(engine_month, reps=args.reps)
    engine_day_median, engine_day_p95 = timed(engine_day, reps=args.reps)
    one_month, five_month, five_day = (
        any_of(providers[:1], first, last),
        any_of(providers, first, last),
        any_of(providers, one_day, one_day),
    )
    one_median, one_p95 = timed(one_month, reps=args.reps)
    five_median, five_p95 = timed(five_month, reps=args.reps)
    five_slots, five_queries, five_day_queries = five_month(), queries_per_call(five_month), queries_per_call(five_day)

    db = connection.settings_dict
    print(f"Availability benchmark, {now:%Y-%m-%d %H:%M} UTC")
    print(f"  Machine:    {platform.platform()} ({platform.machine()}), {os.cpu_count()} logical CPUs")
    print(f"  CPU:        {cpu_model()}")
    print(
        f"  Python:     {platform.python_version()} ({platform.python_implementation()}), Django {django.__version__}"
    )
    print(f"  PostgreSQL: {postgres_version()} at {db['HOST']}:{db['PORT']}, database {db['NAME']} (throwaway)")
    print(
        f"  Scenario:   1 service ({service.duration_minutes}-min slots every {service.step_minutes} min, "
        f"{service.buffer_after_minutes}-min buffer after) offered by {PROVIDERS} providers ({provider.timezone}), "
        f"each with {len(rules)} rules, {LIVE_BOOKINGS} live + {CANCELLED_BOOKINGS} cancelled bookings and "
        f"{len(blocked)} blocked times over {first}..{last}; {args.reps} timed calls after 10 warm-up calls, "
        "DEBUG off"
    )
    print()
    header = f"  {'':34} {'median':>9} {'p95':>9} {'queries':>8} {'slots':>6}   target"
    print(header)
    print("  " + "-" * (len(header) + 30))
    print(
        f"  {'provider_slots, 30 days':34} {month_median:7.2f}ms {month_p95:7.2f}ms {month_queries:>8} "
        f"{len(month_slots):>6}   median <= 10 ms with <= 4 queries: "
        f"{verdict_mark(month_median <= 10 and month_queries <= 4)}"
    )
    print(
        f"  {f'provider_slots, 1 day ({one_day})':34} {day_median:7.2f}ms {day_p95:7.2f}ms {day_queries:>8} "
        f"{len(day_slots):>6}   median <= 3 ms: {verdict_mark(day_median <= 3)}"
    )
    print(
        f"  {'engine only (no DB), 30 days':34} {engine_median:7.2f}ms {engine_p95:7.2f}ms {0:>8} "
        f"{len(month_slots):>6}   (for reference)"
    )
    print(
        f"  {'engine only (no DB), 1 day':34} {engine_day_median:7.2f}ms {engine_day_p95:7.2f}ms {0:>8} "
        f"{len(day_slots):>6}   (for reference)"
    )
    print()
    print(f"  Any available: service_slots over {DAYS} days, the union over the providers")
    print(
        f"  {'service_slots, 1 provider':34} {one_median:7.2f}ms {one_p95:7.2f}ms {queries_per_call(one_month):>8} "
        f"{len(one_month()):>6}   (baseline for the ratio)"
    )
    ratio = five_median / one_median
    print(
        f"  {f'service_slots, {PROVIDERS} providers':34} {five_median:7.2f}ms {five_p95:7.2f}ms {five_queries:>8} "
        f"{len(five_slots):>6}   {ratio:.2f}x one provider, target <= 3x: {verdict_mark(ratio <= 3)}"
    )
    print(
        f"  {f'service_slots, {PROVIDERS} providers, 1 day':34} {'':>9} {'':>9} {five_day_queries:>8} {'':>6}   "
        f"same queries as 30 days: {verdict_mark(five_day_queries == five_queries)}"
    )
    rule_age_costs(today=today, reps=args.reps)
    return 0


if __name__ == "__main__":
    sys.exit(main())
