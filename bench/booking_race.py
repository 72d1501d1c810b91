"""Race ~190 clients for overlapping slots of one provider, with and without the provider lock (ADR 0002).

    .venv/bin/python bench/booking_race.py [--clients 190] [--rounds 5] [--modes locked,unlocked,constraint-only]

Measures the claim in docs/decisions/0002-slot-conflict-detection.md: concurrent overlapping inserts
against the GiST exclusion constraint `booking_no_overlap` deadlock when the provider row is not locked
first. Runs on the throwaway database `booking_bench` (see bench/_setup.py), never on dev data. Prints
figures; asserts nothing about timing and exits 0.

Scenario: one provider (UTC, open around the clock, 60-min slots every 15 min, 10-min buffer before and
20-min buffer after, bookings stay pending so every mode does exactly one insert) and eight partly
overlapping starts 15 minutes apart. Each client is a thread with its own database connection, opened
before the race; client n asks for start n % 8. All clients are released together by a barrier. Modes:

  locked           the real `booking_create` service: SELECT ... FOR UPDATE on the provider, then the
                   application check, then the insert (the constraint is the final arbiter).
  unlocked         the same check-then-insert in one transaction, without the provider lock; no retry.
  constraint-only  a plain insert in its own transaction: no check, no lock. Opt-in (--modes): one round
                   can take well over a minute, because the deadlocks are resolved one
                   deadlock_timeout after another.

Per round: winners, clean losers (SlotUnavailable from the check, or the constraint's 23P01), deadlocks
(40P01), other errors, wall time (release to last client done), loser latency (from each client's
release to its error) and the overlap audit (live bookings whose buffered spans meet: must be 0). The
bench bookings are deleted between rounds. A round that deadlocks can take tens of seconds, so no new
round starts once --budget seconds of racing have passed (the skipped rounds are reported).
"""

from __future__ import annotations

import argparse
import logging
import os
import platform
import secrets
import statistics
import sys
import threading
import time as clock
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from _setup import cpu_model, postgres_version, setup_django  # noqa: E402 - bench/ is on the path

MODES = ("locked", "unlocked", "constraint-only")
SLOT_MINUTES, STEP_MINUTES, BUFFER_BEFORE, BUFFER_AFTER = 60, 15, 10, 20
STARTS = 8  # distinct starts 15 min apart: each overlaps its neighbours, buffers included
PROVIDER_SLUG = "race-bench-provider"
EXCLUSION_VIOLATION, DEADLOCK_DETECTED = "23P01", "40P01"
BARRIER_TIMEOUT = 120.0

OVERLAP_AUDIT = """
    SELECT count(*) FROM scheduling_booking a
    JOIN scheduling_booking b
      ON a.provider_id = b.provider_id AND a.id < b.id
     AND tstzrange(a.blocked_from, a.blocked_until, '[)') && tstzrange(b.blocked_from, b.blocked_until, '[)')
    WHERE a.status IN ('pending', 'confirmed') AND b.status IN ('pending', 'confirmed')
"""


# --- the three ways to book ---------------------------------------------------------------------


def new_booking(provider, customer, start: datetime, now: datetime):
    """A pending booking built exactly as the service builds one."""
    from scheduling.manage_links import hash_old_token
    from scheduling.models import Booking

    service = provider.bench_service
    end = start + timedelta(minutes=service.duration_minutes)
    return Booking(
        provider=provider,
        service=service,
        customer=customer,
        start_at=start,
        end_at=end,
        blocked_from=start - timedelta(minutes=service.buffer_before_minutes),
        blocked_until=end + timedelta(minutes=service.buffer_after_minutes),
        provider_timezone=provider.timezone,
        customer_name=customer.name,
        customer_email=customer.email,
        customer_phone=customer.phone,
        customer_timezone=customer.timezone,
        hold_expires_at=now + timedelta(minutes=service.hold_minutes),
        price=service.price,
        currency=service.currency,
        late_cancel_fee=service.late_cancel_fee,
        free_cancel_until=start - timedelta(hours=service.free_cancel_hours),
        manage_token_hash=hash_old_token(secrets.token_urlsafe(32)),
    )


