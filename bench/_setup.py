"""Shared bench plumbing: throwaway databases, Django on them, and a description of the machine.

Every bench points Django at a database of its own (`booking_bench` unless it names another) on the
cluster that DATABASE_URL (or the local default) points at, creating it when missing (or re-creating it
when asked) and migrating it, so dev data is never touched. HTTP load (gunicorn, a Celery worker, wrk)
is in bench/_http.py.
"""

from __future__ import annotations

import os
import platform
import sys
import time as clock
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

BENCH_DB = os.environ.get("BENCH_DB", "booking_bench")  # another name keeps parallel runs apart
DEFAULT_URL = f"postgres://postgres@127.0.0.1:{os.environ.get('PGPORT', '54320')}/booking"


def database_urls(name: str = BENCH_DB) -> tuple[str, str]:
    """(URL of database `name`, URL of the maintenance database) on the cluster DATABASE_URL points at."""
    parts = urlsplit(os.environ.get("DATABASE_URL") or DEFAULT_URL)
    return urlunsplit(parts._replace(path=f"/{name}")), urlunsplit(parts._replace(path="/postgres"))


def point_at_bench_database(name: str = BENCH_DB, *, fresh: bool = False) -> str:
    """Rewrite DATABASE_URL to database `name` on the same server, creating it if missing (dropping it
    first when `fresh`). Returns its URL."""
    import psycopg
    from psycopg import sql

    bench_url, admin_url = database_urls(name)
    with psycopg.connect(admin_url, autocommit=True) as conn:
        if fresh:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    os.environ["DATABASE_URL"] = bench_url
    return bench_url


def setup_django(name: str = BENCH_DB, *, fresh: bool = False) -> str:
    """Django on the migrated bench database `name`; returns its URL. Refuses any other database."""
    bench_url = point_at_bench_database(name, fresh=fresh)
    os.environ["DJANGO_SETTINGS_MODULE"] = "booking_site.settings"
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    import django

    django.setup()

    from django.core.management import call_command
    from django.db import connection

    if connection.settings_dict["NAME"] != name:
        raise SystemExit(f"Refusing to run: connected to {connection.settings_dict['NAME']!r}, not {name!r}.")
    call_command("migrate", verbosity=0, interactive=False)
    return bench_url


def wait_for_connection_headroom(needed: int, *, timeout: float = 120.0) -> None:
    """The cluster is shared: wait until `needed` connections are free rather than starve the others."""
    import psycopg

    _, admin_url = database_urls()
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


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            key, _, value = line.partition(":")
            if key.strip() in {"model name", "Model", "Hardware"} and value.strip():
                return value.strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def postgres_version() -> str:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        return cursor.fetchone()[0]


def machine_line() -> str:
    """One line naming what the figures were measured on."""
    import django

    return (
        f"{cpu_model()}, {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}; Python "
        f"{platform.python_version()}, Django {django.__version__}, PostgreSQL {postgres_version()}"
    )
