"""A streaming replica and a PgBouncer beside the project-local PostgreSQL cluster, for the database-tier
tests (tests/db_tier_fixtures.py) and bench/db_tier.py (docs/decisions/0017-read-replica-and-pooler.md).

Neither pytest nor Django: the fixtures turn `Unavailable` into a skip with its reason, the bench into
an exit with it. Both servers run as the postgres user when we are root (PostgreSQL refuses root, as
scripts/services.sh knows), in a private directory each, on a free port; `stop()` removes everything
`start()` made, whatever state it got to.
"""

import glob
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

# PgBouncer 1.21 keeps track of prepared statements across server connections in transaction mode.
PREPARED_STATEMENTS_SINCE = (1, 21)


class Unavailable(Exception):
    """This machine cannot run the server; the message says why."""


def pg_tool(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), reverse=True)
    return candidates[0] if candidates else None


def as_postgres(command: list[str]) -> list[str]:
    """As root, servers run as the postgres user."""
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command


def private_dir(prefix: str) -> Path:
    path = Path(tempfile.mkdtemp(prefix=prefix))
    if os.geteuid() == 0:
        shutil.chown(path, "postgres", "postgres")
    path.chmod(0o700)
    return path


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def accepts(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(0.2)
        return probe.connect_ex(("127.0.0.1", port)) == 0


def tail(path: Path, chars: int = 1500) -> str:
    try:
        return path.read_text(errors="replace")[-chars:]
    except OSError:
        return ""


def run(command: list[str], *, timeout: float) -> subprocess.CompletedProcess:
    # cwd /: the postgres user may not be allowed into the checkout.
    return subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False, cwd="/")