def book_locked(provider, customer, start: datetime):
    from scheduling.services import booking_create

    return booking_create(provider_id=provider.pk, start=start, customer=customer)


def book_unlocked(provider, customer, start: datetime):
    """`booking_create` without `SELECT ... FOR UPDATE`: read the provider, check, insert. No retry."""
    from django.db import transaction
    from django.utils import timezone

    from scheduling import selectors
    from scheduling.availability import Verdict, verdict_for_start
    from scheduling.errors import SlotNotOffered, SlotUnavailable
    from scheduling.models import Provider

    with transaction.atomic():
        service = provider.bench_service
        provider = Provider.objects.get(pk=provider.pk)  # a plain read: nothing is locked
        provider.bench_service = service
        now = timezone.now()
        window = (start, start + timedelta(microseconds=1))
        verdict = verdict_for_start(
            selectors.slot_spec(provider=provider, service=service),
            selectors.provider_rules(provider=provider),
            busy=selectors.provider_busy(provider=provider, service=service, window=window),
            blocked=selectors.provider_blocked(provider=provider, service=service, window=window),
            start=start,
            now=now,
        )
        if verdict is Verdict.BUSY:
            raise SlotUnavailable("This slot is no longer available.", conflicting_booking_id=None)
        if verdict is not Verdict.BOOKABLE:
            raise SlotNotOffered(f"Not bookable: {verdict.name}", field="start")
        booking = new_booking(provider, customer, start, now)
        booking.save(force_insert=True)
        return booking


def book_constraint_only(provider, customer, start: datetime):
    from django.db import transaction
    from django.utils import timezone

    with transaction.atomic():
        booking = new_booking(provider, customer, start, timezone.now())
        booking.save(force_insert=True)
        return booking


BOOKERS: dict[str, Callable[[Any, Any, datetime], Any]] = {
    "locked": book_locked,
    "unlocked": book_unlocked,
    "constraint-only": book_constraint_only,
}


# --- outcomes -----------------------------------------------------------------------------------


def sqlstate(exc: BaseException) -> str | None:
    return getattr(exc.__cause__, "sqlstate", None)


def classify(outcome: Any) -> str:
    """winner, check (SlotUnavailable from the application check), constraint (23P01), deadlock, other."""
    from django.db import IntegrityError, OperationalError

    from scheduling.errors import SlotUnavailable
    from scheduling.models import Booking

    if isinstance(outcome, Booking):
        return "winner"
    if isinstance(outcome, SlotUnavailable):
        # booking_create turns a 23P01 into SlotUnavailable `from` the IntegrityError.
        return "constraint" if isinstance(outcome.__cause__, IntegrityError) else "check"
    if isinstance(outcome, IntegrityError) and sqlstate(outcome) == EXCLUSION_VIOLATION:
        return "constraint"
    if isinstance(outcome, OperationalError) and sqlstate(outcome) == DEADLOCK_DETECTED:
        return "deadlock"
    return "other"


@dataclass
class RoundResult:
    kinds: Counter
    loser_ms: list[float]
    deadlock_ms: list[float]
    wall_s: float
    overlaps: int
    retried: int
    others: Counter = field(default_factory=Counter)

    @property
    def losers(self) -> int:
        return self.kinds["check"] + self.kinds["constraint"]


class RetryCounter(logging.Handler):
    """Counts `booking_create`'s own deadlock retries, which would otherwise hide a 40P01."""

    def __init__(self) -> None:
        super().__init__()
        self.count = 0

    def emit(self, record: logging.LogRecord) -> None:
        if "deadlocked" in record.getMessage():
            self.count += 1


# --- the race -----------------------------------------------------------------------------------


