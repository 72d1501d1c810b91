"""A real streaming replica and a real PgBouncer for the database-tier tests (tests/db_tier/).

Both are started once per session, only by the tests that ask for them, from the cluster DATABASE_URL
points at; each is skipped with the reason when this machine cannot run it (no PostgreSQL server
binaries, no replication permission, no pgbouncer). docs/decisions/0017-read-replica-and-pooler.md.
"""

import contextlib
import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest
from django.db import DEFAULT_DB_ALIAS, connections, transaction

from booking_site.db_router import REPLICA


def _tool(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), reverse=True)
    return candidates[0] if candidates else None


def _as_owner(command: list[str]) -> list[str]:
    """PostgreSQL refuses to run as root: as root, servers run as the postgres user (as scripts/services.sh)."""
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command


def _private_dir(prefix: str) -> Path:
    path = Path(tempfile.mkdtemp(prefix=prefix))
    if os.geteuid() == 0:
        shutil.chown(path, "postgres", "postgres")
    path.chmod(0o700)
    return path


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _primary() -> dict:
    settings = connections[DEFAULT_DB_ALIAS].settings_dict
    return {"host": settings["HOST"] or "127.0.0.1", "port": str(settings["PORT"] or 5432), "user": settings["USER"]}


def _run(command: list[str], *, timeout: float) -> subprocess.CompletedProcess:
    return subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False)


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix):
    """A replica configured for the run (DATABASE_REPLICA_URL) is a test mirror of the test database:
    the replica of a production-like setup has no test database, and `replica_for_reads()` keeps a
    mirror's reads on the primary's connection, which the tests' transactions cover. The tests that
    need a real replica start their own (`streaming_replica`)."""
    if REPLICA in connections.settings:
        connections.settings[REPLICA].setdefault("TEST", {})["MIRROR"] = DEFAULT_DB_ALIAS


@pytest.fixture(scope="session")
def streaming_replica(django_db_setup, django_db_blocker):
    """A hot standby of the test cluster on a free port: {"host", "port"}.

    Cloned with `pg_basebackup -R -X stream` (a physical copy of the whole cluster, so the test database,
    and everything written to it later, streams over). Stopped and deleted at the end of the session.
    """
    tools = {name: _tool(name) for name in ("pg_basebackup", "pg_ctl")}
    if missing := [name for name, path in tools.items() if path is None]:
        pytest.skip(f"no streaming replica: {', '.join(missing)} not installed (Debian: postgresql-15)")
    if os.geteuid() == 0 and shutil.which("runuser") is None:
        pytest.skip("no streaming replica: running as root without runuser to start PostgreSQL as postgres")
    primary = _primary()
    with django_db_blocker.unblock(), connections[DEFAULT_DB_ALIAS].cursor() as cursor:
        cursor.execute("SELECT rolreplication OR rolsuper FROM pg_roles WHERE rolname = current_user")
        if not cursor.fetchone()[0]:
            pytest.skip(f"no streaming replica: {primary['user']} may not open replication connections")
    data = _private_dir("booking-replica-")
    clone = _run(
        _as_owner(
            [
                *(tools["pg_basebackup"], "-R", "-X", "stream", "--checkpoint=fast", "-D", str(data)),
                *("-h", primary["host"], "-p", primary["port"], "-U", primary["user"]),
            ]
        ),
        timeout=600,
    )
    if clone.returncode != 0:
        shutil.rmtree(data, ignore_errors=True)
        # Most often a pg_hba.conf without a `host replication` line for this address.
        pytest.skip(f"no streaming replica: pg_basebackup failed: {clone.stderr.strip()[-500:]}")
    port = _free_port()
    server_options = (
        f"-p {port} -c listen_addresses=127.0.0.1 -c unix_socket_directories={data} -c hot_standby=on"
        " -c fsync=off -c wal_receiver_status_interval=1s"
    )
    log = data / "server.log"
    started = _run(
        _as_owner([tools["pg_ctl"], "-D", str(data), "-l", str(log), "-o", server_options, "-w", "-t", "120", "start"]),
        timeout=180,
    )
    try:
        if started.returncode != 0:
            pytest.fail(f"the replica did not start: {started.stderr.strip()} {_tail(log)}")
        yield {"host": "127.0.0.1", "port": port}
    finally:
        _run(_as_owner([tools["pg_ctl"], "-D", str(data), "-m", "immediate", "-w", "stop"]), timeout=60)
        shutil.rmtree(data, ignore_errors=True)