@dataclass
class StreamingReplica:
    """A hot standby of the cluster at `primary_host`:`primary_port`, cloned with
    `pg_basebackup -R -X stream` (a physical copy of the whole cluster, so every database, and everything
    written to it later, streams over). `cluster_name` is its application_name in pg_stat_replication."""

    primary_host: str
    primary_port: int
    user: str
    dir_prefix: str = "booking-replica-"
    cluster_name: str = ""
    port: int = 0
    data: Path | None = None

    def start(self) -> None:
        tools = {name: pg_tool(name) for name in ("pg_basebackup", "pg_ctl")}
        if missing := [name for name, path in tools.items() if path is None]:
            raise Unavailable(f"{', '.join(missing)} not installed (Debian: postgresql-15)")
        if os.geteuid() == 0 and shutil.which("runuser") is None:
            raise Unavailable("running as root without runuser to start PostgreSQL as postgres")
        self.data = private_dir(self.dir_prefix)
        clone = run(
            as_postgres(
                [
                    *(tools["pg_basebackup"], "-R", "-X", "stream", "--checkpoint=fast", "-D", str(self.data)),
                    *("-h", self.primary_host, "-p", str(self.primary_port), "-U", self.user),
                ]
            ),
            timeout=600,
        )
        if clone.returncode != 0:
            # Most often a pg_hba.conf without a `host replication` line for this address.
            raise Unavailable(f"pg_basebackup failed: {clone.stderr.strip()[-500:]}")
        self.port = free_port()
        options = (
            f"-p {self.port} -c listen_addresses=127.0.0.1 -c unix_socket_directories={self.data}"
            " -c hot_standby=on -c fsync=off -c wal_receiver_status_interval=1s"
        )
        if self.cluster_name:
            options += f" -c cluster_name={self.cluster_name}"
        log = self.data / "server.log"
        started = run(
            as_postgres([tools["pg_ctl"], "-D", str(self.data), "-l", str(log), "-o", options, "-w", "-t", "120",
                         "start"]),
            timeout=180,
        )  # fmt: skip
        if started.returncode != 0:
            raise RuntimeError(f"the replica did not start: {started.stderr.strip()} {tail(log)}")

    def stop(self) -> None:
        if self.data is None:
            return
        if (self.data / "postmaster.pid").exists():
            run(as_postgres([pg_tool("pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w", "stop"]), timeout=60)
        shutil.rmtree(self.data, ignore_errors=True)
        self.data = None


def wait_for_replay(primary, replica, *, timeout: float = 30) -> float:
    """Until the replica has replayed every commit the primary has made so far; the seconds waited.

    `primary` and `replica` are DB-API cursors on connections in autocommit mode, outside any
    transaction. The cluster commits asynchronously (synchronous_commit = off, scripts/services.sh): a
    commit may still sit in the primary's WAL buffers, unsent, and `pg_current_wal_lsn()` (the write
    position) can be short of it. One synchronous commit of our own flushes everything before it; it
    flushes only if its transaction wrote WAL, and a transactional logical message is the smallest such
    write (any wal_level, no table touched). The flush position then covers every commit so far.
    """
    started = time.monotonic()
    primary.execute("BEGIN")
    primary.execute("SET LOCAL synchronous_commit = on")
    primary.execute("SELECT pg_logical_emit_message(true, 'wait_for_replay', '')")
    primary.execute("COMMIT")
    primary.execute("SELECT pg_current_wal_flush_lsn()")
    target = primary.fetchone()[0]
    while True:
        replica.execute("SELECT pg_wal_lsn_diff(pg_last_wal_replay_lsn(), %s) >= 0", [target])
        if replica.fetchone()[0]:
            return time.monotonic() - started
        if time.monotonic() - started > timeout:
            raise AssertionError(f"the replica did not replay up to {target} within {timeout:.0f}s")
        time.sleep(0.02)


@dataclass
class PgBouncer:
    """PgBouncer in transaction mode in front of the cluster at `primary_host`:`primary_port`, with a pool
    of `pool_size` server connections per database and user, trusting `user`."""

    primary_host: str
    primary_port: int
    user: str
    pool_size: int
    dir_prefix: str = "booking-pgbouncer-"
    port: int = 0
    version: tuple[int, ...] = ()
    workdir: Path | None = None
    process: subprocess.Popen | None = None

    @property
    def prepared_statements(self) -> bool:
        """Whether it can carry psycopg's statements prepared by name."""
        return self.version >= PREPARED_STATEMENTS_SINCE

    def start(self) -> None:
        binary = shutil.which("pgbouncer") or ("/usr/sbin/pgbouncer" if Path("/usr/sbin/pgbouncer").exists() else None)
        if binary is None:
            raise Unavailable("the pgbouncer package is not installed (Debian: apt-get install pgbouncer)")
        first = run([binary, "--version"], timeout=10).stdout.split("\n", 1)[0]  # "PgBouncer 1.18.0"
        self.version = tuple(int(part) for part in first.split()[-1].split(".")[:2])
        self.workdir = private_dir(self.dir_prefix)
        self.port = free_port()
        (self.workdir / "users.txt").write_text(f'"{self.user}" ""\n')
        lines = [
            "[databases]",
            f"* = host={self.primary_host} port={self.primary_port}",
            "[pgbouncer]",
            "listen_addr = 127.0.0.1",
            f"listen_port = {self.port}",
            f"unix_socket_dir = {self.workdir}",
            "auth_type = trust",
            f"auth_file = {self.workdir / 'users.txt'}",
            "pool_mode = transaction",
            f"admin_users = {self.user}",
            f"default_pool_size = {self.pool_size}",
            "max_client_conn = 200",
            "server_reset_query =",
            # Django sets these at connect (psycopg's options); PgBouncer must not refuse them.
            "ignore_startup_parameters = extra_float_digits,options",
            f"logfile = {self.workdir / 'pgbouncer.log'}",
            f"pidfile = {self.workdir / 'pgbouncer.pid'}",
        ]
        if self.prepared_statements:
            lines.append("max_prepared_statements = 200")
        (self.workdir / "pgbouncer.ini").write_text("\n".join(lines) + "\n")
        if os.geteuid() == 0:
            for path in self.workdir.iterdir():
                shutil.chown(path, "postgres", "postgres")
        self.process = subprocess.Popen(
            as_postgres([binary, str(self.workdir / "pgbouncer.ini")]),
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd="/", start_new_session=True,
        )  # fmt: skip
        deadline = time.monotonic() + 20
        while not accepts(self.port):
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"PgBouncer did not start: {tail(self.workdir / 'pgbouncer.log')}")
            time.sleep(0.05)

    def stop(self) -> None:
        if self.process is not None:
            pidfile = self.workdir / "pgbouncer.pid"
            daemon = int(pidfile.read_text().strip()) if pidfile.exists() else None
            if self.process.poll() is None:
                self.process.terminate()  # runuser passes it on to pgbouncer
                try:
                    self.process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    self.process.kill()
                    self.process.wait()
            if daemon is not None and "pgbouncer" in tail(Path(f"/proc/{daemon}/cmdline")):
                os.kill(daemon, signal.SIGKILL)  # still there after runuser went: ours, by its pid file
            self.process = None
        if self.workdir is not None:
            shutil.rmtree(self.workdir, ignore_errors=True)
            self.workdir = None
