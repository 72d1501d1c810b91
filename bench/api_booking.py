"""Benchmark booking over the REST API against gunicorn, next to the raw PostgreSQL insert rate (issue 3).

    .venv/bin/python bench/api_booking.py [--clients 32] [--seconds 20] [--workers N] [--worker-class sync]

Runs on its own throwaway database `booking_bench_api` on the cluster that DATABASE_URL (or the local
default) points at: dropped, re-created and migrated on every run, so dev data and the other benches'
`booking_bench` are never touched. Prints figures next to the targets; asserts nothing about timing
and exits 0.

Phases, in one run on one machine:

  1. Seed 50 providers in ten zones (30-min slots, open daily 06:00-22:00, no notice, a year's horizon,
     no confirmation needed, so every 201 is a confirmed booking), a superuser and its DRF token.
  2. Start gunicorn as in production (DEBUG=0, a SECRET_KEY, ALLOWED_HOSTS=127.0.0.1, 2 x CPU + 1
     workers, log level warning) on a free port, with the slots and per-user booking throttles opened
     wide; wait for /healthz.
  3. Warm-up (a few bookings per worker), then one client alone for 3 s: the latency without queueing.
     Booking load: each client is a thread with its own keep-alive `http.client.HTTPConnection`. The free
     slots the engine offers (`provider_slots`) over the next days are dealt round-robin to the clients,
     so no two clients ask for the same slot and concurrent requests mostly hit different providers.
     Each client POSTs /api/v1/bookings/ (token auth, a new customer each time) as fast as it can for
     the duration. CPU seconds during that load are split (from /proc) into gunicorn workers,
     PostgreSQL backends, this script's clients and everything else on the machine, and per booking.
     Then a paced load: the same clients together offer --paced-fraction of the rate just measured,
     each request timed from its scheduled send (latency at a load the machine can carry, where the
     closed loop measures latency at saturation, 32 / rate by Little's law). Then the overlap audit:
     live bookings of one provider whose buffered spans meet (must be 0).
  4. Floor: the same clients GET one booking (token auth, one row, one serializer) for --floor-seconds:
     the cheapest authenticated API call, so what the stack and machine cost before any booking logic.
  5. Slots: GET /api/v1/providers/{id}/slots/ for 30 days on the provider with the most bookings,
     sequentially over one connection (anonymous, as a public booking page would call it).
  6. Raw PostgreSQL: gunicorn is stopped, then as many psycopg connections as there were clients insert
     non-overlapping rows, one autocommit transaction each, into a table with the same exclusion
     constraint as `booking_no_overlap`; then one connection alone (the plain "psycopg loop").
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import platform
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time as clock
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

BENCH_DB = "booking_bench_api"
DEFAULT_URL = f"postgres://postgres@127.0.0.1:{os.environ.get('PGPORT', '54320')}/booking"
PROVIDERS = 50
ZONES = (
    "UTC",
    "America/New_York",
    "America/Los_Angeles",
    "America/Sao_Paulo",
    "Europe/London",
    "Europe/Berlin",
    "Africa/Johannesburg",
    "Asia/Kolkata",
    "Asia/Tokyo",
    "Australia/Sydney",
)
OPEN_FROM, OPEN_UNTIL = time(6, 0), time(22, 0)
SLOT_MINUTES = 30
BOOKINGS_URL = "/api/v1/bookings/"
SLOTS_DAYS = 30
BARRIER_TIMEOUT = 120.0

TARGET_RATIO = 0.10
TARGET_P99_MS = 100.0
TARGET_SLOTS_P50_MS = 20.0

OVERLAP_AUDIT = """
    SELECT count(*) FROM scheduling_booking a
    JOIN scheduling_booking b
      ON a.provider_id = b.provider_id AND a.id < b.id
     AND tstzrange(a.blocked_from, a.blocked_until, '[)') && tstzrange(b.blocked_from, b.blocked_until, '[)')
    WHERE a.status IN ('pending', 'confirmed') AND b.status IN ('pending', 'confirmed')
"""
RAW_TABLE = """
    CREATE TABLE IF NOT EXISTS bench_raw_booking (
        provider_id int NOT NULL,
        span tstzrange NOT NULL,
        status text NOT NULL,
        EXCLUDE USING gist (span WITH &&, provider_id WITH =) WHERE (status IN ('pending', 'confirmed'))
    )
