"""HTTP load for the benches: gunicorn as deployed, an optional Celery worker as `make run` starts it,
and `wrk` (a C load generator, so the clients do not eat the CPU they measure) with bench/wrk/load.lua.

Everything runs against a bench database (bench/_setup.py) and a private, emptied Redis database as the
Celery broker, so no kick of the bench reaches anybody else's worker.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time as clock
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from _setup import ROOT

BIN = Path(sys.executable).parent
LUA = ROOT / "bench" / "wrk" / "load.lua"
BENCH_DIR = ROOT / "bench"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def private_broker_url() -> str:
    """An empty Redis database for the bench's Celery broker (0 and 1 are the app's broker and cache)."""
    import redis

    parts = urlsplit(os.environ.get("REDIS_URL") or f"redis://127.0.0.1:{os.environ.get('REDIS_PORT', '63790')}/0")
    for db in range(15, 1, -1):
        url = urlunsplit(parts._replace(path=f"/{db}"))
        with redis.Redis.from_url(url) as client:
            if client.dbsize() == 0:
                return url
    raise SystemExit("No empty Redis database for the bench's Celery broker.")


def flush_broker(url: str) -> int:
    """Drop what is queued on the bench's broker; returns how many kicks were waiting."""
    import redis

    with redis.Redis.from_url(url) as client:
        queued = client.llen("celery")
        client.flushdb()
    return queued


def server_env(*, database_url: str, broker_url: str, cache_prefix: str) -> dict[str, str]:
    """Production-like settings (DEBUG off) on the bench database, throttles opened wide: one user makes
    every request, and per-user limits would answer 429s instead of measuring.

    The wide rates are per second, not per minute: DRF keeps each throttle key's request times over the
    whole period in one cached list, read and written back on every request. With one user making every
    request at a few hundred a second, a minute's list holds tens of thousands of entries, a cost no
    real user's list (at most the rate limit, 120 a minute for bookings) carries. `cache_prefix` keeps
    each bench's throttle counters and slots cache apart from the app's and from the other benches'.
    """
    return {
        **os.environ,
        # The bench settings add the bench-only endpoints (bench/_bench_urls.py) to the app's URLs.
        "DJANGO_SETTINGS_MODULE": "_bench_settings",
        "PYTHONPATH": f"{BENCH_DIR}:{ROOT}",
        "DATABASE_URL": database_url,
        "REDIS_URL": broker_url,
        "DEBUG": "0",
        "SECRET_KEY": os.environ.get("BENCH_SECRET_KEY") or secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "127.0.0.1",
        **{rate: "1000000/s" for rate in WIDE_OPEN_THROTTLES},
        "CACHE_KEY_PREFIX": cache_prefix,
        "LOG_LEVEL": "WARNING",
    }


WIDE_OPEN_THROTTLES = ("SLOTS_THROTTLE_RATE", "SLOTS_USER_THROTTLE_RATE", "BOOKING_POST_USER_THROTTLE_RATE")


