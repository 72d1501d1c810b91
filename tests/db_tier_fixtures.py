"""A real streaming replica and a real PgBouncer for the database-tier tests (tests/db_tier/).

Both are started once per session, only by the tests that ask for them, from the cluster DATABASE_URL
points at; each is skipped with the reason when this machine cannot run it (no PostgreSQL server
binaries, no replication permission, no pgbouncer). docs/decisions/0017-read-replica-and-pooler.md.
"""

import contextlib

import pytest
from django.db import DEFAULT_DB_ALIAS, connections

from booking_site.db_router import REPLICA
from tests.postgres_servers import PgBouncer, StreamingReplica, Unavailable, wait_for_replay


def _primary() -> dict:
    settings = connections[DEFAULT_DB_ALIAS].settings_dict
    return {"host": settings["HOST"] or "127.0.0.1", "port": int(settings["PORT"] or 5432), "user": settings["USER"]}


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
    primary = _primary()
    with django_db_blocker.unblock(), connections[DEFAULT_DB_ALIAS].cursor() as cursor:
        cursor.execute("SELECT rolreplication OR rolsuper FROM pg_roles WHERE rolname = current_user")
        if not cursor.fetchone()[0]:
            pytest.skip(f"no streaming replica: {primary['user']} may not open replication connections")
    replica = StreamingReplica(primary_host=primary["host"], primary_port=primary["port"], user=primary["user"])
    try:
        replica.start()
        yield {"host": "127.0.0.1", "port": replica.port}
    except Unavailable as reason:
        pytest.skip(f"no streaming replica: {reason}")
    except RuntimeError as failure:
        pytest.fail(str(failure))
    finally:
        replica.stop()


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
    """Until the replica has replayed everything the primary has committed so far (outside a transaction:
    tests/postgres_servers.py `wait_for_replay`)."""
    assert not connections[DEFAULT_DB_ALIAS].in_atomic_block, "only committed rows can reach the replica"
    with connections[DEFAULT_DB_ALIAS].cursor() as primary, connections[REPLICA].cursor() as replica:
        wait_for_replay(primary, replica, timeout=timeout)


# --- PgBouncer ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def pgbouncer(django_db_setup):
    """PgBouncer in transaction mode in front of the test cluster, on a free port: {"host", "port",
    "version", "prepared_statements"} (whether it can carry psycopg's prepared statements).

    A small pool, smaller than the race tests' threads: clients must queue for server connections, as
    they do under load in production."""
    primary = _primary()
    bouncer = PgBouncer(primary_host=primary["host"], primary_port=primary["port"], user=primary["user"], pool_size=4)
    try:
        bouncer.start()
        yield {
            "host": "127.0.0.1",
            "port": bouncer.port,
            "version": bouncer.version,
            "prepared_statements": bouncer.prepared_statements,
        }
    except Unavailable as reason:
        pytest.skip(f"no PgBouncer: {reason}")
    except RuntimeError as failure:
        pytest.fail(str(failure))
    finally:
        bouncer.stop()


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
