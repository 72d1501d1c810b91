"""Does a 30-day slots request or a booking get dearer as the booking table grows? (issue 18)

    .venv/bin/python bench/growth.py [--bookings 1000000] [--providers 10000] [--reps 100]

Runs on its own throwaway database `booking_bench_growth` (dropped and re-created every run). One
measured provider (open daily 06:00-22:00, 30-min slots) and its bookings are the same in both cases;
only the rest of the tables differs: first empty, then `--bookings` rows over the other providers (one
a day each from 50 days ago, one in ten cancelled), with one reminder and one sent confirmation each,
loaded with the three tables' indexes and constraints dropped and built back in bulk (bulk_load: the
schema after is checked equal to the schema before), then VACUUM ANALYZE. Each figure is the median
(and p90) of `--reps` requests through Django in process (`django.test.Client`, DEBUG off): `GET
/api/v1/providers/{id}/slots/` for 30 days, anonymous, and `POST /api/v1/bookings/` with a token, each
POST on its own free slot. Then it runs each request once more with every statement EXPLAIN (ANALYZE,
BUFFERS)-ed as it runs on the loaded tables, marking a Seq Scan on a loaded table and any node that
discards, on a loaded table, more rows than the measured provider has bookings. Asserts nothing about timing; exits 0.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import secrets
import statistics
import sys
import time as clock
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _http import WIDE_OPEN_THROTTLES, flush_broker, private_broker_url
from _setup import machine_line, setup_django

BENCH_DB = "booking_bench_growth"
DAYS = 30
LOADED = ("scheduling_booking", "notifications_reminder", "notifications_notification")
SEQ_SCAN = re.compile(r"Seq Scan on (" + "|".join(LOADED) + r")\b")
SCANNED = re.compile(r"Scan(?: using \w+)? on (\w+)")  # the node a "Rows Removed" line below belongs to
REMOVED = re.compile(r"Rows Removed by (?:Filter|Index Recheck): (\d+)")
# One booking per provider per day, 100 days, from 50 days ago: half past, half upcoming; one in ten
# cancelled (out of the exclusion constraint's partial index, as in production).
BOOKINGS = """
    INSERT INTO scheduling_booking (
        start_at, end_at, blocked_from, blocked_until, status, provider_timezone, customer_timezone, price,
        currency, free_cancel_until, late_cancel_fee, cancel_reason, cancelled_at, reference, manage_token_hash,
        notes, created_at, updated_at, customer_id, provider_id, customer_name, customer_email, customer_phone,
        manage_secret_version, service_id, language)
    SELECT s, s + interval '30 minutes', s, s + interval '30 minutes',
           CASE WHEN g %% 10 = 0 THEN 'cancelled' ELSE 'confirmed' END, 'UTC', 'UTC', 40,
           'USD', s, 0, '', CASE WHEN g %% 10 = 0 THEN now() END, 'G' || g, '',
           '', now(), now(), %(customer)s, %(first)s + g %% %(others)s, 'Growth', 'growth@bench.example', '',
           0, %(service)s, 'en'
      FROM generate_series(0, %(count)s - 1) g,
           LATERAL (SELECT date_trunc('hour', now()) - interval '50 days'
                           + (g / %(others)s) * interval '1 day' AS s) start
"""
# What every confirmed booking leaves behind: its reminder (sent once due, cancelled with the
# booking, else waiting in the dispatcher's due index) and its confirmation (sent). One of each per
# booking rather than the three reminders a default service writes: enough to give the unique and
# due indexes the booking POST writes into a million-row depth.
REMINDERS = """
    INSERT INTO notifications_reminder (
        booking_id, channel, lead_minutes, fire_at, status, attempts, last_error, next_attempt_at, sent_at,
        provider_message_id, created_at, updated_at)
    SELECT b.id, 'email', 1440, b.start_at - interval '1 day',
           CASE WHEN b.start_at - interval '1 day' <= now() THEN 'sent'
                WHEN b.status = 'cancelled' THEN 'cancelled' ELSE 'scheduled' END,
           0, '', b.start_at - interval '1 day',
           CASE WHEN b.start_at - interval '1 day' <= now() THEN b.start_at - interval '1 day' END,
           '', now(), now()
      FROM scheduling_booking b WHERE b.id > %(last_before)s