class Clients:
    """N threads, each holding its own connection, released together for every round."""

    def __init__(self, n: int) -> None:
        self.n = n
        self.start = threading.Barrier(n + 1, timeout=BARRIER_TIMEOUT)
        self.done = threading.Barrier(n + 1, timeout=BARRIER_TIMEOUT)
        self.job: Callable[[int], Any] | None = None
        self.outcomes: list[Any] = [None] * n
        self.elapsed: list[float] = [0.0] * n
        self.connect_errors: list[BaseException] = []
        self.ready = threading.Barrier(n + 1, timeout=BARRIER_TIMEOUT)
        self.threads = [threading.Thread(target=self._run, args=(i,), daemon=True) for i in range(n)]
        for thread in self.threads:
            thread.start()
        self.ready.wait()
        if self.connect_errors:
            self.close()
            raise SystemExit(f"{len(self.connect_errors)} clients could not connect: {self.connect_errors[0]!r}")

    def _run(self, index: int) -> None:
        from django.db import connection, connections

        try:
            connection.ensure_connection()  # connect now, so connecting is not part of the race
        except Exception as exc:  # noqa: BLE001 - reported by the constructor
            self.connect_errors.append(exc)
        try:
            self.ready.wait()
            while True:
                self.start.wait()
                job = self.job
                if job is None:
                    return
                began = clock.perf_counter()
                try:
                    self.outcomes[index] = job(index)
                except Exception as exc:  # noqa: BLE001 - the outcome is classified by the caller
                    self.outcomes[index] = exc
                self.elapsed[index] = clock.perf_counter() - began
                self.done.wait()
        except threading.BrokenBarrierError:
            return
        finally:
            connections.close_all()

    def race(self, job: Callable[[int], Any]) -> float:
        """Run `job(client_index)` on every client at once; the wall time in seconds."""
        self.job = job
        self.outcomes = [None] * self.n
        self.start.wait()
        began = clock.perf_counter()
        self.done.wait()
        return clock.perf_counter() - began

    def close(self) -> None:
        self.job = None
        try:
            self.start.wait(timeout=10)
        except threading.BrokenBarrierError:
            pass
        for thread in self.threads:
            thread.join(10)


def overlapping_live_pairs() -> int:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(OVERLAP_AUDIT)
        return cursor.fetchone()[0]


def run_round(clients: Clients, mode: str, provider, customers, starts, retries: RetryCounter) -> RoundResult:
    from scheduling.models import Booking

    Booking.objects.filter(provider=provider).delete()
    book = BOOKERS[mode]
    retried_before = retries.count
    wall = clients.race(lambda i: book(provider, customers[i], starts[i % len(starts)]))
    kinds: Counter = Counter()
    others: Counter = Counter()
    loser_ms, deadlock_ms = [], []
    for outcome, seconds in zip(clients.outcomes, clients.elapsed, strict=True):
        kind = classify(outcome)
        kinds[kind] += 1
        if kind in {"check", "constraint", "deadlock"}:
            loser_ms.append(seconds * 1000)
        if kind == "deadlock":
            deadlock_ms.append(seconds * 1000)
        if kind == "other":
            others[f"{type(outcome).__name__} {sqlstate(outcome) or ''}".strip()] += 1
    overlaps = overlapping_live_pairs()
    Booking.objects.filter(provider=provider).delete()
    return RoundResult(kinds, loser_ms, deadlock_ms, wall, overlaps, retries.count - retried_before, others)


# --- setup and reporting ------------------------------------------------------------------------


