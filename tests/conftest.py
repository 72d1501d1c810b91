from uuid import uuid4

import pytest
from django.core.cache import cache


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _empty_cache():
    """Throttle counters and idempotency records live in the cache; no test inherits another's."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def private_cache(settings):
    """The configured Redis cache, on a database and key prefix of this test's own.

    Throttle counts live in the cache, and other test runs on this machine clear the shared database.
    """
    default = settings.CACHES["default"]
    location = default["LOCATION"].rsplit("/", 1)[0] + "/7"
    settings.CACHES = {"default": {**default, "LOCATION": location, "KEY_PREFIX": f"test-{uuid4().hex}"}}
