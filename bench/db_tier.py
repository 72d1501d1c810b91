"""What the database tier of issue 18 costs and gives: PgBouncer in front of the primary, a streaming replica
behind it (docs/decisions/0017-read-replica-and-pooler.md), each figure next to its baseline measured in
the same run.

    .venv/bin/python bench/db_tier.py [--seconds 10] [--connections 32] [--workers 5] [--pool-size 5]

The HTTP machinery is bench/http_throughput.py's (its seed and booking bodies, gunicorn with 5 sync
workers and DEBUG off, `wrk` with bench/wrk/load.lua, its row format), on a throwaway database of its own,
`booking_bench_dbtier` (dropped and re-created at the start, dropped at the end). No Celery worker runs:
each booking's outbox kick waits on an emptied private Redis database, so the figures are the web and
database tiers'. Throttles are opened wide per second rather than per minute (DRF's cached history of one
user's or one IP's requests stays short and does not carry over between phases). Every booking POST is a
real API booking of a slot no other request asks for. Asserts nothing about timing; exits 0. Under each
figure, CPU milliseconds per answered request by process tree (gunicorn, the primary, the replica,
PgBouncer, Redis; "other" is the rest of the machine, wrk and other sessions included; bench/_cpu.py).

Around the project-local cluster it starts, on free ports, and removes at the end whatever happens (both
by tests/postgres_servers.py, as the database-tier tests start theirs):

  PgBouncer   its own process with a generated config (transaction mode, trust auth, a pool of
              `--pool-size` server connections), run as the postgres user. Behind it gunicorn gets
              DB_TRANSACTION_POOLER=1 and, before PgBouncer 1.21 (Debian 12 ships 1.18),
              DB_PREPARE_THRESHOLD=none: psycopg's named prepared statements cannot cross a transaction
              pooler that does not track them.
  replica     a hot standby cloned with `pg_basebackup -R -X stream` and started with `pg_ctl` as the
              postgres user, streaming from the primary.

Phases, `--seconds` each, `--connections` wrk connections:

  floor               GET /api/v1/bookings/{id}/ with a token, straight to PostgreSQL
  POST direct         POST /api/v1/bookings/ straight to PostgreSQL (settings as deployed: named prepared
                      statements after 2 runs). Meanwhile, every 100 ms, the primary's pg_stat_replication:
                      bytes between the WAL insert position and the replica's replay position, and
                      replay_lag; both are as fresh as the standby's last status reply, so the replica is
                      also asked directly for its replay position and the age of the last commit it
                      replayed (LagSampler). The cluster commits asynchronously (synchronous_commit off,
                      scripts/services.sh): a commit reaches the replica once the WAL writer flushes it
                      (wal_writer_delay, 200 ms by default), which is part of every figure
  POST direct, none   the same straight to PostgreSQL with DB_PREPARE_THRESHOLD=none: splits what PgBouncer
                      costs into the prepared statements it forbids and the extra hop
  POST PgBouncer      the same through PgBouncer in transaction mode
  slots               GET /api/v1/providers/{id}/slots/, 30 days, anonymous, of the provider with most
                      bookings, as deployed (slots cache on): without DATABASE_REPLICA_URL, then with it
  slots, cache off    the same pair with SLOTS_CACHE_SECONDS=0: every request reads the engine's inputs
                      (rules, bookings, blocked times), from the replica when one is configured

The replica runs on the same machine as the primary and competes for the same CPUs: what its line shows
is the cost of the read path's move, not the capacity a replica on its own host would add.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import sys
import threading
import time as clock
import urllib.request
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _cpu import CpuMeter, postgres_pid, redis_pid, settle
from _http import Gunicorn, WrkResult, flush_broker, private_broker_url, run_wrk, server_env
from _setup import database_urls, machine_line, setup_django, wait_for_connection_headroom
from http_throughput import DAYS, PROVIDERS, booking_body, busiest_provider_slots, row, seed

from tests.postgres_servers import PgBouncer, StreamingReplica, Unavailable, wait_for_replay

BENCH_DB = "booking_bench_dbtier"
REPLICA_NAME = "booking_bench_dbtier_replica"  # the standby's cluster_name: its application_name upstream
LAG_QUERY = (
    "SELECT pg_wal_lsn_diff(pg_current_wal_insert_lsn(), replay_lsn), extract(epoch from replay_lag),"
    " pg_wal_lsn_diff(pg_current_wal_insert_lsn(), %s::pg_lsn) FROM pg_stat_replication WHERE application_name = %s"
)


# --- the replica and PgBouncer (tests/postgres_servers.py, shared with the database-tier tests) ----------


def with_port(url: str, port: int) -> str:
    parts = urlsplit(url)
    netloc = parts.netloc.rsplit("@", 1)
    host = f"127.0.0.1:{port}"
    return urlunsplit(parts._replace(netloc=f"{netloc[0]}@{host}" if len(netloc) == 2 else host))


def beside(primary_url: str) -> dict:
    """The primary's host, port and user, as StreamingReplica and PgBouncer take them."""
    primary = urlsplit(primary_url)
    return {"primary_host": primary.hostname, "primary_port": primary.port, "user": primary.username or "postgres"}