class Process:
    """A child in its own session (a Ctrl-C reaches only the bench, which stops it), logging to a file."""

    def __init__(self, name: str, command: list[str], env: dict[str, str]) -> None:
        self.log = Path(tempfile.mkstemp(prefix=f"bench-{name}-", suffix=".log")[1])
        with open(self.log, "w") as out:
            self.process = subprocess.Popen(
                command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
            )

    def log_tail(self, lines: int = 30) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])

    def alive(self) -> bool:
        return self.process.poll() is None

    def report_log(self) -> None:
        """Keep the log and say where it is when it shows an error; remove it otherwise."""
        text = self.log.read_text(errors="replace")
        if "Traceback" in text or "ERROR" in text:
            print(f"{self.log} shows errors:\n{self.log_tail()}", file=sys.stderr)
        else:
            self.log.unlink()

    def stop(self) -> None:
        if self.alive():
            # Warm shutdown through the main process, which lets the current request or task finish
            # (a signal to the whole group would kill Celery's pool children mid-task).
            os.kill(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()


class Gunicorn(Process):
    def __init__(self, env: dict[str, str], *, workers: int = 5) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        command = [
            str(BIN / "gunicorn"), "booking_site.wsgi", "--bind", f"127.0.0.1:{self.port}",
            "--workers", str(workers), "--worker-class", "sync", "--log-level", "warning", "--timeout", "60",
        ]  # fmt: skip
        super().__init__("gunicorn", command, env)
        deadline = clock.monotonic() + 60
        while clock.monotonic() < deadline:
            if not self.alive():
                raise SystemExit(f"gunicorn exited:\n{self.log_tail()}")
            try:
                with urllib.request.urlopen(f"{self.url}/healthz", timeout=5) as response:
                    if response.status == 200:
                        return
            except OSError:
                pass
            clock.sleep(0.2)
        raise SystemExit(f"gunicorn did not answer /healthz:\n{self.log_tail()}")


class CeleryWorker(Process):
    """One worker as `make run` starts it (default concurrency, log level info), on the bench's broker."""

    def __init__(self, env: dict[str, str]) -> None:
        command = [str(BIN / "celery"), "-A", "booking_site", "worker", "-l", "info", "-n", f"bench-{os.getpid()}@%h"]
        super().__init__("celery", command, {**env, "DJANGO_SETTINGS_MODULE": "booking_site.settings"})
        deadline = clock.monotonic() + 60
        while " ready." not in self.log.read_text(errors="replace"):
            if not self.alive() or clock.monotonic() > deadline:
                raise SystemExit(f"The Celery worker did not start:\n{self.log_tail()}")
            clock.sleep(0.2)


# --- wrk ------------------------------------------------------------------------------------------


@dataclass
class WrkResult:
    requests: int
    ok: int
    seconds: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    reused: int
    socket_errors: int
    timeouts: int
    statuses: dict[str, int]

    @property
    def rate(self) -> float:
        """2xx answers per second: a 4xx or 5xx is not served work."""
        return self.ok / self.seconds if self.seconds else 0.0

    @property
    def non_2xx(self) -> int:
        return self.requests - self.ok


BENCH_LINE = re.compile(r"^BENCH (.*)$", re.MULTILINE)


def parse_wrk(output: str) -> WrkResult:
    match = BENCH_LINE.search(output)
    if not match:
        raise RuntimeError(f"wrk printed no BENCH line:\n{output}")
    fields = dict(item.split("=", 1) for item in match.group(1).split())
    statuses = dict(pair.split(":") for pair in fields["statuses"].split(",") if pair)
    us = 1000.0
    return WrkResult(
        requests=int(fields["requests"]),
        ok=int(fields["ok"]),
        seconds=int(fields["duration_us"]) / 1e6,
        p50_ms=int(fields["p50_us"]) / us,
        p90_ms=int(fields["p90_us"]) / us,
        p99_ms=int(fields["p99_us"]) / us,
        max_ms=int(fields["max_us"]) / us,
        reused=int(fields["reused"]),
        socket_errors=int(fields["socket_errors"]),
        timeouts=int(fields["timeouts"]),
        statuses={k: int(v) for k, v in statuses.items()},
    )


def wrk_path() -> str:
    found = shutil.which("wrk")
    if not found:
        raise SystemExit("wrk is not installed: `make bench` installs it (apt-get install wrk).")
    return found


def run_wrk(
    url: str,
    *,
    connections: int,
    seconds: float,
    headers: dict[str, str] | None = None,
    method: str = "GET",
    bodies: list[str] | None = None,
) -> WrkResult:
    """`connections` keep-alive connections for `seconds`, closed loop; `bodies` one per request, in order."""
    threads = min(2, connections)
    connections -= connections % threads
    env = {**os.environ, "METHOD": method, "THREADS": str(threads)}
    body_file = None
    if bodies is not None:
        body_file = tempfile.NamedTemporaryFile("w", prefix="bench-bodies-", suffix=".jsonl", delete=False)
        body_file.write("\n".join(bodies) + "\n")
        body_file.close()
        env["BODIES"] = body_file.name
    command = [wrk_path(), "-t", str(threads), "-c", str(connections), "-d", f"{seconds:g}s", "--timeout", "30s",
               "-s", str(LUA)]  # fmt: skip
    for name, value in (headers or {}).items():
        command += ["-H", f"{name}: {value}"]
    try:
        finished = subprocess.run([*command, url], env=env, capture_output=True, text=True, timeout=seconds + 60)
    finally:
        if body_file is not None:
            os.unlink(body_file.name)
    if finished.returncode != 0:
        raise RuntimeError(f"wrk failed ({finished.returncode}):\n{finished.stdout}\n{finished.stderr}")
    return parse_wrk(finished.stdout)
