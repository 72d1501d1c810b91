import subprocess
from pathlib import Path
from uuid import uuid4

import pytest
from django.core.cache import cache
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