def start(server: StreamingReplica | PgBouncer) -> None:
    try:
        server.start()
    except (Unavailable, RuntimeError) as reason:
        raise SystemExit(f"{type(server).__name__}: {reason}") from None


def wait_until_streaming(primary_url: str, timeout: float = 60) -> None:
    import psycopg

    deadline = clock.monotonic() + timeout
    with psycopg.connect(primary_url, autocommit=True) as conn:
        while not conn.execute(
            "SELECT 1 FROM pg_stat_replication WHERE application_name = %s AND state = 'streaming'", [REPLICA_NAME]
        ).fetchone():
            if clock.monotonic() > deadline:
                raise SystemExit(f"the replica is not streaming after {timeout:.0f}s")
            clock.sleep(0.1)


def catch_up(primary_url: str, replica_url: str) -> float:
    """Seconds until the replica has replayed every commit so far."""
    import psycopg

    with (
        psycopg.connect(primary_url, autocommit=True) as primary,
        psycopg.connect(replica_url, autocommit=True) as replica,
    ):
        return wait_for_replay(primary.cursor(), replica.cursor(), timeout=60)


def pooler_env(bouncer: PgBouncer, primary_url: str) -> dict[str, str]:
    """What settings.py needs behind a transaction pooler (ADR 0017, item 5)."""
    env = {"DATABASE_URL": with_port(primary_url, bouncer.port), "DB_TRANSACTION_POOLER": "1"}
    if not bouncer.prepared_statements:
        env["DB_PREPARE_THRESHOLD"] = "none"
    return env


# --- replay lag ---------------------------------------------------------------------------------------


@dataclass
class LagSampler:
    """The replica's lag, sampled every `interval` seconds in a thread, two ways.

    As the primary sees it (pg_stat_replication): `replay_lsn` and `replay_lag` are what the standby last
    reported, and it reports when it has written or flushed new WAL (or every wal_receiver_status_interval,
    1 s here), with the replay position it had reached then. As the replica sees it, read back to back
    with the primary's insert position: its own replay position, and how old the last commit it replayed
    is (clock_timestamp() - pg_last_xact_replay_timestamp(), one clock: same machine), which is how stale a
    read on the replica can be; under steady load the gap between two commits adds to it.
    """

    primary_url: str
    replica_url: str
    interval: float = 0.1
    samples: int = 0
    byte_lag: list[float] = field(default_factory=list)
    replay_lag: list[float] = field(default_factory=list)
    replica_bytes: list[float] = field(default_factory=list)
    staleness: list[float] = field(default_factory=list)
    error: str = ""
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        import psycopg

        try:
            with (
                psycopg.connect(self.primary_url, autocommit=True) as primary,
                psycopg.connect(self.replica_url, autocommit=True) as replica,
            ):
                due = clock.monotonic()
                while not self._stop.is_set():
                    replayed, age = replica.execute(
                        "SELECT pg_last_wal_replay_lsn()::text,"
                        " extract(epoch from clock_timestamp() - pg_last_xact_replay_timestamp())"
                    ).fetchone()
                    found = primary.execute(LAG_QUERY, [replayed, REPLICA_NAME]).fetchone()
                    self.samples += 1
                    for values, value in zip(
                        (self.byte_lag, self.replay_lag, self.replica_bytes, self.staleness),
                        (*(found or (None, None, None)), age),
                        strict=True,
                    ):
                        if value is not None:
                            values.append(float(value))
                    due += self.interval
                    self._stop.wait(max(0.0, due - clock.monotonic()))
        except psycopg.Error as error:
            self.error = str(error)

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)


