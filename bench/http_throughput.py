"""What the web tier serves per second, each figure next to the floor measured in the same run (issue 18).

    .venv/bin/python bench/http_throughput.py [--seconds 10] [--connections 32] [--booking-only] [--rounds 3]

Load comes from `wrk` (bench/_http.py, bench/wrk/load.lua): a C client, so the figures are the server's,
not a Python client's fighting it for the same cores. Runs on its own throwaway database
`booking_bench_http` (dropped and re-created every run) against gunicorn with 5 sync workers and DEBUG
off, the Celery broker on an emptied private Redis database. Asserts nothing about timing; exits 0.
Under each figure: CPU milliseconds per answered request by process tree (gunicorn, the Celery worker,
PostgreSQL, Redis; "other" is the rest of the machine, wrk included), read from /proc (bench/_cpu.py).

Scenario: 50 providers in ten zones, each offering its own 30-min service daily 06:00-22:00 with no
notice and no confirmation (every 201 is a confirmed booking). Every free slot of the next 30 days is
listed once and dealt to the phases, so each booking POST asks for a slot no other request asks for.
Phases, in order, `--seconds` each:

  floor             GET /api/v1/bookings/{id}/ with a token: the cheapest authenticated API call
  booking POST      POST /api/v1/bookings/ (a new customer each), no worker consuming the kicks
  1 connection      the same POST from one connection: latency without queueing
  + worker          the booking POST with one Celery worker consuming as `make run` starts it (the
                    messages the phases before left waiting set aside), then from one connection;
                    each says how many messages were waiting when it ended and when they were sent
  slots             GET /api/v1/providers/{id}/slots/ for 30 days, anonymous
  week page         the console's week agenda of a provider, a superuser's session cookie
  locked insert     a minimal DRF endpoint in the bench only (bench/_bench_urls.py): lock the provider,
                    insert a booking under the same exclusion constraint and 3 reminder rows
  raw PostgreSQL    pgbench, gunicorn stopped: one-statement transactions inserting into a table with
                    the same exclusion constraint (a reference for what the database alone does)

Rounds (`--rounds`, default 3): the machine's speed drifts within a run, by as much as the effects
measured, so the booking with the worker, the figure issue 18 holds to half the floor, is measured again
in further rounds, each right after a floor of its own (the worker then running, idle). The table of
rounds gives each round's ratio and their median; round 1 is the table's own floor and worker phase.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import secrets
import statistics
import subprocess
import sys
import tempfile
import time as clock
import urllib.request
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _cpu import CpuMeter, postgres_pid, redis_pid, settle
from _http import CeleryWorker, Gunicorn, WrkResult, flush_broker, private_broker_url, run_wrk, server_env
from _setup import machine_line, setup_django, wait_for_connection_headroom

BENCH_DB = "booking_bench_http"
PROVIDERS = 50
DAYS = 30
ZONES = ("UTC", "America/New_York", "America/Los_Angeles", "America/Sao_Paulo", "Europe/London",
         "Europe/Berlin", "Africa/Johannesburg", "Asia/Kolkata", "Asia/Tokyo", "Australia/Sydney")  # fmt: skip
RAW_SETUP = """
    DROP TABLE IF EXISTS bench_raw_booking;
    DROP SEQUENCE IF EXISTS bench_raw_seq;
    CREATE SEQUENCE bench_raw_seq;
    CREATE TABLE bench_raw_booking (
        provider_id int NOT NULL,
        span tstzrange NOT NULL,
        status text NOT NULL,
        EXCLUDE USING gist (span WITH &&, provider_id WITH =) WHERE (status IN ('pending', 'confirmed'))
    );
"""
# Each row on its own half hour (the sequence), over 200 providers: never overlapping, every insert
# still probing the GiST index.
RAW_INSERT = """\\set p random(1, 200)
INSERT INTO bench_raw_booking SELECT :p, tstzrange(t, t + interval '30 minutes'), 'confirmed'
  FROM (SELECT timestamptz '2030-01-01' + nextval('bench_raw_seq') * interval '30 minutes' AS t) s;