"""
RAW_INSERT = "INSERT INTO bench_raw_booking (provider_id, span, status) VALUES (%s, tstzrange(%s, %s, '[)'), %s)"


# --- database -----------------------------------------------------------------------------------


def bench_urls() -> tuple[str, str]:
    """(bench database URL, maintenance database URL) on the cluster DATABASE_URL points at."""
    parts = urlsplit(os.environ.get("DATABASE_URL") or DEFAULT_URL)
    return urlunsplit(parts._replace(path=f"/{BENCH_DB}")), urlunsplit(parts._replace(path="/postgres"))


def wait_for_connection_headroom(admin_url: str, needed: int, *, timeout: float = 120.0) -> None:
    """The cluster is shared: wait until `needed` connections are free rather than starve the others."""
    import psycopg

    deadline = clock.monotonic() + timeout
    while True:
        with psycopg.connect(admin_url, autocommit=True) as conn:
            used, limit, reserved = conn.execute(
                "SELECT (SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend'),"
                " current_setting('max_connections')::int, current_setting('superuser_reserved_connections')::int"
            ).fetchone()
        free = limit - reserved - used
        if free >= needed:
            return
        if clock.monotonic() > deadline:
            raise SystemExit(f"PostgreSQL has only {free} free connections and this bench needs {needed}; try later.")
        print(f"  waiting: {free} free PostgreSQL connections, need {needed} ...", flush=True)
        clock.sleep(5)


def connect_with_retry(url: str, *, timeout: float = 60.0):
    """A psycopg connection; while the shared cluster says "too many clients", wait and try again."""
    import psycopg

    deadline = clock.monotonic() + timeout
    while True:
        try:
            return psycopg.connect(url, autocommit=True)
        except psycopg.OperationalError as exc:
            if "too many clients" not in str(exc) or clock.monotonic() > deadline:
                raise
            clock.sleep(0.5)


def recreate_database(admin_url: str) -> None:
    import psycopg
    from psycopg import sql

    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(BENCH_DB)))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(BENCH_DB)))


def setup_django(bench_url: str) -> None:
    os.environ["DATABASE_URL"] = bench_url
    os.environ["DJANGO_SETTINGS_MODULE"] = "booking_site.settings"
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    import django

    django.setup()

    from django.core.management import call_command
    from django.db import connection

    if connection.settings_dict["NAME"] != BENCH_DB:
        raise SystemExit(f"Refusing to run: connected to {connection.settings_dict['NAME']!r}, not {BENCH_DB!r}.")
    call_command("migrate", verbosity=0, interactive=False)


def seed(*, days: int) -> tuple[str, dict[int, list[datetime]]]:
    """Providers, rules, superuser and token. Returns the token and each provider's free starts."""
    from decimal import Decimal
    from zoneinfo import ZoneInfo

    from django.contrib.auth import get_user_model
    from django.db import transaction
    from django.utils import timezone
    from rest_framework.authtoken.models import Token

    from scheduling.models import AvailabilityRule, Provider, Service
    from scheduling.selectors import provider_slots

    today = timezone.now().date()
    with transaction.atomic():
        providers = Provider.objects.bulk_create(
            Provider(
                name=f"API bench provider {n:02d}",
                slug=f"api-bench-{n:02d}",
                timezone=ZoneInfo(ZONES[n % len(ZONES)]),
            )
            for n in range(PROVIDERS)
        )
        # One service of its own per provider, so the API books by provider alone as before services.
        services = Service.objects.bulk_create(
            Service(
                name=provider.name,
                slug=provider.slug,
                duration_minutes=SLOT_MINUTES,
                min_notice_minutes=0,
                max_advance_days=365,
                requires_confirmation=False,
                price=Decimal("40.00"),
            )
            for provider in providers
        )
        Service.providers.through.objects.bulk_create(
            Service.providers.through(service=service, provider=provider)
            for service, provider in zip(services, providers, strict=True)
        )
        AvailabilityRule.objects.bulk_create(
            AvailabilityRule(
                provider=provider,
                kind=AvailabilityRule.Kind.OPEN,
                rrule="FREQ=DAILY",
                starts_on=today - timedelta(days=30),
                start_time=OPEN_FROM,
                end_time=OPEN_UNTIL,
                label="Every day",
            )
            for provider in providers
        )
        user = get_user_model().objects.create_superuser("api-bench", "api-bench@bench.example", secrets.token_hex(16))
        token = Token.objects.create(user=user).key

    free: dict[int, list[datetime]] = {}
    for provider in Provider.objects.prefetch_related("services"):
        first = timezone.now().astimezone(provider.timezone).date() + timedelta(days=1)  # nothing in the past
        service = provider.services.all()[0]
        slots = provider_slots(provider=provider, service=service, first=first, last=first + timedelta(days=days - 1))
        free[provider.pk] = [slot.start for slot in slots]
    return token, free


def deal(free: dict[int, list[datetime]], clients: int) -> list[list[tuple[int, datetime]]]:
    """Every free (provider, start) once, round-robin in time order: disjoint lists, spread over providers."""
    in_time_order = sorted((start, pid) for pid, starts in free.items() for start in starts)
    return deal_list([(pid, start) for start, pid in in_time_order], clients)


