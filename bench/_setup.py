"""Shared bench plumbing: a throwaway `booking_bench` database and a description of the machine.

Every bench points Django at the database `booking_bench` on the cluster that DATABASE_URL (or the local
default) points at, creating it when missing and migrating it, so dev data is never touched.
"""

from __future__ import annotations

import os
import platform
import sys
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

BENCH_DB = os.environ.get("BENCH_DB", "booking_bench")  # another name keeps parallel runs apart
DEFAULT_URL = f"postgres://postgres@127.0.0.1:{os.environ.get('PGPORT', '54320')}/booking"


def point_at_bench_database() -> str:
    """Rewrite DATABASE_URL to the bench database on the same server, creating that database if missing."""
    import psycopg
    from psycopg import sql

    parts = urlsplit(os.environ.get("DATABASE_URL") or DEFAULT_URL)
    bench_url = urlunsplit(parts._replace(path=f"/{BENCH_DB}"))
    admin_url = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin_url, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [BENCH_DB]).fetchone()
        if not exists:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(BENCH_DB)))
    os.environ["DATABASE_URL"] = bench_url
    return bench_url


def setup_django() -> None:
    point_at_bench_database()
    os.environ["DJANGO_SETTINGS_MODULE"] = "booking_site.settings"
    import django

    django.setup()

    from django.core.management import call_command
    from django.db import connection

    if connection.settings_dict["NAME"] != BENCH_DB:
        raise SystemExit(f"Refusing to run: connected to {connection.settings_dict['NAME']!r}, not {BENCH_DB!r}.")
    call_command("migrate", verbosity=0, interactive=False)


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