def _tail(path: Path) -> str:
    with contextlib.suppress(OSError):
        return path.read_text(errors="replace")[-1500:]
    return ""


@pytest.fixture(scope="module")
def replica_alias(streaming_replica):
    """The `replica` alias, pointing at the streaming replica, for the tests of one module.

    Module-scoped so that it exists before a test's database setup, which refuses an alias it does not
    know (`django_db(databases=[..., "replica"])`). Between tests it is marked a test mirror: the flush
    after a transactional test skips mirrors (the replica is read-only), and `replica_for_reads()` sends
    no read to a mirror. `replica_database` lifts that for one test.
    """
    primary = connections[DEFAULT_DB_ALIAS].settings_dict
    connections.settings[REPLICA] = {
        **primary,
        "HOST": streaming_replica["host"],
        "PORT": str(streaming_replica["port"]),
        "TEST": {**primary["TEST"], "MIRROR": DEFAULT_DB_ALIAS},
    }
    with contextlib.suppress(AttributeError):
        del connections[REPLICA]
    yield REPLICA
    connections[REPLICA].close()
    del connections[REPLICA]
    del connections.settings[REPLICA]


@pytest.fixture
def replica_database(replica_alias, transactional_db):
    """Availability reads of this test go to the streaming replica (the test needs
    `django_db(transaction=True, databases=["default", "replica"])`: the replica only ever sees
    committed data)."""
    test_settings = connections.settings[REPLICA]["TEST"]
    test_settings["MIRROR"] = None
    yield REPLICA
    test_settings["MIRROR"] = DEFAULT_DB_ALIAS


def wait_for_replica(timeout: float = 30) -> None:
    """Until the replica has replayed everything the primary has committed so far.

    The test cluster commits asynchronously (synchronous_commit = off, scripts/services.sh): a commit
    may still sit in the primary's WAL buffers, unsent, and `pg_current_wal_lsn()` (the write position)
    can be short of it. One synchronous commit of our own flushes everything before it; the flush
    position then covers every commit so far. The commit flushes only if its transaction wrote WAL:
    a transactional logical message is the smallest such write (any wal_level, no table touched).
    """
    with transaction.atomic(using=DEFAULT_DB_ALIAS), connections[DEFAULT_DB_ALIAS].cursor() as cursor:
        cursor.execute("SET LOCAL synchronous_commit = on")
        cursor.execute("SELECT pg_logical_emit_message(true, 'wait_for_replica', '')")
    with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
        cursor.execute("SELECT pg_current_wal_flush_lsn()")
        target = cursor.fetchone()[0]
    deadline = time.monotonic() + timeout
    with connections[REPLICA].cursor() as cursor:
        while True:
            cursor.execute("SELECT pg_wal_lsn_diff(pg_last_wal_replay_lsn(), %s) >= 0", [target])
            if cursor.fetchone()[0]:
                return
            if time.monotonic() > deadline:
                raise AssertionError(f"the replica did not replay up to {target} within {timeout}s")
            time.sleep(0.02)


# --- PgBouncer ---------------------------------------------------------------------------------------------


def _pgbouncer_version(binary: str) -> tuple[int, ...]:
    first = _run([binary, "--version"], timeout=10).stdout.split("\n", 1)[0]  # "PgBouncer 1.18.0"
    return tuple(int(part) for part in first.split()[-1].split(".")[:2])


# PgBouncer 1.21 keeps track of prepared statements across server connections in transaction mode.
PREPARED_STATEMENTS_SINCE = (1, 21)