def deal_list(items: list, hands: int) -> list[list]:
    return [items[n::hands] for n in range(hands)]


def private_broker_url() -> str:
    """An empty Redis database for the server's Celery broker.

    Every confirmed booking kicks a `send_notification` task on commit. On the shared default queue those
    kicks would outlive the bench and reach whoever's worker serves that queue next, carrying primary keys
    of this throwaway database. Flushed by `discard_broker` at the end.
    """
    import redis

    parts = urlsplit(os.environ.get("REDIS_URL") or f"redis://127.0.0.1:{os.environ.get('REDIS_PORT', '63790')}/0")
    for db in range(15, 1, -1):  # 0 is the app's broker and 1 its cache
        url = urlunsplit(parts._replace(path=f"/{db}"))
        with redis.Redis.from_url(url) as client:
            if client.dbsize() == 0:
                return url
    raise SystemExit("No empty Redis database for the bench's Celery broker.")


def discard_broker(url: str) -> int:
    """Drop the kicks the bench queued (no worker runs for them); returns how many there were."""
    import redis

    with redis.Redis.from_url(url) as client:
        queued = client.llen("celery")
        client.flushdb()
    return queued


# --- gunicorn -----------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Gunicorn:
    def __init__(self, *, bench_url: str, broker_url: str, workers: int, worker_class: str, threads: int) -> None:
        self.port = free_port()
        self.log = tempfile.NamedTemporaryFile(prefix="api-bench-gunicorn-", suffix=".log", delete=False)
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "booking_site.settings",
            "DATABASE_URL": bench_url,
            "REDIS_URL": broker_url,  # the Celery broker; the cache stays on db 1, under its own key prefix
            "DEBUG": "0",
            "SECRET_KEY": secrets.token_urlsafe(50),
            "ALLOWED_HOSTS": "127.0.0.1",
            "SLOTS_THROTTLE_RATE": "1000000/min",
            # One superuser makes every booking: its per-user booking throttle would answer 429s.
            "BOOKING_POST_USER_THROTTLE_RATE": "1000000/min",
            "LOG_LEVEL": "WARNING",
            "CACHE_KEY_PREFIX": "booking-bench-api",  # throttle counters apart from everybody else's
        }
        command = [
            str(Path(sys.executable).parent / "gunicorn"),
            "booking_site.wsgi",
            "--bind", f"127.0.0.1:{self.port}",
            "--workers", str(workers),
            "--worker-class", worker_class,
            "--threads", str(threads),
            "--log-level", "warning",
            "--timeout", "60",
            "--graceful-timeout", "10",
        ]  # fmt: skip
        # Its own session: a Ctrl-C reaches only this script, whose `finally` stops gunicorn in order.
        self.process = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True
        )
        self._wait_until_healthy()

    def _wait_until_healthy(self, timeout: float = 30.0) -> None:
        deadline = clock.monotonic() + timeout
        while clock.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited with {self.process.returncode}:\n{self.log_tail()}")
            conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
            try:
                conn.request("GET", "/healthz")
                response = conn.getresponse()
                response.read()
                if response.status == 200:
                    return
            except (OSError, http.client.HTTPException):
                pass
            finally:
                conn.close()
            clock.sleep(0.2)
        raise RuntimeError(f"gunicorn did not answer /healthz with 200 within {timeout:.0f}s:\n{self.log_tail()}")

    def log_tail(self, lines: int = 30) -> str:
        return "\n".join(Path(self.log.name).read_text(errors="replace").splitlines()[-lines:])

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)  # graceful: workers finish their requests
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()

    def report_log(self) -> None:
        """Show what gunicorn logged (warnings and up) and keep the file; remove it when empty."""
        path = Path(self.log.name)
        if not path.exists():
            return
        if path.read_text(errors="replace").strip():
            print(f"gunicorn logged ({path}):\n{self.log_tail()}", file=sys.stderr)
        else:
            path.unlink()


# --- HTTP load ----------------------------------------------------------------------------------


@dataclass
class ClientResult:
    latencies: list[float] = field(default_factory=list)  # seconds, every POST
    created: list[float] = field(default_factory=list)  # seconds, successful ones only (201 or 200)
    statuses: Counter = field(default_factory=Counter)
    finished_at: float = 0.0
    ran_out: bool = False

    def record(self, status: int | str, began: float, *, ok: int) -> None:
        """One request's outcome, timed from `began` to now; `created` keeps the `ok` ones."""
        elapsed = clock.perf_counter() - began
        self.latencies.append(elapsed)
        self.statuses[status] += 1
        if status == ok:
            self.created.append(elapsed)


def send(conn: http.client.HTTPConnection, method: str, path: str, body: bytes | None, headers: dict) -> int | str:
    """The response status, or the exception's name (the connection is closed and reopens next time)."""
    try:
        conn.request(method, path, body, headers)
        response = conn.getresponse()
        response.read()
        return response.status
    except (OSError, http.client.HTTPException) as exc:
        conn.close()
        return type(exc).__name__