def prepare(n_clients: int):
    """The bench provider (UTC, open around the clock), its eight starts and one customer per client."""
    from django.utils import timezone

    from scheduling import selectors
    from scheduling.availability import OPEN, Verdict, verdict_for_start
    from scheduling.models import AvailabilityRule, Booking, Customer, Provider, Service

    provider, _ = Provider.objects.update_or_create(
        slug=PROVIDER_SLUG, defaults={"name": "Race bench provider", "timezone": "UTC", "is_active": True}
    )
    service, _ = Service.objects.update_or_create(
        slug=PROVIDER_SLUG,
        defaults={
            "name": "Race bench service",
            "duration_minutes": SLOT_MINUTES,
            "slot_step_minutes": STEP_MINUTES,
            "buffer_before_minutes": BUFFER_BEFORE,
            "buffer_after_minutes": BUFFER_AFTER,
            "min_notice_minutes": 0,
            "max_advance_days": 3650,
            "requires_confirmation": True,  # bookings stay pending: one insert per client in every mode
            "is_active": True,
        },
    )
    service.providers.set([provider])
    Booking.objects.filter(provider=provider).delete()
    AvailabilityRule.objects.filter(provider=provider).delete()
    AvailabilityRule.objects.create(
        provider=provider,
        kind=OPEN,
        rrule="FREQ=DAILY",
        starts_on=timezone.now().date() - timedelta(days=1),
        start_time=time(0),
        end_time=time(0),
        label="Around the clock",
    )
    provider = Provider.objects.get(pk=provider.pk)
    # The bench's one service, read once here so the timed paths never query it.
    provider.bench_service = service

    day = (timezone.now() + timedelta(days=3)).date()
    base = datetime.combine(day, time(10), tzinfo=provider.timezone)
    starts = [base + timedelta(minutes=STEP_MINUTES * k) for k in range(STARTS)]
    for start in starts:
        window = (start, start + timedelta(microseconds=1))
        verdict = verdict_for_start(
            selectors.slot_spec(provider=provider, service=service),
            selectors.provider_rules(provider=provider),
            busy=[],
            blocked=selectors.provider_blocked(provider=provider, service=service, window=window),
            start=start,
            now=timezone.now(),
        )
        if verdict is not Verdict.BOOKABLE:
            raise SystemExit(f"Scenario error: {start} is {verdict.name}, not bookable.")

    emails = [f"racer{n}@race-bench.example.com" for n in range(n_clients)]
    have = set(Customer.objects.filter(email__in=emails).values_list("email", flat=True))
    Customer.objects.bulk_create(
        [Customer(name=f"Racer {n}", email=email) for n, email in enumerate(emails) if email not in have]
    )
    by_email = {c.email: c for c in Customer.objects.filter(email__in=emails)}
    return provider, starts, [by_email[email] for email in emails]


def server_setting(name: str) -> str:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting(%s)", [name])
        return cursor.fetchone()[0]


def free_connections() -> int:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('max_connections')::int - count(*) FROM pg_stat_activity")
        return cursor.fetchone()[0]


def percentile(values: list[float], pct: int) -> float | None:
    if not values:
        return None
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[pct - 1]


def ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f}ms"


LABEL = "mode round"


