"""Property-based API fuzzing from our own OpenAPI schema: no 5xx, every response as documented, and
schema-valid requests accepted, one operation at a time and in chains that follow the responses (a
created provider's id fed to its rules, slots and deletion; a booking's to its transitions)."""

import os

import pytest
import schemathesis
from django.core import signals
from django.core.cache import cache
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections, transaction
from hypothesis import HealthCheck, settings
from rest_framework.authtoken.models import Token

from tests.factories import BookingFactory, ServiceFactory, UserFactory
from tests.scheduling.conftest import open_all_day_provider

# Schema-valid is not the same as acceptable: a booking start in the past or off the slot grid, an RRULE
# that does not parse, a blocked time that ends before it starts, a zone that does not exist, a second
# provider with the same slug, a refund of a booking nothing was paid for, a waitlist window already
# over. These operations document 400 for that, and only for these is a 400 to schema-valid data
# accepted; every other operation must accept every schema-valid request. A provider's slots without
# `service` and a service's slots for a `provider` not offering it are 400s too.
SEMANTIC_400 = [
    "providers_create",
    "providers_partial_update",
    "providers_availability_rules_create",
    "providers_availability_rules_partial_update",
    "providers_blocked_times_create",
    "providers_slots_retrieve",
    "services_create",
    "services_partial_update",
    "services_slots_retrieve",
    "bookings_create",
    "bookings_reschedule",
    "bookings_refund",  # nothing paid, or more than was paid
    "waitlist_create",  # a window already over or longer than 92 days, half a time-of-day range
    "providers_calendar_connections_create",  # a URL that is not http(s)
    "providers_calendar_connections_partial_update",
    "webhooks_create",  # an ftp:// URL (a URLField takes it; webhooks are http(s) only)
    "webhooks_partial_update",
    "public_services_slots_retrieve",  # a provider not offering the service
    "public_bookings_create",  # as bookings_create
    "public_bookings_reschedule",  # as bookings_reschedule (reached with a real token only in a chain)
]
ACCEPTED = ["2xx", "401", "403", "404", "409", "429"]
# A generated Idempotency-Key may repeat with another generated body: the documented 422.
IDEMPOTENT_422 = ["bookings_create", "bookings_reschedule"]
# The same examples on every run, so `make test` (and CI) passes or fails on the code alone, not on
# the draw; SCHEMATHESIS_EXPLORE=1 draws new ones, to hunt for what a fixed draw never sends.
DERANDOMIZE = os.environ.get("SCHEMATHESIS_EXPLORE") != "1"
TOKEN = "fuzz" * 10  # the superuser's token (made by the fixture below), as schemathesis' own auth

CONFIG = schemathesis.Config.from_dict(
    {
        "auth": {"openapi": {"tokenAuth": {"api_key": f"Token {TOKEN}"}}},
        # A NUL anywhere in a body or query is the documented 400 `malformed_request` of every operation
        # (tests/api/test_errors.py covers it), not a schema-valid request being rejected.
        "generation": {"allow-x00": False},
        "checks": {
            "positive_data_acceptance": {"enabled": True, "expected-statuses": ACCEPTED},
            # DELETE of a provider that has bookings deactivates it and answers 200 (documented): its
            # rules and bookings stay readable, which this check would call use after delete.
            "use_after_free": {"enabled": False},
        },
        "operations": [
            {
                "include-operation-id": operation_id,
                "checks": {
                    "positive_data_acceptance": {
                        "expected-statuses": [*ACCEPTED, "400", *(["422"] if operation_id in IDEMPOTENT_422 else [])]
                    }
                },
            }
            for operation_id in SEMANTIC_400
        ],
    }
)
schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", get_wsgi_application(), config=CONFIG)

pytestmark = [pytest.mark.django_db, pytest.mark.slow]

# Enough for every operation to get past its path parameters and body at least a few times (the
# stateful phase reaches the ones that need an id made earlier), few enough to keep the module under a
# minute within `make test`'s ten. SCHEMATHESIS_EXAMPLES=100 (with SCHEMATHESIS_EXPLORE=1) digs deeper.
EXAMPLES_PER_OPERATION = int(os.environ.get("SCHEMATHESIS_EXAMPLES", "20"))
STATEFUL_SCENARIOS = 40


@pytest.fixture(autouse=True)
def _keep_the_test_connection_open():
    """Django's own test client does this too: a request must not close the test transaction's connection."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def superuser_token(db):
    """A superuser, so that creating and deleting providers is reachable too; the provider is open all day,
    so a generated start on its grid is bookable, by provider or by the service it shares with another."""
    user = UserFactory(username="fuzzer", is_superuser=True)
    provider = open_all_day_provider(slug="fuzzed")
    provider.staff.add(user)
    BookingFactory(provider=provider)
    ServiceFactory(providers=[provider, open_all_day_provider(slug="fuzzed-too")], slug="fuzzed-shared")
    return Token.objects.create(user=user, key=TOKEN).key


@schema.parametrize()
@settings(
    max_examples=EXAMPLES_PER_OPERATION,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=DERANDOMIZE,
)
def test_api_conforms_to_its_schema_and_never_fails_with_a_5xx(case, superuser_token):
    case.call_and_validate()


class ChainedCalls(schema.as_state_machine()):
    """Each scenario starts from the fixture's data: Hypothesis replays choice sequences and requires the
    same choices to build the same steps, which fails when one scenario's rows (or throttle counters)
    change what the next one's responses offer to chain on."""

    def setup(self) -> None:
        cache.clear()
        self.savepoint = transaction.savepoint()

    def teardown(self) -> None:
        transaction.savepoint_rollback(self.savepoint)


def test_chained_calls_conform_to_the_schema_and_never_fail_with_a_5xx(superuser_token):
    ChainedCalls.run(
        settings=settings(
            max_examples=STATEFUL_SCENARIOS,
            stateful_step_count=8,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            derandomize=DERANDOMIZE,
        )
    )