def iso_z(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def booking_client(
    n: int,
    *,
    port: int,
    token: str,
    hand: list[tuple[int, datetime]],
    barrier: threading.Barrier,
    clock_start: list[float],
    seconds: float,
    result: ClientResult,
    interval: float | None = None,
    offset: float = 0.0,
) -> None:
    """POST the hand's slots in turn: back to back, or (with `interval`) each at its scheduled time,
    clock_start + offset + k * interval, timing it from then (so a late start counts as latency)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    headers = {"Authorization": f"Token {token}", "Content-Type": "application/json", "Accept": "application/json"}
    try:
        barrier.wait(timeout=BARRIER_TIMEOUT)
        deadline = clock_start[0] + seconds
        for k, (provider_id, start) in enumerate(hand):
            due = clock_start[0] + offset + k * interval if interval else clock.perf_counter()
            if due >= deadline:
                break
            if interval and (pause := due - clock.perf_counter()) > 0:
                clock.sleep(pause)
            body = json.dumps(
                {
                    "provider": provider_id,
                    "start": iso_z(start),
                    # A new customer per booking: the email is unique to the slot.
                    "customer": {
                        "name": f"Client {n} #{k}",
                        "email": f"p{provider_id}-{int(start.timestamp())}@bench.example",
                        "timezone": "UTC",
                    },
                    "notes": "api bench",
                }
            ).encode()
            began = due if interval else clock.perf_counter()
            result.record(send(conn, "POST", BOOKINGS_URL, body, headers), began, ok=201)
        else:
            result.ran_out = True
    finally:
        result.finished_at = clock.perf_counter()
        conn.close()


def run_booking_load(
    *, port: int, token: str, hands, seconds: float, rate: float | None = None
) -> tuple[list[ClientResult], float]:
    """One thread per hand, for `seconds`: closed loop, or together offering `rate` bookings/second."""
    interval = len(hands) / rate if rate else None
    clock_start = [0.0]
    barrier = threading.Barrier(len(hands), action=lambda: clock_start.__setitem__(0, clock.perf_counter()))
    results = [ClientResult() for _ in hands]
    threads = [
        threading.Thread(
            target=booking_client,
            args=(n,),
            kwargs={
                "port": port,
                "token": token,
                "hand": hand,
                "barrier": barrier,
                "clock_start": clock_start,
                "seconds": seconds,
                "result": results[n],
                "interval": interval,
                "offset": n * interval / len(hands) if interval else 0.0,
            },
            daemon=True,
            name=f"client-{n}",
        )
        for n, hand in enumerate(hands)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = max(r.finished_at for r in results) - clock_start[0]
    return results, wall


def read_client(
    *,
    port: int,
    headers: dict,
    path: str,
    barrier: threading.Barrier,
    clock_start: list[float],
    seconds: float,
    result: ClientResult,
) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        barrier.wait(timeout=BARRIER_TIMEOUT)
        deadline = clock_start[0] + seconds
        while clock.perf_counter() < deadline:
            began = clock.perf_counter()
            result.record(send(conn, "GET", path, None, headers), began, ok=200)
    finally:
        result.finished_at = clock.perf_counter()
        conn.close()


def run_read_load(
    *, port: int, headers: dict, path: str, clients: int, seconds: float
) -> tuple[list[ClientResult], float]:
    """`clients` threads GETting `path` as fast as they can: what the stack itself costs per request."""
    clock_start = [0.0]
    barrier = threading.Barrier(clients, action=lambda: clock_start.__setitem__(0, clock.perf_counter()))
    results = [ClientResult() for _ in range(clients)]
    kwargs = {"port": port, "headers": headers, "path": path, "barrier": barrier, "clock_start": clock_start,
              "seconds": seconds}  # fmt: skip
    threads = [
        threading.Thread(target=read_client, kwargs={**kwargs, "result": results[n]}, daemon=True)
        for n in range(clients)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results, max(r.finished_at for r in results) - clock_start[0]


def measure_slots(*, port: int, provider_id: int, zone: str, first: date, requests: int) -> tuple[list[float], int]:
    """Sequential GETs over one keep-alive connection (gunicorn's sync worker closes it; http.client reopens)."""
    path = (
        f"/api/v1/providers/{provider_id}/slots/?start={first.isoformat()}"
        f"&end={(first + timedelta(days=SLOTS_DAYS - 1)).isoformat()}&tz={zone}"
    )
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    latencies: list[float] = []
    slot_count = 0
    try:
        for n in range(requests + 10):  # the first ten warm every worker up and are not counted
            began = clock.perf_counter()
            conn.request("GET", path, headers={"Accept": "application/json"})
            response = conn.getresponse()
            payload = response.read()
            elapsed = clock.perf_counter() - began
            if response.status != 200:
                raise RuntimeError(f"slots answered {response.status}: {payload[:300]!r}")
            if n >= 10:
                latencies.append(elapsed)
            else:
                slot_count = len(json.loads(payload)["slots"])
    finally:
        conn.close()
    return latencies, slot_count


# --- raw PostgreSQL -----------------------------------------------------------------------------


def raw_insert_rate(bench_url: str, *, connections: int, seconds: float) -> tuple[int, float, Counter, dict]:
    """Rows/second of one-transaction inserts from `connections` concurrent psycopg connections."""
    import psycopg

    with connect_with_retry(bench_url) as conn:
        conn.execute(RAW_TABLE)
        conn.execute("TRUNCATE bench_raw_booking")

    # Opened up front, retrying while the shared cluster is full, so no thread can fail to join the start.
    pool = []
    try:
        for _ in range(connections):
            pool.append(connect_with_retry(bench_url))
    except BaseException:
        for conn in pool:
            conn.close()
        raise

    base = datetime(2030, 1, 1, tzinfo=UTC)
    slot = timedelta(minutes=SLOT_MINUTES)
    counts = [0] * connections
    errors: Counter = Counter()
    clock_start = [0.0]
    finished = [0.0] * connections
    barrier = threading.Barrier(connections, action=lambda: clock_start.__setitem__(0, clock.perf_counter()))

    def worker(n: int) -> None:
        # Connection n writes providers n, n + connections, ... in turn, each on its own consecutive
        # half hours, so rows never overlap while every insert still probes the GiST index.
        own = list(range(n, max(PROVIDERS * 4, connections), connections))
        conn = pool[n]
        try:
            barrier.wait(timeout=BARRIER_TIMEOUT)
            deadline = clock_start[0] + seconds
            k = 0
            with conn.cursor() as cursor:
                while clock.perf_counter() < deadline:
                    provider = own[k % len(own)]
                    start = base + slot * (k // len(own))
                    try:
                        cursor.execute(RAW_INSERT, (provider, start, start + slot, "confirmed"), prepare=True)
                        counts[n] += 1
                    except psycopg.Error as exc:
                        errors[getattr(exc, "sqlstate", None) or type(exc).__name__] += 1
                    k += 1
        finally:
            finished[n] = clock.perf_counter()

    meter = CpuMeter(backend_pids=[conn.info.backend_pid for conn in pool])
    try:
        threads = [threading.Thread(target=worker, args=(n,), daemon=True) for n in range(connections)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        usage = meter.stop(backend_pids=[conn.info.backend_pid for conn in pool])
    finally:
        for conn in pool:
            conn.close()
    return sum(counts), max(finished) - clock_start[0], errors, usage


# --- CPU accounting (Linux /proc; zeros elsewhere) -------------------------------------------------


def process_cpu(pid: int) -> float:
    """User + system CPU seconds of one process, 0 when it is gone or unreadable."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def child_pids(parent: int) -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1]) == parent:
                    pids.append(int(entry.name))
            except (OSError, IndexError, ValueError):
                continue
    return pids


def machine_cpu() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine since boot."""
    try:
        ticks = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    except (OSError, ValueError):
        return 0.0, 0.0
    hz = os.sysconf("SC_CLK_TCK")
    idle = ticks[3] + (ticks[4] if len(ticks) > 4 else 0)
    return (sum(ticks[:8]) - idle) / hz, sum(ticks[:8]) / hz


class CpuMeter:
    """Where the machine's CPU went between start and `stop`: server processes, PostgreSQL backends, this
    script (the clients), and everything else (other users of a shared machine)."""

    def __init__(self, *, server_pids: Iterable[int] = (), backend_pids: Iterable[int] = ()) -> None:
        self.server = {pid: process_cpu(pid) for pid in server_pids}
        self.backends = {pid: process_cpu(pid) for pid in backend_pids}
        self.own = sum(os.times()[:2])
        self.busy, self.total = machine_cpu()

    def stop(self, *, backend_pids: list[int]) -> dict[str, float]:
        busy, total = machine_cpu()
        server = sum(process_cpu(pid) - before for pid, before in self.server.items())
        # A backend that connected during the run started from zero.
        postgres = sum(process_cpu(pid) - self.backends.get(pid, 0.0) for pid in backend_pids)
        clients = sum(os.times()[:2]) - self.own
        busy -= self.busy
        return {
            "server": server,
            "postgres": postgres,
            "clients": clients,
            "other": max(0.0, busy - server - postgres - clients),
            "idle": (total - self.total) - busy,
        }


def bench_backend_pids(bench_url: str) -> list[int]:
    with connect_with_retry(bench_url) as conn:
        rows = conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
        ).fetchall()
    return [pid for (pid,) in rows]


def cpu_text(usage: dict[str, float], per: int, unit: str) -> str:
    parts = [f"{name} {seconds:.1f}s" for name, seconds in usage.items()]
    if not per:
        return ", ".join(parts)
    first = "server" if usage["server"] else "clients"
    return ", ".join(parts) + (
        f"; per {unit}: {first} {usage[first] / per * 1000:.3f} ms, PostgreSQL {usage['postgres'] / per * 1000:.3f} ms"
    )


# --- reporting ----------------------------------------------------------------------------------


def percentile(values: list[float], pct: float) -> float:
    """Nearest-rank percentile of a non-empty list."""
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(pct / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


def verdict(ok: bool) -> str:
    return "met" if ok else "MISSED"


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            key, _, value = line.partition(":")
            if key.strip() in {"model name", "Model", "Hardware"} and value.strip():
                return value.strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def server_settings() -> dict[str, str]:
    from django.db import connection

    names = ("server_version", "max_connections", "shared_buffers", "synchronous_commit", "fsync")
    with connection.cursor() as cursor:
        out = {}
        for name in names:
            cursor.execute(f"SHOW {name}")
            out[name] = cursor.fetchone()[0]
    return out


def gunicorn_version() -> str:
    try:
        import gunicorn

        return gunicorn.__version__
    except ImportError:
        return "unknown"


# --- main ---------------------------------------------------------------------------------------


def main() -> None:
    cpus = os.cpu_count() or 1
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=20.0, help="booking load duration")
    parser.add_argument("--workers", type=int, default=2 * cpus + 1)
    parser.add_argument("--worker-class", default="sync", choices=("sync", "gthread"))
    parser.add_argument("--threads", type=int, default=1, help="threads per worker (gthread)")
    parser.add_argument("--baseline-seconds", type=float, default=3.0, help="one client alone, before the load")
    parser.add_argument("--days", type=int, default=21, help="days of free slots dealt to the clients")
    parser.add_argument("--slots-requests", type=int, default=200)
    parser.add_argument("--raw-seconds", type=float, default=10.0)
    parser.add_argument("--floor-seconds", type=float, default=8.0, help="the GET-one-booking load")
    parser.add_argument(
        "--paced-fraction", type=float, default=0.6, help="paced load: this share of the closed-loop booking rate"
    )
    parser.add_argument("--paced-seconds", type=float, default=10.0)
    args = parser.parse_args()
    threads = args.threads if args.worker_class == "gthread" else 1

    bench_url, admin_url = bench_urls()
    server_conns = args.workers * threads
    wait_for_connection_headroom(admin_url, max(server_conns, args.clients) + 5)

    print(f"Database {BENCH_DB}: re-creating and migrating ...", flush=True)
    began = clock.perf_counter()
    recreate_database(admin_url)
    setup_django(bench_url)
    from django.db import connection, connections

    token, free = seed(days=args.days)
    *hands, solo_hand = deal(free, args.clients + 1)  # the last hand serves the single-client baseline
    print(
        f"  ready in {clock.perf_counter() - began:.1f}s: {PROVIDERS} providers in {len(ZONES)} zones, "
        f"{sum(map(len, free.values()))} free slots over {args.days} days, {len(hands[0])} per client",
        flush=True,
    )
    settings_pg = server_settings()
    connections.close_all()  # no idle connection of ours while the server works

    server = None
    broker_url = private_broker_url()
    kicks = 0
    try:
        print(
            f"gunicorn: {args.workers} x {args.worker_class}"
            + (f" ({threads} threads)" if args.worker_class == "gthread" else "")
            + " workers, DEBUG=0 ...",
            flush=True,
        )
        server = Gunicorn(
            bench_url=bench_url,
            broker_url=broker_url,
            workers=args.workers,
            worker_class=args.worker_class,
            threads=threads,
        )

        # Warm every worker up (first connection, lazy imports), then the baseline with what is left.
        warm = 4 * args.workers * threads
        warmup, _ = run_booking_load(
            port=server.port, token=token, hands=deal_list(solo_hand[:warm], args.workers), seconds=60
        )
        warmed = sum(len(r.created) for r in warmup)
        print(f"Baseline: one client alone for {args.baseline_seconds:.0f}s ...", flush=True)
        solo, solo_wall = run_booking_load(
            port=server.port, token=token, hands=[solo_hand[warm:]], seconds=args.baseline_seconds
        )
        print(f"Booking load: {args.clients} clients for {args.seconds:.0f}s ...", flush=True)
        load_before = os.getloadavg()[0]
        meter = CpuMeter(server_pids=child_pids(server.process.pid), backend_pids=bench_backend_pids(bench_url))
        results, wall = run_booking_load(port=server.port, token=token, hands=hands, seconds=args.seconds)
        booking_cpu = meter.stop(backend_pids=bench_backend_pids(bench_url))
        statuses: Counter = Counter()
        for r in results:
            statuses.update(r.statuses)
        latencies = [x for r in results for x in r.latencies]
        created = [x for r in results for x in r.created]
        rate = len(created) / wall

        offered = args.paced_fraction * rate
        print(f"Paced: {args.clients} clients offering {offered:.0f} bookings/s for {args.paced_seconds:.0f}s ...",
              flush=True)  # fmt: skip
        unused = [hand[len(r.latencies) :] for hand, r in zip(hands, results, strict=True)]
        paced, paced_wall = run_booking_load(
            port=server.port, token=token, hands=unused, seconds=args.paced_seconds, rate=offered
        )

        with connection.cursor() as cursor:
            cursor.execute(OVERLAP_AUDIT)
            overlaps = cursor.fetchone()[0]
            cursor.execute("SELECT count(*) FROM scheduling_booking WHERE status IN ('pending', 'confirmed')")
            live = cursor.fetchone()[0]
            cursor.execute(
                "SELECT p.id, p.timezone, min(b.start_at) FROM scheduling_booking b"
                " JOIN scheduling_provider p ON p.id = b.provider_id"
                " GROUP BY p.id, p.timezone ORDER BY count(*) DESC, p.id LIMIT 1"
            )
            busiest = cursor.fetchone()
            cursor.execute("SELECT min(id) FROM scheduling_booking")
            (some_booking,) = cursor.fetchone()
        connections.close_all()

        floor_path = f"{BOOKINGS_URL}{some_booking}/"
        print(f"Floor: {args.clients} clients GET {floor_path} for {args.floor_seconds:.0f}s ...", flush=True)
        floor, floor_wall = run_read_load(
            port=server.port,
            headers={"Authorization": f"Token {token}", "Accept": "application/json"},
            path=floor_path,
            clients=args.clients,
            seconds=args.floor_seconds,
        )

        print(f"Slots: {args.slots_requests} sequential GETs of {SLOTS_DAYS} days ...", flush=True)
        from zoneinfo import ZoneInfo

        if busiest:
            slots_provider, slots_zone, first_booked = busiest
        else:  # nothing was booked; measure an empty provider rather than nothing
            slots_provider, slots_zone, first_booked = next(iter(free)), "UTC", datetime.now(UTC)
        slots_first = first_booked.astimezone(ZoneInfo(slots_zone)).date()
        slot_latencies, slot_count = measure_slots(
            port=server.port,
            provider_id=slots_provider,
            zone=slots_zone,
            first=slots_first,
            requests=args.slots_requests,
        )

        server.stop()  # frees its database connections and CPU before the raw measurement

        wait_for_connection_headroom(admin_url, args.clients + 5)
        print(f"Raw PostgreSQL: {args.clients} connections for {args.raw_seconds:.0f}s ...", flush=True)
        raw_rows, raw_wall, raw_errors, raw_cpu = raw_insert_rate(
            bench_url, connections=args.clients, seconds=args.raw_seconds
        )
        raw_rate = raw_rows / raw_wall
        print(f"Raw PostgreSQL: one connection for {args.raw_seconds / 2:.0f}s ...", flush=True)
        solo_rows, solo_raw_wall, _, _ = raw_insert_rate(bench_url, connections=1, seconds=args.raw_seconds / 2)
        solo_raw_rate = solo_rows / solo_raw_wall
    finally:
        if server is not None:
            server.stop()
            server.report_log()
        kicks = discard_broker(broker_url)
        connections.close_all()

    ms = 1000.0
    p50, p99 = percentile(latencies, 50) * ms, percentile(latencies, 99) * ms
    s50, s99 = percentile(slot_latencies, 50) * ms, percentile(slot_latencies, 99) * ms
    ratio = rate / raw_rate if raw_rate else 0.0
    ran_out = sum(r.ran_out for r in results)
    status_text = ", ".join(f"{k}: {v}" for k, v in sorted(statuses.items(), key=lambda kv: str(kv[0])))

    print()
    print("API booking benchmark (issue 3, Performance)")
    print(
        f"  machine     {cpu_model()}, {cpus} CPUs; Python {platform.python_version()}; "
        f"PostgreSQL {settings_pg['server_version']} (fsync={settings_pg['fsync']}, "
        f"synchronous_commit={settings_pg['synchronous_commit']}, shared_buffers={settings_pg['shared_buffers']})"
    )
    print(
        f"  gunicorn    {gunicorn_version()}: {args.workers} {args.worker_class} workers"
        + (f" x {threads} threads" if args.worker_class == "gthread" else "")
        + f"; {args.clients} client threads on the same machine"
    )
    print(f"  load        1-min load average {load_before:.1f} before the booking load (the machine is shared)")
    print()
    print(f"  POST {BOOKINGS_URL}: {args.clients} clients, {wall:.1f}s")
    print(f"    bookings/second       {rate:8.1f}   ({len(created)} created, {len(latencies)} requests)")
    print(f"    latency p50           {p50:8.1f} ms")
    print(f"    latency p99           {p99:8.1f} ms   target <= {TARGET_P99_MS:.0f} ms: "
          f"{verdict(p99 <= TARGET_P99_MS)}")  # fmt: skip
    print(
        f"    201-only p50 / p99    {percentile(created, 50) * ms:8.1f} / {percentile(created, 99) * ms:.1f} ms"
        if created
        else "    201-only              none"
    )
    print(f"    status codes          {status_text}")
    solo_lat = solo[0].latencies
    if solo_lat:
        print(
            f"    one client alone      p50 {percentile(solo_lat, 50) * ms:.1f} ms,"
            f" p99 {percentile(solo_lat, 99) * ms:.1f} ms,"
            f" {len(solo[0].created) / solo_wall:.1f} bookings/s ({len(solo_lat)} sequential POSTs before the load;"
            f" statuses {dict(solo[0].statuses)})"
        )
    if ran_out:
        print(f"    note                  {ran_out} clients ran out of slots; raise --days")
    paced_created = sum(len(r.created) for r in paced)
    print(f"    live bookings         {live} (201s: {len(created)} under load, {paced_created} paced, "
          f"{len(solo[0].created)} alone, {warmed} warm-up)")  # fmt: skip
    print(f"    overlapping live      {overlaps}   must be 0: {'ok' if overlaps == 0 else 'FAILED'}")
    print(f"    CPU seconds           {cpu_text(booking_cpu, len(created), 'booking')}")
    paced_lat = [x for r in paced for x in r.latencies]
    paced_status: Counter = Counter()
    for r in paced:
        paced_status.update(r.statuses)
    if paced_lat:
        print(
            f"    paced, {offered:.0f}/s offered  {paced_created / paced_wall:.1f} bookings/s; p50 "
            f"{percentile(paced_lat, 50) * ms:.1f} ms, p99 {percentile(paced_lat, 99) * ms:.1f} ms from each "
            f"request's scheduled time ({args.paced_fraction:.0%} of the rate above, {args.clients} clients; "
            f"statuses {dict(paced_status)})"
        )
    print(f"    notification kicks    {kicks} queued on a private Redis db, discarded (no Celery worker here)")
    print()
    print(f"  Raw PostgreSQL insert, same exclusion constraint: {args.clients} connections, {raw_wall:.1f}s")
    errors_text = f", errors {dict(raw_errors)}" if raw_errors else ""
    print(f"    rows/second           {raw_rate:8.1f}   ({raw_rows} rows{errors_text})")
    print(f"    CPU seconds           {cpu_text(raw_cpu, raw_rows, 'row')}")
    print(f"    booking / raw         {ratio:8.1%}   target >= {TARGET_RATIO:.0%}: {verdict(ratio >= TARGET_RATIO)}")
    print(
        f"    one connection alone  {solo_raw_rate:8.1f} rows/s  (a single psycopg loop; booking / that "
        f"{rate / solo_raw_rate if solo_raw_rate else 0:.1%})"
    )
    print()
    floor_lat = [x for r in floor for x in r.latencies]
    floor_ok = sum(len(r.created) for r in floor)
    floor_status = Counter()
    for r in floor:
        floor_status.update(r.statuses)
    print(f"  Floor: GET {floor_path} (token auth, one row, one serializer), {args.clients} clients, {floor_wall:.1f}s")
    print(f"    requests/second       {floor_ok / floor_wall:8.1f}   (statuses {dict(floor_status)})")
    print(f"    latency p50 / p99     {percentile(floor_lat, 50) * ms:8.1f} / {percentile(floor_lat, 99) * ms:.1f} ms")
    print(
        f"    booking POST / floor  {rate / (floor_ok / floor_wall) if floor_ok else 0:8.1%}   "
        "(the cheapest authenticated API call on this stack and machine)"
    )
    print()
    print(
        f"  GET slots, {SLOTS_DAYS} days ({slots_first}..{slots_first + timedelta(days=SLOTS_DAYS - 1)}, "
        f"{slots_zone}), "
        f"provider {slots_provider}, {slot_count} free slots, {len(slot_latencies)} sequential requests"
    )
    print(f"    latency p50           {s50:8.1f} ms   target <= {TARGET_SLOTS_P50_MS:.0f} ms: "
          f"{verdict(s50 <= TARGET_SLOTS_P50_MS)}")  # fmt: skip
    print(f"    latency p99           {s99:8.1f} ms")


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:  # the `finally` blocks have stopped gunicorn and closed the connections
        print("Interrupted.", file=sys.stderr)
        sys.exit(130)