"""
NOTIFICATIONS = """
    INSERT INTO notifications_notification (
        kind, recipient, channel, address, status, attempts, last_error, next_attempt_at, sent_at,
        provider_message_id, dedup_key, created_at, updated_at, booking_id)
    SELECT 'confirmation', 'customer', 'email', b.customer_email, 'sent', 1, '', b.created_at, b.created_at,
           '', 'confirmation:' || b.id || ':email:' || b.customer_email, now(), now(), b.id
      FROM scheduling_booking b WHERE b.id > %(last_before)s
"""


def schema(cursor) -> list[tuple[str, str, str]]:
    """(table, name, definition) of every index and constraint on the loaded tables, sorted."""
    cursor.execute(
        "SELECT tablename, indexname, indexdef FROM pg_indexes WHERE schemaname = 'public' AND tablename = ANY(%s)"
        " UNION ALL"
        " SELECT c.conrelid::regclass::text, c.conname, pg_get_constraintdef(c.oid) FROM pg_constraint c"
        "  WHERE c.conrelid::regclass::text = ANY(%s)",
        [list(LOADED), list(LOADED)],
    )
    return sorted(cursor.fetchall())


def bulk_load(cursor, params: dict) -> list[str]:
    """Load the rows with the loaded tables' indexes and constraints dropped (except primary keys and
    CHECKs, cheap per row), then build them back in bulk: one GiST build of the exclusion constraint
    instead of a million incremental inserts into it, one validating scan per foreign key. Fails if
    the tables do not end with exactly the indexes and constraints they started with. Returns the
    timed steps."""
    from django.apps import apps
    from django.db import connection

    before = schema(cursor)
    declared = {
        constraint.name: (model, constraint)
        for model in apps.get_models()
        if model._meta.db_table in LOADED
        for constraint in model._meta.constraints
    }
    cursor.execute(
        "SELECT c.conrelid::regclass::text, c.conname, pg_get_constraintdef(c.oid) FROM pg_constraint c"
        " WHERE c.conrelid::regclass::text = ANY(%s) AND c.contype IN ('u', 'x', 'f')"
        " ORDER BY c.contype = 'f'",  # keys first, so foreign keys come back after what they may need
        [list(LOADED)],
    )
    constraints = cursor.fetchall()
    cursor.execute(
        "SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) FROM pg_index i"
        " WHERE i.indrelid::regclass::text = ANY(%s) AND NOT i.indisprimary"
        "   AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)",
        [list(LOADED)],
    )
    indexes = cursor.fetchall()
    steps, began = [], clock.perf_counter()

    def step(label: str) -> None:
        nonlocal began
        steps.append(f"{label} {clock.perf_counter() - began:.0f}s")
        began = clock.perf_counter()

    for table, name, _ in reversed(constraints):
        cursor.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
    for name, _ in indexes:
        cursor.execute(f'DROP INDEX "{name}"')
    cursor.execute("SELECT coalesce(max(id), 0) FROM scheduling_booking")
    last_before = {"last_before": cursor.fetchone()[0]}
    cursor.execute(BOOKINGS, params)
    cursor.execute(REMINDERS, last_before)
    cursor.execute(NOTIFICATIONS, last_before)
    step("rows")
    cursor.execute("SET maintenance_work_mem = '256MB'")
    for _, definition in indexes:
        cursor.execute(definition)
    for table, name, definition in constraints:
        if name in declared:  # as its migration wrote it: a deparsed WHERE would read back differently
            with connection.schema_editor(atomic=False) as editor:
                editor.add_constraint(*declared[name])
        else:
            cursor.execute(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')
    cursor.execute("RESET maintenance_work_mem")
    step("indexes and constraints")
    # As autovacuum leaves a table that has settled: statistics, and a visibility map for index-only scans.
    cursor.execute(f"VACUUM (ANALYZE) {', '.join(LOADED)}")
    cursor.execute("ANALYZE")
    step("vacuum and analyze")
    after = schema(cursor)
    if after != before:
        lost, gained = sorted(set(before) - set(after)), sorted(set(after) - set(before))
        raise SystemExit(f"The bulk load changed the schema of {LOADED}: lost {lost}, gained {gained}")
    return steps


def seed(providers: int):
    """The measured provider with its service, rule, a superuser token, and `providers - 1` others."""
    from zoneinfo import ZoneInfo

    from django.contrib.auth import get_user_model
    from django.db import transaction
    from django.utils import timezone
    from rest_framework.authtoken.models import Token

    from scheduling.models import AvailabilityRule, Customer, Provider, Service

    with transaction.atomic():
        measured = Provider.objects.create(name="Measured", slug="measured", timezone=ZoneInfo("Europe/Berlin"))
        others = Provider.objects.bulk_create(
            Provider(name=f"Other {n}", slug=f"other-{n}", timezone=ZoneInfo("UTC")) for n in range(providers - 1)
        )
        service = Service.objects.create(
            name="Growth", slug="growth", duration_minutes=30, min_notice_minutes=0, max_advance_days=365,
            requires_confirmation=False, price=Decimal("40.00"),
        )  # fmt: skip
        Service.providers.through.objects.bulk_create(
            Service.providers.through(service=service, provider=p) for p in [measured, *others]
        )
        AvailabilityRule.objects.create(
            provider=measured, kind=AvailabilityRule.Kind.OPEN, rrule="FREQ=DAILY",
            starts_on=timezone.now().date() - timedelta(days=30), start_time=time(6), end_time=time(22),
        )  # fmt: skip
        user = get_user_model().objects.create_superuser("growth", "growth@bench.example", secrets.token_hex(16))
        token = Token.objects.create(user=user).key
        customer = Customer.objects.create(name="Growth", email="growth@bench.example")
    return measured, others[0].pk, service, customer, token


def median_ms(call, reps: int) -> tuple[float, float]:
    """Median and p90 of `reps` calls after five warm-up calls, in ms."""
    for _ in range(5):
        call()
    samples = []
    for _ in range(reps):
        began = clock.perf_counter()
        call()
        samples.append((clock.perf_counter() - began) * 1000)
    return statistics.median(samples), statistics.quantiles(samples, n=10)[8]


def explain_during(call) -> list[tuple[str, list[str]]]:
    """Run `call` once in a transaction rolled back at the end, EXPLAIN (ANALYZE, BUFFERS)-ing every
    statement just before it runs, on the same connection and in the same state (a write's plan is
    taken inside a savepoint rolled back, then the write runs for real so the request carries on)."""
    from django.db import connection, transaction

    plans: list[tuple[str, list[str]]] = []

    def explain(execute, sql, params, many, context):
        if not many and sql.lstrip().split(None, 1)[0].upper() in {"SELECT", "INSERT", "UPDATE", "DELETE", "WITH"}:
            raw = context["cursor"].cursor
            raw.execute("SAVEPOINT growth_explain")
            try:
                raw.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}", params)
                plans.append((sql, [line for (line,) in raw.fetchall()]))
            except Exception as exc:  # noqa: BLE001 - a plan we cannot get is reported, not fatal
                plans.append((sql, [f"(not explained: {type(exc).__name__}: {str(exc).splitlines()[0]})"]))
            raw.execute("ROLLBACK TO SAVEPOINT growth_explain")
        return execute(sql, params, many, context)

    with transaction.atomic(), connection.execute_wrapper(explain):
        call()
        transaction.set_rollback(True)
    return plans


def print_plans(label: str, plans: list[tuple[str, list[str]]], *, own: int) -> int:
    """Print each plan; mark a Seq Scan on a loaded table and a node discarding more rows than the
    measured provider has bookings (`own`, the same in both cases): it is reading other providers'
    rows. Returns the number of marks."""
    print(f"\nPlans of {label} on the loaded table ({len(plans)} statements):")
    flagged = 0
    for n, (sql, plan) in enumerate(plans, 1):
        print(f"\n  [{n}] {' '.join(sql.split())[:300]}")
        table = ""
        for line in plan:
            scanned = SCANNED.search(line)
            table = scanned.group(1) if scanned else table
            removed = REMOVED.search(line)
            mark = ""
            if SEQ_SCAN.search(line):
                mark = "  <-- SEQ SCAN ON A LOADED TABLE"
            elif removed and table in LOADED and int(removed.group(1)) > own:
                mark = "  <-- MANY ROWS DISCARDED"
            flagged += bool(mark)
            print(f"      {line}{mark}")
    return flagged


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bookings", type=int, default=1_000_000)
    parser.add_argument("--providers", type=int, default=10_000)
    parser.add_argument("--reps", type=int, default=100)
    args = parser.parse_args()

    broker = private_broker_url()
    os.environ.update(
        DEBUG="0", SECRET_KEY=secrets.token_urlsafe(50), ALLOWED_HOSTS="testserver", REDIS_URL=broker,
        CACHE_KEY_PREFIX="booking-bench-growth",
        **{rate: "1000000/s" for rate in WIDE_OPEN_THROTTLES},  # bench/_http.py says why per second
    )  # fmt: skip
    setup_django(BENCH_DB, fresh=True)
    from django.db import connection
    from django.test import Client
    from django.utils import timezone

    from scheduling.selectors import provider_slots

    measured, first_other, service, customer, token = seed(args.providers)
    today = timezone.now().astimezone(measured.timezone).date()
    first = today + timedelta(days=1)
    slots_path = f"/api/v1/providers/{measured.pk}/slots/?start={first}&end={first + timedelta(days=DAYS - 1)}"
    # Bookings go after the slots window, so the slots request answers the same in both cases.
    later = first + timedelta(days=DAYS)
    free = [
        s.start
        for s in provider_slots(provider=measured, service=service, first=later, last=later + timedelta(days=300))
    ]
    client = Client(HTTP_AUTHORIZATION=f"Token {token}")
    anonymous = Client()

    def slots():
        response = anonymous.get(slots_path, HTTP_ACCEPT="application/json")
        assert response.status_code == 200, response.content[:300]

    def booking():
        start = free.pop(0)
        customer = {"name": "G", "email": f"g{int(start.timestamp())}@bench.example", "timezone": "UTC"}
        body = {
            "provider": measured.pk,
            "start": start.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "customer": customer,
        }
        response = client.post("/api/v1/bookings/", json.dumps(body), content_type="application/json")
        assert response.status_code == 201, response.content[:300]

    try:
        print(f"Growth: {args.reps} requests each, empty table ...", flush=True)
        empty = {"slots": median_ms(slots, args.reps), "booking": median_ms(booking, args.reps)}
        print(f"Loading {args.bookings:,} bookings over {args.providers:,} providers ...", flush=True)
        began = clock.perf_counter()
        with connection.cursor() as cursor:
            params = {"customer": customer.pk, "first": first_other, "others": args.providers - 1,
                      "service": service.pk, "count": args.bookings}  # fmt: skip
            steps = bulk_load(cursor, params)
            cursor.execute("SELECT count(*) FROM scheduling_booking")
            total = cursor.fetchone()[0]
        print(
            f"  {total:,} bookings in {clock.perf_counter() - began:.0f}s ({', '.join(steps)}); same indexes"
            " and constraints as before the load",
            flush=True,
        )
        loaded = {"slots": median_ms(slots, args.reps), "booking": median_ms(booking, args.reps)}

        print()
        print(f"Growth, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC: median (p90) of {args.reps} in-process requests")
        print(f"  {machine_line()}")
        print(f"  {'':40} {'empty table':>20} {f'{total:,} bookings':>20} {'ratio':>7}")
        for name, label in (("slots", f"GET slots, {DAYS} days, anonymous"), ("booking", "POST /api/v1/bookings/")):
            (m0, p0), (m1, p1) = empty[name], loaded[name]
            print(f"  {label:40} {m0:8.1f} ms ({p0:5.1f}) {m1:8.1f} ms ({p1:5.1f}) {m1 / m0:6.2f}x")

        own = measured.bookings.count()
        flagged = 0
        for label, call in (("the slots request", slots), ("the booking POST", booking)):
            flagged += print_plans(label, explain_during(call), own=own)
        print(
            f"\n  Marked (a Seq Scan on {', '.join(LOADED)}, or a node of theirs discarding over {own} rows,"
            f" the measured provider's own bookings): {flagged}"
        )
    finally:
        flush_broker(broker)
    return 0


if __name__ == "__main__":
    sys.exit(main())