def percentile(values: list[float], q: float) -> float:
    """Nearest rank."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered) + 0.5) - 1))]


def lag_lines(lag: LagSampler, seconds: float) -> list[str]:
    lines = [f"  replica lag during POST straight to PG: {lag.samples} samples every {lag.interval * 1000:.0f} ms "
             f"over {seconds:g}s"]  # fmt: skip
    if lag.error:
        lines.append(f"    sampling failed: {lag.error}")

    def stats(label: str, values: list[float], scale: float, unit: str) -> None:
        if not values:
            lines.append(f"    {label:48} NULL in every sample")
            return
        nulls = f"  ({lag.samples - len(values)} samples NULL)" if len(values) < lag.samples else ""
        p50, p99, top = (value / scale for value in (percentile(values, 50), percentile(values, 99), max(values)))
        lines.append(f"    {label:48} p50 {p50:7.1f} {unit}  p99 {p99:7.1f} {unit}  max {top:7.1f} {unit}{nulls}")

    stats("pg_stat_replication: insert - replay_lsn", lag.byte_lag, 1024, "kB")
    stats("pg_stat_replication: replay_lag", lag.replay_lag, 1e-3, "ms")
    stats("replica's own replay position: insert - replay", lag.replica_bytes, 1024, "kB")
    stats("replica: age of the last commit it replayed", lag.staleness, 1e-3, "ms")
    return lines


# --- the run ------------------------------------------------------------------------------------------


def post_json(url: str, body: str, headers: dict[str, str]) -> dict:
    request = urllib.request.Request(url, data=body.encode(), method="POST",
                                     headers={**headers, "Content-Type": "application/json"})  # fmt: skip
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


def get(url: str, headers: dict[str, str]) -> None:
    with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=30) as response:
        response.read()


def drop_database(name: str) -> None:
    import psycopg
    from psycopg import sql

    _, admin_url = database_urls(name)
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="duration of each phase (default 10)")
    parser.add_argument("--connections", type=int, default=32, help="wrk connections (default 32)")
    parser.add_argument("--workers", type=int, default=5, help="gunicorn sync workers (default 5)")
    parser.add_argument("--pool-size", type=int, default=5, help="PgBouncer server connections (default 5)")
    args = parser.parse_args()
    seconds, conns = args.seconds, args.connections

    os.environ["BENCH_SECRET_KEY"] = os.environ["SECRET_KEY"] = secrets.token_urlsafe(50)
    wait_for_connection_headroom(conns + args.workers + args.pool_size + 10)
    begun = clock.monotonic()
    database_url = setup_django(BENCH_DB, fresh=True)
    from django.db import connections

    broker = private_broker_url()
    replica = StreamingReplica(**beside(database_url), dir_prefix="bench-dbtier-replica-", cluster_name=REPLICA_NAME)
    bouncer = PgBouncer(**beside(database_url), pool_size=args.pool_size, dir_prefix="bench-dbtier-pgbouncer-")
    server: Gunicorn | None = None
    results: dict[str, WrkResult] = {}
    cpu: dict[str, str] = {}
    lag: LagSampler | None = None

    def stop_server() -> None:
        nonlocal server
        if server is not None:
            server.stop()
            server.report_log()
            server = None

    with ExitStack() as cleanup:
        # Undone in reverse order, each step even when one before it failed.
        cleanup.callback(drop_database, BENCH_DB)
        cleanup.callback(flush_broker, broker)
        cleanup.callback(replica.stop)
        cleanup.callback(bouncer.stop)
        cleanup.callback(connections.close_all)
        cleanup.callback(stop_server)
        cleanup.callback(lambda: lag and lag.stop())

        token, _, _, free = seed()
        in_time_order = sorted((start, pid) for pid, (_, starts) in free.items() for start in starts)
        pools = [in_time_order[n::4] for n in range(4)]  # disjoint, each spread over every provider
        bodies = {name: [booking_body(pid, start) for start, pid in pool]
                  for name, pool in zip(("direct", "none", "pgbouncer", "warm"), pools, strict=True)}  # fmt: skip
        machine = machine_line()
        connections.close_all()
        print(f"Seeded {PROVIDERS} providers, {len(in_time_order)} free slots over {DAYS} days.", flush=True)

        start(replica)
        wait_until_streaming(database_url)
        replica_url = with_port(database_url, replica.port)
        start(bouncer)
        print(f"Replica on port {replica.port} streaming; PgBouncer {'.'.join(map(str, bouncer.version))} on port "
              f"{bouncer.port}.", flush=True)  # fmt: skip

        base_env = server_env(database_url=database_url, broker_url=broker, cache_prefix="booking-bench-dbtier")
        auth = {"Authorization": f"Token {token}", "Accept": "application/json"}
        roots = {"postgres": postgres_pid(database_url), "replica": postgres_pid(replica_url),
                 "pgbouncer": bouncer.process.pid, "redis": redis_pid(broker)}  # fmt: skip
        warm = iter(bodies["warm"])

        def serve(**overrides: str) -> Gunicorn:
            nonlocal server
            stop_server()
            server = Gunicorn({**base_env, **overrides}, workers=args.workers)
            return server

        def warm_posts(count: int) -> int:
            """Bookings of the warm pool: imports, connections and prepared statements in every worker."""
            booking = 0
            for _ in range(count):
                booking = post_json(f"{server.url}/api/v1/bookings/", next(warm), auth)["id"]
            return booking

        def phase(name: str, path: str, **kwargs) -> None:
            print(f"  {name} ...", flush=True)
            settle()  # not the previous phase's aftermath
            meter = CpuMeter({"gunicorn": server.process.pid, **{tier: pid for tier, pid in roots.items() if pid}})
            meter.start()
            results[name] = run_wrk(f"{server.url}{path}", seconds=seconds, connections=conns, **kwargs)
            meter.stop()
            cpu[name] = meter.per_request_ms(results[name].ok)

        # Booking POSTs: straight to PostgreSQL (the replica's lag sampled), without prepared statements,
        # through PgBouncer.
        serve()
        booking_id = warm_posts(4 * args.workers)
        phase("floor", f"/api/v1/bookings/{booking_id}/", headers=auth)
        catch_up(database_url, replica_url)
        lag = LagSampler(database_url, replica_url)
        lag.start()
        try:
            phase("post", "/api/v1/bookings/", headers=auth, method="POST", bodies=bodies["direct"])
        finally:
            lag.stop()
        serve(DB_PREPARE_THRESHOLD="none")
        warm_posts(4 * args.workers)
        phase("post_none", "/api/v1/bookings/", headers=auth, method="POST", bodies=bodies["none"])
        serve(**pooler_env(bouncer, database_url))
        warm_posts(4 * args.workers)
        phase("post_pgbouncer", "/api/v1/bookings/", headers=auth, method="POST", bodies=bodies["pgbouncer"])

        # Slots of the provider with most bookings, without and with the replica, cache on and off.
        _, _, slots_path = busiest_provider_slots()
        connections.close_all()
        caught_up = catch_up(database_url, replica_url)
        anonymous = {"Accept": "application/json"}
        for name, overrides in (
            ("slots", {}),
            ("slots_replica", {"DATABASE_REPLICA_URL": replica_url}),
            ("slots_nocache", {"SLOTS_CACHE_SECONDS": "0"}),
            ("slots_nocache_replica", {"SLOTS_CACHE_SECONDS": "0", "DATABASE_REPLICA_URL": replica_url}),
        ):
            serve(**overrides)
            for _ in range(2 * args.workers):
                get(f"{server.url}{slots_path}", anonymous)
            phase(name, slots_path, headers=anonymous)
    elapsed = clock.monotonic() - begun
    return report(results, cpu, lag, args, machine, bouncer=bouncer, caught_up=caught_up, elapsed=elapsed)


def report(results, cpu, lag, args, machine: str, *, bouncer: PgBouncer, caught_up: float, elapsed: float) -> int:
    seconds, conns = args.seconds, args.connections
    version = ".".join(map(str, bouncer.version))

    def line(label: str, name: str, baseline: str, note: str) -> None:
        print(row(label, results[name], results[baseline].rate, note=note))
        if cpu.get(name):
            print(f"  {'':44} {cpu[name]}")

    prepared = "named prepared statements (max_prepared_statements 200)" if bouncer.prepared_statements else (
        "DB_PREPARE_THRESHOLD=none (no named prepared statements before 1.21)"
    )  # fmt: skip
    print()
    print(f"Database tier, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC: wrk, {conns} connections, {seconds:g}s each; "
          f"gunicorn {args.workers} sync workers, DEBUG off; no Celery worker (the outbox kicks wait on a private "
          f"broker); run took {elapsed:.0f}s, load average at the end {os.getloadavg()[0]:.1f}")  # fmt: skip
    print(f"  {machine}")
    print(f"  PgBouncer {version}, transaction mode, pool of {args.pool_size} server connections, {prepared}; "
          f"replica: pg_basebackup hot standby on this machine")  # fmt: skip
    print(f"  {'':44} {'2xx/s':>9} {'p50':>8} {'p99':>8} {'requests':>8} {'ratio':>7}")
    line("GET /api/v1/bookings/{id}/, token (floor)", "floor", "floor", "/ itself")
    line("POST /api/v1/bookings/, straight to PG", "post", "floor", "/ floor")
    line("POST, straight, DB_PREPARE_THRESHOLD=none", "post_none", "post", "/ POST straight")
    line("POST /api/v1/bookings/, through PgBouncer", "post_pgbouncer", "post", "/ POST straight")
    print(f"  {'':44} PgBouncer / POST straight with DB_PREPARE_THRESHOLD=none: "
          f"{results['post_pgbouncer'].rate / results['post_none'].rate:.0%}")  # fmt: skip
    for text in lag_lines(lag, seconds):
        print(text)
    print(f"  slots: GET {DAYS} days, anonymous; replica caught up {caught_up:.2f}s after the POSTs")
    line("GET slots, primary only (cache on)", "slots", "slots", "/ itself")
    line("GET slots, DATABASE_REPLICA_URL (cache on)", "slots_replica", "slots", "/ slots primary only")
    line("GET slots, primary only, cache off", "slots_nocache", "slots", "/ slots primary only, cache on")
    line("GET slots, DATABASE_REPLICA_URL, cache off", "slots_nocache_replica", "slots_nocache",
         "/ slots primary only, cache off")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