def row(label: str, kinds: Counter, retried: int, wall: str, losers: list[float], overlaps: int) -> str:
    deadlocks = f"{kinds['deadlock']}" + (f" (+{retried} retried)" if retried else "")
    clean = kinds["check"] + kinds["constraint"]
    return (
        f"  {label:<22} {kinds['winner']:>7} {clean:>6} = {kinds['check']:>3} + {kinds['constraint']:<3} "
        f"{deadlocks:>9} {kinds['other']:>5} {wall:>8} {ms(percentile(losers, 50)):>9} "
        f"{ms(percentile(losers, 99)):>9} {overlaps:>8}"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=190, help="concurrent clients (default 190)")
    parser.add_argument("--rounds", type=int, default=5, help="rounds of locked and unlocked (default 5)")
    parser.add_argument(
        "--constraint-only-rounds", type=int, default=1, help="rounds of constraint-only (default 1; 0 skips it)"
    )
    parser.add_argument(
        "--budget",
        type=float,
        default=60,
        help="no round starts after this many seconds of racing (default 60); one deadlocking round can take a minute",
    )
    parser.add_argument(
        "--modes", default="locked,unlocked", help=f"comma-separated, from {', '.join(MODES)} (default locked,unlocked)"
    )
    args = parser.parse_args()
    modes = [m.strip() for m in args.modes.split(",") if m.strip()]
    if unknown := [m for m in modes if m not in MODES]:
        parser.error(f"unknown mode(s): {', '.join(unknown)}")
    planned = {mode: args.constraint_only_rounds if mode == "constraint-only" else args.rounds for mode in modes}
    modes = [mode for mode in modes if planned[mode] > 0]

    setup_django()

    import django
    from django.conf import settings
    from django.db import connection
    from django.utils import timezone

    settings.DEBUG = False  # no per-connection query log

    n_clients = min(args.clients, free_connections() - 2)
    if n_clients < 2:
        raise SystemExit("Not enough free PostgreSQL connections for a race.")
    provider, starts, customers = prepare(n_clients)

    retries = RetryCounter()
    service_logger = logging.getLogger("scheduling.services.bookings")
    service_logger.addHandler(retries)
    service_logger.propagate = False  # count the service's deadlock retries instead of printing them

    db = connection.settings_dict
    print(f"Booking race benchmark, {timezone.now():%Y-%m-%d %H:%M} UTC")
    print(f"  Machine:    {platform.platform()} ({platform.machine()}), {os.cpu_count()} logical CPUs")
    print(f"  CPU:        {cpu_model()}")
    print(
        f"  Python:     {platform.python_version()} ({platform.python_implementation()}), Django {django.__version__}"
    )
    print(
        f"  PostgreSQL: {postgres_version()} at {db['HOST']}:{db['PORT']}, database {db['NAME']} (throwaway); "
        f"deadlock_timeout {server_setting('deadlock_timeout')}, max_connections {server_setting('max_connections')}"
    )
    note = "" if n_clients == args.clients else f" (asked for {args.clients}; limited by free connections)"
    print(
        f"  Scenario:   {n_clients} clients{note}, threads with one connection each, released by a barrier; "
        f"1 provider ({SLOT_MINUTES}-min slots every {STEP_MINUTES} min, {BUFFER_BEFORE}-min buffer before, "
        f"{BUFFER_AFTER} after, bookings stay pending); {STARTS} starts {starts[0]:%Y-%m-%d %H:%M} to "
        f"{starts[-1]:%H:%M} UTC, client n asks for start n % {STARTS}; rounds: "
        + ", ".join(f"{mode} {planned[mode]}" for mode in modes)
        + f"; no round starts after {args.budget:.0f} s of racing"
    )
    print()
    header = (
        f"  {LABEL:<22} {'winners':>7} {'clean losers':>18} {'deadlocks':>9} {'other':>5} "
        f"{'wall':>8} {'loser p50':>9} {'loser p99':>9} {'overlaps':>8}"
    )
    print(header)
    print(f"  {'':<22} {'':>7} {'= check + 23P01':>18}")
    print("  " + "-" * (len(header) - 2))

    began = clock.perf_counter()
    clients = Clients(n_clients)
    summaries = []
    try:
        for mode in modes:
            results = []
            for number in range(1, planned[mode] + 1):
                if clock.perf_counter() - began >= args.budget:
                    print(f"  {mode}: time budget spent; rounds {number} to {planned[mode]} skipped")
                    break
                result = run_round(clients, mode, provider, customers, starts, retries)
                results.append(result)
                print(
                    row(
                        f"{mode} {number}",
                        result.kinds,
                        result.retried,
                        f"{result.wall_s:.2f}s",
                        result.loser_ms,
                        result.overlaps,
                    )
                )
                for kind, count in result.others.items():
                    print(f"  {'':<22} other: {count} x {kind}")
            if not results:
                continue
            total = sum((r.kinds for r in results), Counter())
            pooled = [v for r in results for v in r.loser_ms]
            walls = [r.wall_s for r in results]
            print(
                row(
                    f"{mode} (all)",
                    total,
                    sum(r.retried for r in results),
                    f"{statistics.median(walls):.2f}s",
                    pooled,
                    sum(r.overlaps for r in results),
                )
            )
            print()
            summaries.append((mode, results))
    finally:
        clients.close()

    print("  (all) rows: totals over rounds, median wall time, loser latencies pooled over rounds.")
    for mode, results in summaries:
        counts = [r.kinds["deadlock"] for r in results]
        with_deadlocks = sum(1 for c in counts if c)
        deadlock_ms = [v for r in results for v in r.deadlock_ms]
        walls = [r.wall_s for r in results]
        print(
            f"  {mode + ':':<17}{with_deadlocks} of {len(results)} rounds deadlocked; "
            f"deadlocks per round {', '.join(map(str, counts))}; wall {min(walls):.1f} to {max(walls):.1f} s; "
            f"deadlocked clients took p50 {ms(percentile(deadlock_ms, 50))}, "
            f"max {ms(max(deadlock_ms) if deadlock_ms else None)}"
        )
    print(f"  Total racing time {clock.perf_counter() - began:.1f} s.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