@pytest.fixture(scope="session")
def pgbouncer(django_db_setup):
    """PgBouncer in transaction mode in front of the test cluster, on a free port: {"host", "port",
    "version", "prepared_statements"} (whether it can carry psycopg's prepared statements)."""
    binary = shutil.which("pgbouncer") or ("/usr/sbin/pgbouncer" if Path("/usr/sbin/pgbouncer").exists() else None)
    if binary is None:
        pytest.skip("no PgBouncer: the pgbouncer package is not installed (Debian: apt-get install pgbouncer)")
    version = _pgbouncer_version(binary)
    prepared = version >= PREPARED_STATEMENTS_SINCE
    primary = _primary()
    workdir = _private_dir("booking-pgbouncer-")
    port = _free_port()
    (workdir / "users.txt").write_text(f'"{primary["user"]}" ""\n')
    config = workdir / "pgbouncer.ini"
    # A small pool, smaller than the race tests' threads: clients must queue for server connections, as
    # they do under load in production.
    lines = [
        "[databases]",
        f"* = host={primary['host']} port={primary['port']}",
        "[pgbouncer]",
        "listen_addr = 127.0.0.1",
        f"listen_port = {port}",
        f"unix_socket_dir = {workdir}",
        "auth_type = trust",
        f"auth_file = {workdir / 'users.txt'}",
        "pool_mode = transaction",
        f"admin_users = {primary['user']}",
        "default_pool_size = 4",
        "max_client_conn = 200",
        "server_reset_query =",
        # Django sets these at connect (psycopg's options); PgBouncer must not refuse them.
        "ignore_startup_parameters = extra_float_digits,options",
        f"logfile = {workdir / 'pgbouncer.log'}",
        f"pidfile = {workdir / 'pgbouncer.pid'}",
    ]
    if prepared:
        lines.append("max_prepared_statements = 200")
    config.write_text("\n".join(lines) + "\n")
    if os.geteuid() == 0:
        for path in workdir.iterdir():
            shutil.chown(path, "postgres", "postgres")
    process = subprocess.Popen(
        _as_owner([binary, str(config)]), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    try:
        deadline = time.monotonic() + 20
        while not _accepts(port):
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"PgBouncer did not start: {process.stderr.read() if process.stderr else ''}")
            time.sleep(0.05)
        yield {"host": "127.0.0.1", "port": port, "version": version, "prepared_statements": prepared}
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
        shutil.rmtree(workdir, ignore_errors=True)


def _accepts(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(0.2)
        return probe.connect_ex(("127.0.0.1", port)) == 0


def pooled_settings(settings_dict: dict, bouncer: dict) -> dict:
    """`settings_dict` reaching the database through `bouncer`, as settings.py configures it for
    DB_TRANSACTION_POOLER=1: no server-side cursors, and no statement prepared by name unless this
    PgBouncer can carry it."""
    options = dict(settings_dict.get("OPTIONS", {}))
    if not bouncer["prepared_statements"] and options.get("server_side_binding"):
        options["prepare_threshold"] = None
    return {
        **settings_dict,
        "HOST": bouncer["host"],
        "PORT": str(bouncer["port"]),
        "OPTIONS": options,
        "DISABLE_SERVER_SIDE_CURSORS": True,
    }


@pytest.fixture
def through_pgbouncer(pgbouncer):
    """Every connection this test opens on the default alias, in any thread, goes through PgBouncer."""
    settings_dict = connections.settings[DEFAULT_DB_ALIAS]
    saved = dict(settings_dict)
    connections[DEFAULT_DB_ALIAS].close()
    # In place: the connections of other threads are built from this same dict.
    settings_dict.update(pooled_settings(saved, pgbouncer))
    yield pgbouncer
    connections[DEFAULT_DB_ALIAS].close()
    settings_dict.clear()
    settings_dict.update(saved)


def pytest_generate_tests(metafunc):
    """A test marked `also_through_pgbouncer` runs twice: straight to PostgreSQL, and through PgBouncer.
    `also_through_pgbouncer(False)` on a test opts it out of its module's mark."""
    marker = metafunc.definition.get_closest_marker("also_through_pgbouncer")
    if marker is None or marker.args == (False,):
        return
    metafunc.fixturenames.append("database_path")
    metafunc.parametrize("database_path", ["postgres", "pgbouncer"], indirect=True)


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items):
    """The PgBouncer run of a test is transactional: a test wrapped in one transaction would hold one
    server connection throughout and never meet what transaction pooling changes. First, so that
    pytest-django's ordering (transactional tests last, after those that read migrations' rows) sees it."""
    for item in items:
        callspec = getattr(item, "callspec", None)
        if callspec is None or callspec.params.get("database_path") != "pgbouncer":
            continue
        marker = item.get_closest_marker("django_db")
        kwargs = {**(marker.kwargs if marker else {}), "transaction": True}
        item.add_marker(pytest.mark.django_db(**kwargs), append=False)


@pytest.fixture
def database_path(request):
    if request.param == "pgbouncer":
        request.getfixturevalue("through_pgbouncer")
    return request.param