"""


def seed():
    """Providers, services, rules, a superuser with a token and a session, one customer. Returns (token,
    session key, the customer, each provider's service and free starts)."""
    from zoneinfo import ZoneInfo

    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, get_user_model
    from django.contrib.sessions.backends.db import SessionStore
    from django.db import transaction
    from django.utils import timezone
    from rest_framework.authtoken.models import Token

    from scheduling.models import AvailabilityRule, Customer, Provider, Service
    from scheduling.selectors import provider_slots

    today = timezone.now().date()
    with transaction.atomic():
        providers = Provider.objects.bulk_create(
            Provider(name=f"Bench provider {n:02d}", slug=f"bench-{n:02d}", timezone=ZoneInfo(ZONES[n % len(ZONES)]))
            for n in range(PROVIDERS)
        )
        services = Service.objects.bulk_create(
            Service(
                name=p.name,
                slug=p.slug,
                duration_minutes=30,
                min_notice_minutes=0,
                max_advance_days=365,
                requires_confirmation=False,
                price=Decimal("40.00"),
            )
            for p in providers
        )
        Service.providers.through.objects.bulk_create(
            Service.providers.through(service=s, provider=p) for s, p in zip(services, providers, strict=True)
        )
        AvailabilityRule.objects.bulk_create(
            AvailabilityRule(
                provider=p,
                kind=AvailabilityRule.Kind.OPEN,
                rrule="FREQ=DAILY",
                starts_on=today - timedelta(days=30),
                start_time=time(6),
                end_time=time(22),
            )
            for p in providers
        )
        user = get_user_model().objects.create_superuser("bench", "bench@bench.example", secrets.token_hex(16))
        token = Token.objects.create(user=user).key
        customer = Customer.objects.create(name="Bench customer", email="customer@bench.example")
    session = SessionStore()
    session.update({SESSION_KEY: str(user.pk), BACKEND_SESSION_KEY: "django.contrib.auth.backends.ModelBackend",
                    HASH_SESSION_KEY: user.get_session_auth_hash()})  # fmt: skip
    session.create()

    free = {}
    for provider, service in zip(providers, services, strict=True):
        first = timezone.now().astimezone(provider.timezone).date() + timedelta(days=1)
        slots = provider_slots(provider=provider, service=service, first=first, last=first + timedelta(days=DAYS - 1))
        free[provider.pk] = (service.pk, [slot.start for slot in slots])
    return token, session.session_key, customer, free


def iso_z(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def booking_body(provider: int, start: datetime) -> str:
    stamp = int(start.timestamp())
    return json.dumps({"provider": provider, "start": iso_z(start), "notes": "bench",
                       "customer": {"name": f"Bench {provider}-{stamp}", "email": f"p{provider}-{stamp}@bench.example",
                                    "timezone": "UTC"}})  # fmt: skip


def pgbench(database_url: str, *, clients: int, seconds: float) -> tuple[float, float]:
    """(transactions/s, mean latency ms) of the raw insert from `clients` connections."""
    subprocess.run(["psql", "-q", "-v", "ON_ERROR_STOP=1", database_url, "-c", RAW_SETUP], check=True,
                   capture_output=True)  # fmt: skip
    with tempfile.NamedTemporaryFile("w", suffix=".sql", delete=False) as script:
        script.write(RAW_INSERT)
    try:
        finished = subprocess.run(
            ["pgbench", "-n", "-M", "prepared", "-c", str(clients), "-j", str(min(2, clients)), "-T", str(int(seconds)),
             "-f", script.name, database_url],
            capture_output=True, text=True, check=True,
        )  # fmt: skip
    finally:
        os.unlink(script.name)
    tps = float(re.search(r"tps = ([\d.]+)", finished.stdout).group(1))
    latency = float(re.search(r"latency average = ([\d.]+) ms", finished.stdout).group(1))
    return tps, latency


def busiest_provider_slots() -> tuple[int, date, str]:
    """The provider with most bookings (the fullest calendar to read), tomorrow, and the path of its
    slots over DAYS days from tomorrow in its own zone."""
    from django.db import connection

    busiest, zone = (
        connection.cursor()
        .execute(
            "SELECT p.id, p.timezone FROM scheduling_booking b JOIN scheduling_provider p ON p.id = b.provider_id"
            " GROUP BY p.id ORDER BY count(*) DESC LIMIT 1"
        )
        .fetchone()
    )
    first = datetime.now(UTC).date() + timedelta(days=1)
    last = first + timedelta(days=DAYS - 1)
    return busiest, first, f"/api/v1/providers/{busiest}/slots/?start={first}&end={last}&tz={zone}"


def row(label: str, result: WrkResult | None, floor: float, *, rate: float | None = None, note: str = "") -> str:
    if result is None:
        return f"  {label:44} {rate:9.0f} {'':>8} {'':>8} {'':>8} {rate / floor:7.0%}  {note}"
    extra = [note] if note else []
    if result.non_2xx:
        extra.append(f"non-2xx {result.non_2xx} ({', '.join(f'{k}: {v}' for k, v in sorted(result.statuses.items()))})")
    if result.reused:
        extra.append(f"{result.reused} reused bodies")
    if result.socket_errors or result.timeouts:
        extra.append(f"socket errors {result.socket_errors}, timeouts {result.timeouts}")
    return (
        f"  {label:44} {result.rate:9.0f} {result.p50_ms:6.1f}ms {result.p99_ms:6.1f}ms {result.requests:>8} "
        f"{result.rate / floor:7.0%}  {'; '.join(extra)}"
    )


def outbox_backlog(*, timeout: float = 60) -> str:
    """Whether the worker kept up: the messages still waiting when the phase ended, and how long the
    worker then took to send them (a worker that falls behind would flatter the phase's figures)."""
    from django.db import connection

    from notifications.models import Notification

    waiting = Notification.objects.filter(status=Notification.WAITING)
    left, started = waiting.count(), clock.monotonic()
    while waiting.exists() and clock.monotonic() - started < timeout:
        clock.sleep(0.1)
    still = waiting.count()
    connection.close()
    if still:
        return f"{left} messages waiting at the end, {still} still after {timeout:.0f}s"
    return f"{left} messages waiting at the end, all sent {clock.monotonic() - started:.1f}s later"


def set_aside_waiting_messages() -> None:
    from django.db import connection

    from notifications.models import Notification

    Notification.objects.filter(status=Notification.WAITING).update(status="skipped", last_error="bench: set aside")
    connection.close()


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="duration of each phase (default 10)")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--workers", type=int, default=5, help="gunicorn sync workers (default 5)")
    parser.add_argument(
        "--booking-only", action="store_true", help="only the floor and the booking POST phases (a quicker check)"
    )
    parser.add_argument(
        "--rounds", type=int, default=3, choices=range(1, 6), help="floor + booking-with-worker rounds (default 3)"
    )
    return parser.parse_args()


@dataclass
class Bodies:
    """The request bodies of the booking phases, each slot in one body only: disjoint pools of the free
    slots in time order, each pool spread over every provider."""

    post: list[str]  # halved: the POST without a worker, then with it (round 1)
    solo: list[str]  # the warm-up, then halved: one connection without a worker, then with it
    locked: list[str]
    later_rounds: list[list[str]]  # rounds 2, 3, ... of the POST with the worker

    @classmethod
    def deal(cls, free: dict, *, customer_id: int, rounds: int) -> Bodies:
        in_time_order = sorted((start, pid) for pid, (_, starts) in free.items() for start in starts)
        pools = [in_time_order[n::4] for n in range(4)]
        services = {pid: service for pid, (service, _) in free.items()}
        locked = [
            json.dumps({"provider": pid, "service": services[pid], "customer": customer_id, "start": start.isoformat()})
            for start, pid in pools[2]
        ]
        later = [[booking_body(pid, start) for start, pid in pools[3][n :: rounds - 1]] for n in range(rounds - 1)]
        return cls(
            post=[booking_body(pid, start) for start, pid in pools[0]],
            solo=[booking_body(pid, start) for start, pid in pools[1]],
            locked=locked,
            later_rounds=later,
        )


class Phases:
    """gunicorn (and the Celery worker, once started) on the bench database; each phase's wrk result,
    CPU split and outbox backlog by name."""

    def __init__(self, *, env: dict[str, str], database_url: str, broker: str, args) -> None:
        self.env, self.broker, self.args = env, broker, args
        self.roots = {"postgres": postgres_pid(database_url), "redis": redis_pid(broker)}
        self.results: dict[str, WrkResult] = {}
        self.cpu: dict[str, str] = {}
        self.backlog: dict[str, str] = {}
        self.started: list = []
        self.worker = None
        self.server = Gunicorn(env, workers=args.workers)
        self.started.append(self.server)

    def warm(self, bodies: list[str], auth: dict[str, str]) -> int:
        """Every gunicorn worker's imports, connections and prepared statements, with real bookings.
        Returns the last booking's id (the floor reads it)."""
        for body in bodies:
            request = urllib.request.Request(f"{self.server.url}/api/v1/bookings/", data=body.encode(), method="POST",
                                             headers={**auth, "Content-Type": "application/json"})  # fmt: skip
            with urllib.request.urlopen(request, timeout=30) as response:
                booking_id = json.loads(response.read())["id"]
        return booking_id

    def run(self, name: str, path: str, *, connections: int | None = None, wait_for_outbox: bool = False,
            **kwargs) -> None:  # fmt: skip
        print(f"  {name} ...", flush=True)
        settle()  # not the previous phase's aftermath
        roots = {"gunicorn": self.server.process.pid, **self.roots}
        if self.worker is not None:
            roots["worker"] = self.worker.process.pid
        meter = CpuMeter({tier: pid for tier, pid in roots.items() if pid})
        meter.start()
        conns = self.args.connections if connections is None else connections
        self.results[name] = run_wrk(f"{self.server.url}{path}", seconds=self.args.seconds, connections=conns, **kwargs)
        meter.stop()
        self.cpu[name] = meter.per_request_ms(self.results[name].ok)
        if wait_for_outbox:
            self.backlog[name] = outbox_backlog()

    def start_worker(self) -> None:
        """One worker on an empty queue and outbox: it serves only the next phases' bookings, not the
        messages the phases without a worker left waiting (they would bill it for twice the work)."""
        flush_broker(self.broker)
        set_aside_waiting_messages()
        self.worker = CeleryWorker(self.env)
        self.started.append(self.worker)

    def stop_worker(self) -> None:
        self.worker.stop()
        self.worker = None
        flush_broker(self.broker)

    def stop(self) -> None:
        for process in self.started:
            process.stop()
            process.report_log()
        flush_broker(self.broker)


def main() -> int:
    args = parse_args()
    os.environ["BENCH_SECRET_KEY"] = os.environ["SECRET_KEY"] = secrets.token_urlsafe(50)  # sessions signed alike
    wait_for_connection_headroom(args.connections + args.workers + 10)
    database_url = setup_django(BENCH_DB, fresh=True)
    from django.db import connections

    token, session_key, customer, free = seed()
    bodies = Bodies.deal(free, customer_id=customer.pk, rounds=args.rounds)
    machine = machine_line()
    connections.close_all()
    print(f"Seeded {PROVIDERS} providers, {sum(len(s) for _, s in free.values())} free slots over {DAYS} days.",
          flush=True)  # fmt: skip

    broker = private_broker_url()
    env = server_env(database_url=database_url, broker_url=broker, cache_prefix="booking-bench-http")
    auth = {"Authorization": f"Token {token}", "Accept": "application/json"}
    post = {"headers": auth, "method": "POST"}
    phases = None
    try:
        phases = Phases(env=env, database_url=database_url, broker=broker, args=args)
        warm_up, solo = bodies.solo[: 4 * args.workers], bodies.solo[4 * args.workers :]
        floor_path = f"/api/v1/bookings/{phases.warm(warm_up, auth)}/"
        half, solo_half = len(bodies.post) // 2, len(solo) // 2

        phases.run("floor", floor_path, headers=auth)
        phases.run("post", "/api/v1/bookings/", bodies=bodies.post[:half], **post)
        phases.run("post_solo_alone", "/api/v1/bookings/", connections=1, bodies=solo[:solo_half], **post)
        phases.start_worker()
        phases.run("post_worker", "/api/v1/bookings/", bodies=bodies.post[half:], wait_for_outbox=True, **post)
        phases.run("post_solo", "/api/v1/bookings/", connections=1, bodies=solo[solo_half:], wait_for_outbox=True,
                   **post)  # fmt: skip
        for number, round_bodies in enumerate(bodies.later_rounds, start=2):
            phases.run(f"floor#{number}", floor_path, headers=auth)
            phases.run(f"post_worker#{number}", "/api/v1/bookings/", bodies=round_bodies, wait_for_outbox=True, **post)
        phases.stop_worker()
        if args.booking_only:
            return report(phases.results, args, machine, cpu=phases.cpu, backlog=phases.backlog)

        busiest, first, slots_path = busiest_provider_slots()
        connections.close_all()
        phases.run("slots", slots_path, headers={"Accept": "application/json"})
        phases.run("week", f"/admin/scheduling/provider/{busiest}/agenda/week/?date={first}",
                   headers={"Cookie": f"sessionid={session_key}"})  # fmt: skip
        phases.run("locked", "/bench/locked-insert/", bodies=bodies.locked, **post)
        phases.server.stop()
        print("  raw PostgreSQL (pgbench) ...", flush=True)
        raw = pgbench(database_url, clients=args.connections, seconds=args.seconds)
    finally:
        if phases is not None:
            phases.stop()
        connections.close_all()
    return report(phases.results, args, machine, cpu=phases.cpu, backlog=phases.backlog, raw=raw)


def report(
    results: dict[str, WrkResult],
    args,
    machine: str,
    *,
    cpu: dict[str, str],
    backlog: dict[str, str],
    raw: tuple[float, float] | None = None,
) -> int:
    seconds, conns = args.seconds, args.connections
    floor = results["floor"].rate

    def print_cpu(name: str) -> None:
        if cpu.get(name):
            print(f"  {'':44} {cpu[name]}")

    solo, alone = results["post_solo"], results["post_solo_alone"]
    print()
    print(f"HTTP throughput, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC: wrk, {conns} connections unless said, "
          f"{seconds:g}s each; gunicorn {args.workers} sync workers, DEBUG off")  # fmt: skip
    print(f"  {machine}")
    print(f"  {'':44} {'2xx/s':>9} {'p50':>8} {'p99':>8} {'requests':>8} {'/ floor':>7}")
    print(row("GET /api/v1/bookings/{id}/, token (floor)", results["floor"], floor))
    print_cpu("floor")
    print(row("POST /api/v1/bookings/, no worker consuming", results["post"], floor))
    print_cpu("post")
    print(row("POST /api/v1/bookings/, 1 connection", alone, floor,
              note=f"p99/p50 {alone.p99_ms / alone.p50_ms:.1f}x"))  # fmt: skip
    print_cpu("post_solo_alone")
    print(row("POST /api/v1/bookings/, one Celery worker", results["post_worker"], floor, note=backlog["post_worker"]))
    print_cpu("post_worker")
    print(row("POST /api/v1/bookings/, 1 connection + worker", solo, floor,
              note=f"p99/p50 {solo.p99_ms / solo.p50_ms:.1f}x; {backlog['post_solo']}"))  # fmt: skip
    print_cpu("post_solo")
    print_rounds(results, args.rounds, print_cpu=print_cpu, backlog=backlog)
    if raw is None:
        return 0
    print(row(f"GET slots, {DAYS} days, anonymous", results["slots"], floor))
    print_cpu("slots")
    print(row("console week page, session cookie", results["week"], floor))
    print_cpu("week")
    print(row("minimal locked insert (bench-only endpoint)", results["locked"], floor))
    print_cpu("locked")
    print(row(f"raw PostgreSQL insert (pgbench, {conns} conns)", None, floor, rate=raw[0],
              note=f"mean latency {raw[1]:.1f} ms"))  # fmt: skip
    return 0


def print_rounds(results: dict[str, WrkResult], rounds: int, *, print_cpu, backlog: dict[str, str]) -> None:
    """Each round's floor and booking with the worker, their ratio, and the median ratio of the rounds."""
    if rounds < 2:
        return
    print("  Rounds: each the floor, then the booking POST with one Celery worker (from round 2 the worker is")
    print("  running, idle, during the floor)")
    ratios = []
    for number in range(1, rounds + 1):
        suffix = "" if number == 1 else f"#{number}"
        floor, booking = results[f"floor{suffix}"], results[f"post_worker{suffix}"]
        ratios.append(booking.rate / floor.rate)
        print(row(f"round {number}: floor", floor, floor.rate))
        if suffix:
            print_cpu(f"floor{suffix}")
        print(row(f"round {number}: POST, one Celery worker", booking, floor.rate,
                  note="the table's" if number == 1 else backlog[f"post_worker{suffix}"]))  # fmt: skip
        if suffix:
            print_cpu(f"post_worker{suffix}")
    print(f"  median ratio over {rounds} rounds: {statistics.median(ratios):.0%} "
          f"(each round {', '.join(f'{r:.0%}' for r in ratios)})")  # fmt: skip


if __name__ == "__main__":
    sys.exit(main())
