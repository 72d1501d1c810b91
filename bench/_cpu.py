"""Where the CPU of a bench phase went: per process tree (gunicorn, the Celery worker, PostgreSQL, Redis)
and for the whole machine, read from /proc, so a phase's cost can be split by tier under real load
(a profiler in one process cannot see the others, and slows the one it watches).

A tree's CPU is its root's own and reaped children's time plus every live descendant's; a descendant
that exits between two readings moves into its parent's reaped-children time, so deltas stay right.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path

TICK = os.sysconf("SC_CLK_TCK")


def _stat(pid: int) -> tuple[int, float] | None:
    """(parent pid, CPU seconds of the process and its reaped children), or None once it is gone."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = text[text.rindex(")") + 2 :].split()  # the command name may hold spaces and parentheses
    # fields[1] is the parent pid; [11..14] utime, stime, cutime, cstime (proc(5), counted from "state").
    return int(fields[1]), sum(int(value) for value in fields[11:15]) / TICK


def tree_cpu_seconds(root: int) -> float:
    table = {int(entry): _stat(int(entry)) for entry in os.listdir("/proc") if entry.isdigit()}
    children: dict[int, list[int]] = {}
    for pid, stat in table.items():
        if stat is not None:
            children.setdefault(stat[0], []).append(pid)
    total, todo = 0.0, [root]
    while todo:
        pid = todo.pop()
        stat = table.get(pid)
        if stat is not None:
            total += stat[1]
            todo += children.get(pid, [])
    return total


def machine_cpu_seconds() -> float:
    """Busy CPU seconds of the whole machine (every state of /proc/stat's first line but idle and iowait)."""
    values = [int(value) for value in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return (sum(values) - values[3] - values[4]) / TICK


def settle(*, busy_below: float = 0.25, window: float = 0.5, timeout: float = 15.0) -> float:
    """Wait until the machine is quiet: its busy share over `window` seconds below `busy_below`, or
    `timeout` passed. Returns the seconds waited.

    A phase that starts right after a 32-connection one otherwise inherits its aftermath: the requests
    wrk abandoned in gunicorn's accept queue (each still processed, a booking each), the worker's and
    PostgreSQL's work behind them. One connection measured straight after that showed a p99 of 3 to 11
    times its p50; measured on a quiet machine, about 1.5 times (ADR 0007)."""
    cpus = os.cpu_count() or 1
    started = time.monotonic()
    before = machine_cpu_seconds()
    while time.monotonic() - started < timeout:
        time.sleep(window)
        after = machine_cpu_seconds()
        if (after - before) / (window * cpus) < busy_below:
            break
        before = after
    return time.monotonic() - started


@dataclass
class CpuMeter:
    """Named process trees, read before and after a phase; `share` gives CPU ms per request."""

    roots: dict[str, int]
    _before: dict[str, float] = field(default_factory=dict)
    spent: dict[str, float] = field(default_factory=dict)

    def _read(self) -> dict[str, float]:
        readings = {name: tree_cpu_seconds(pid) for name, pid in self.roots.items()}
        readings["machine"] = machine_cpu_seconds()
        return readings

    def start(self) -> None:
        self._before = self._read()

    def stop(self) -> None:
        after = self._read()
        self.spent = {name: after[name] - self._before[name] for name in after}

    def per_request_ms(self, requests: int) -> str:
        if not requests or not self.spent:
            return ""
        tiers = [name for name in self.spent if name != "machine"]
        known = sum(self.spent[name] for name in tiers)
        parts = [f"{name} {self.spent[name] * 1000 / requests:.1f}" for name in tiers if self.spent[name] > 0]
        parts.append(f"other {(self.spent['machine'] - known) * 1000 / requests:.1f}")
        return f"CPU ms per 2xx: {', '.join(parts)} (machine {self.spent['machine'] * 1000 / requests:.1f})"


def postgres_pid(database_url: str) -> int | None:
    """The postmaster's pid, asked of the server itself (works whichever data directory it runs from)."""
    import psycopg

    with psycopg.connect(database_url, autocommit=True) as conn:
        stat = _stat(conn.execute("SELECT pg_backend_pid()").fetchone()[0])  # a backend's parent
    return stat[0] if stat else None


def redis_pid(url: str) -> int | None:
    import redis

    with redis.Redis.from_url(url) as client:
        pid = client.info("server").get("process_id")
    return int(pid) if pid and Path(f"/proc/{pid}").exists() else None
