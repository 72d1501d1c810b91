"""Does a 30-day slots request or a booking get dearer as the booking table grows? (issue 18)

    .venv/bin/python bench/growth.py [--bookings 1000000] [--providers 10000] [--reps 100]

Runs on its own throwaway database `booking_bench_growth` (dropped and re-created every run). One
measured provider (open daily 06:00-22:00, 30-min slots) and its bookings are the same in both cases;
only the rest of the table differs: first empty, then `--bookings` rows (100 per provider over 100 days,
one in ten cancelled) bulk-loaded by one `INSERT ... SELECT FROM generate_series` over the other
providers, then ANALYZE. Each figure is the median of `--reps` requests through Django in process
(`django.test.Client`, DEBUG off): `GET /api/v1/providers/{id}/slots/` for 30 days, anonymous, and
`POST /api/v1/bookings/` with a token, each POST on its own free slot. Then it prints the EXPLAIN
(ANALYZE, BUFFERS) plan of every statement those two requests run on the loaded table, flagging a Seq
Scan on a booking, reminder or notification table. Asserts nothing about timing; exits 0.
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
from _http import flush_broker, private_broker_url
from _setup import machine_line, setup_django

BENCH_DB = "booking_bench_growth"
DAYS = 30
SEQ_SCAN = re.compile(r"Seq Scan on (\w*(?:booking|reminder|notification)\w*)")
LOAD = """
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


def explain_all(statements: list[tuple[str, object]]) -> None:
    """EXPLAIN (ANALYZE, BUFFERS) each statement in a transaction rolled back; flag Seq Scans on booking
    tables. Writes that cannot run again (the booking already exists) print their error instead."""
    from django.db import connection, transaction

    flagged = 0
    for n, (sql, params) in enumerate(statements, 1):
        if sql.lstrip().upper().startswith(("SAVEPOINT", "RELEASE", "ROLLBACK", "BEGIN", "COMMIT", "SET")):
            continue
        print(f"\n  [{n}] {' '.join(sql.split())[:300]}")
        try:
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}", params)
                plan = [line for (line,) in cursor.fetchall()]
                transaction.set_rollback(True)
        except Exception as exc:  # noqa: BLE001 - a plan we cannot get is reported, not fatal
            print(f"      (not explained: {type(exc).__name__}: {str(exc).splitlines()[0]})")
            continue
        for line in plan:
            mark = "  <-- SEQ SCAN" if SEQ_SCAN.search(line) else ""
            flagged += bool(mark)
            print(f"      {line}{mark}")
    print(f"\n  Seq Scans on booking tables: {flagged}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bookings", type=int, default=1_000_000)
    parser.add_argument("--providers", type=int, default=10_000)
    parser.add_argument("--reps", type=int, default=100)
    args = parser.parse_args()

    broker = private_broker_url()
    os.environ.update(
        DEBUG="0", SECRET_KEY=secrets.token_urlsafe(50), ALLOWED_HOSTS="testserver", REDIS_URL=broker,
        SLOTS_THROTTLE_RATE="1000000/min", BOOKING_POST_USER_THROTTLE_RATE="1000000/min",
        CACHE_KEY_PREFIX="booking-bench-growth",
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
            cursor.execute(LOAD, {"customer": customer.pk, "first": first_other, "others": args.providers - 1,
                                  "service": service.pk, "count": args.bookings})  # fmt: skip
            cursor.execute("ANALYZE")
            cursor.execute("SELECT count(*) FROM scheduling_booking")
            total = cursor.fetchone()[0]
        print(f"  {total:,} bookings in {clock.perf_counter() - began:.0f}s", flush=True)
        loaded = {"slots": median_ms(slots, args.reps), "booking": median_ms(booking, args.reps)}

        print()
        print(f"Growth, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC: median (p90) of {args.reps} in-process requests")
        print(f"  {machine_line()}")
        print(f"  {'':40} {'empty table':>20} {f'{total:,} bookings':>20} {'ratio':>7}")
        for name, label in (("slots", f"GET slots, {DAYS} days, anonymous"), ("booking", "POST /api/v1/bookings/")):
            (m0, p0), (m1, p1) = empty[name], loaded[name]
            print(f"  {label:40} {m0:8.1f} ms ({p0:5.1f}) {m1:8.1f} ms ({p1:5.1f}) {m1 / m0:6.2f}x")

        statements: dict[str, list] = {"slots": [], "booking": []}
        for name, call in (("slots", slots), ("booking", booking)):

            def record(execute, sql, params, many, context, into=statements[name]):
                into.append((sql, params))
                return execute(sql, params, many, context)

            with connection.execute_wrapper(record):
                call()
        for name, label in (("slots", "the slots request"), ("booking", "the booking POST")):
            print(f"\nPlans of {label} on the loaded table ({len(statements[name])} statements):")
            explain_all(statements[name])
    finally:
        flush_broker(broker)
    return 0


if __name__ == "__main__":
    sys.exit(main())
