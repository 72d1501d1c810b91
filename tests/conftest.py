import subprocess
from pathlib import Path
from uuid import uuid4

import pytest
from django.core.cache import cache
from django.db.backends.postgresql.operations import DatabaseOperations
from django.utils import translation

# localstripe_server and stripe_local: a fake Stripe for every test that pays. streaming_replica and
# pgbouncer: the database tier (tests/db_tier/). calendar_server and radicale: calendar sync. receiver: webhooks.
pytest_plugins = [
    "tests.stripe_fixtures",
    "tests.calendar_fixtures",
    "tests.caldav_fixtures",
    "tests.db_tier_fixtures",
    "tests.webhook_fixtures",
]

LOCALE = Path(__file__).resolve().parent.parent / "locale"


def pytest_sessionstart(session):
    """Compile any catalogue whose .mo is missing or older than its .po (`make test` compiles too,
    scripts/messages.sh): .mo files are build output, not committed, and a stale one would test
    yesterday's German."""
    for po in LOCALE.glob("*/LC_MESSAGES/*.po"):
        mo = po.with_suffix(".mo")
        if not mo.exists() or mo.stat().st_mtime < po.stat().st_mtime:
            subprocess.run(["msgfmt", "--check-format", "-o", str(mo), str(po)], check=True)


# Rows a transactional test may leave in one table before its flush truncates instead of deleting.
FLUSH_DELETE_LIMIT = 500


@pytest.fixture(scope="session", autouse=True)
def _flush_by_delete():
    """Every transactional test (page tests, races, real processes: about 200 a run) ends with a flush
    of all tables. PostgreSQL's TRUNCATE gives each table and index a new file, about half a second
    for the whole schema; a DELETE of the few rows a test leaves takes a few milliseconds. Every
    foreign key Django creates is deferrable and deferred, so the deletes may run in any order. A test
    that left many rows in some table (where DELETE and its row triggers would cost more) gets the
    TRUNCATE, as before. Resetting sequences keeps Django's own statement."""
    original = DatabaseOperations.sql_flush

    def sql_flush(self, style, tables, *, reset_sequences=False, allow_cascade=False):
        statements = original(self, style, tables, reset_sequences=reset_sequences, allow_cascade=allow_cascade)
        if reset_sequences or len(statements) != 1:
            return statements
        names = ", ".join("'" + name.replace("'", "''") + "'" for name in tables)
        return [
            f"""DO $flush$
            DECLARE
                name text;
                many boolean;
            BEGIN
                FOREACH name IN ARRAY ARRAY[{names}]::text[] LOOP
                    EXECUTE format('SELECT EXISTS (SELECT FROM %I OFFSET {FLUSH_DELETE_LIMIT})', name) INTO many;
                    IF many THEN
                        EXECUTE $truncate${statements[0].rstrip(";")}$truncate$;
                        RETURN;
                    END IF;
                END LOOP;
                FOREACH name IN ARRAY ARRAY[{names}]::text[] LOOP
                    EXECUTE format('DELETE FROM %I', name);
                END LOOP;
            END
            $flush$"""
        ]

    DatabaseOperations.sql_flush = sql_flush
    yield
    DatabaseOperations.sql_flush = original


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _site_language():
    """LocaleMiddleware activates a request's language in the test's thread and leaves it active: a
    German page test must not make the next test read German."""
    yield
    translation.deactivate()


@pytest.fixture(autouse=True)
def _empty_cache():
    """Throttle counters and idempotency records live in the cache; no test inherits another's."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _webhooks_sent_in_the_tests_thread(settings):
    """A test's rows are uncommitted, so invisible to the threads that send to several endpoints at once;
    tests/notifications/test_webhook_sending.py covers those threads with committed rows."""
    settings.WEBHOOK_SEND_CONCURRENCY = 1


@pytest.fixture(autouse=True)
def _no_wake_up_pending():
    """A wake-up flag left by an earlier test (its drain task queued on a broker nobody consumes here)
    would hold back this test's wake-ups (notifications/wakeup.py)."""
    from notifications import wakeup

    wakeup.client().delete(*(wakeup.flag_key(name) for name in wakeup.OUTBOXES))


@pytest.fixture
def private_cache(settings):
    """The configured Redis cache, on a database and key prefix of this test's own.

    Throttle counts live in the cache, and other test runs on this machine clear the shared database.
    """
    default = settings.CACHES["default"]
    location = default["LOCATION"].rsplit("/", 1)[0] + "/7"
    settings.CACHES = {"default": {**default, "LOCATION": location, "KEY_PREFIX": f"test-{uuid4().hex}"}}
