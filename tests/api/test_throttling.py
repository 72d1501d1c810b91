"""API throttles: booking POSTs per user, failed token authentications per client IP, and every
throttle letting requests through (and logging) when the cache is down."""

import time

import pytest
from rest_framework.test import APIClient

from tests.api.conftest import client_for
from tests.api.test_bookings_api import URL, booking_body
from tests.factories import UserFactory
from tests.scheduling.conftest import future_slot

pytestmark = pytest.mark.django_db

DOWN_CACHE = {"default": {"BACKEND": "booking_site.cache.RedisCache", "LOCATION": "redis://127.0.0.1:1/0"}}


@pytest.fixture
def rates(settings, private_cache):
    def set_rates(**rates: str) -> None:
        current = settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]
        settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {**current, **rates}}

    return set_rates


def test_booking_posts_are_throttled_per_user_with_retry_after(as_a, as_b, provider_a, provider_b, rates):
    rates(booking_post="2/min")
    codes = [
        as_a.post(URL, booking_body(provider_a, future_slot(hour=h)), format="json").status_code for h in (9, 10, 11)
    ]

    assert codes == [201, 201, 429]
    refused = as_a.post(URL, booking_body(provider_a, future_slot(hour=12)), format="json")
    assert refused.status_code == 429
    assert 0 < int(refused["Retry-After"]) <= 60
    assert refused.json()["code"] == "throttled"
    assert refused.json()["retry_after_seconds"] > 0
    # Another user is counted apart, and reads are not counted.
    assert as_b.post(URL, booking_body(provider_b, future_slot(hour=9)), format="json").status_code == 201
    assert as_a.get(URL).status_code == 200


def test_failed_token_authentications_are_throttled_per_client_ip(staff_a, rates):
    rates(token_failures="3/min")
    guesser = APIClient()
    codes = []
    for attempt in range(4):
        guesser.credentials(HTTP_AUTHORIZATION=f"Token wrong-{attempt}")
        codes.append(guesser.get(URL).status_code)

    assert codes == [401, 401, 401, 429]
    # Past the limit a correct token is refused too, so a guess is never confirmed ...
    refused = client_for(staff_a).get(URL)
    assert refused.status_code == 429
    assert int(refused["Retry-After"]) > 0
    assert refused.json()["code"] == "throttled"
    # ... while another address, and requests without a token, are not affected.
    assert client_for(staff_a).get(URL, REMOTE_ADDR="10.0.0.9").status_code == 200
    assert APIClient().get("/api/v1/providers/").status_code == 200


def test_successful_token_authentications_are_not_counted(staff_a, rates):
    rates(token_failures="2/min")
    client = client_for(staff_a)

    assert [client.get(URL).status_code for _ in range(5)] == [200] * 5


def test_with_the_cache_down_slots_and_bookings_still_answer_quickly_and_it_is_logged(
    as_a, provider_a, settings, caplog
):
    settings.CACHES = DOWN_CACHE
    started = time.monotonic()

    slots = APIClient().get(f"/api/v1/providers/{provider_a.pk}/slots/")
    booking = as_a.post(URL, booking_body(provider_a, future_slot()), format="json")
    wrong_token = APIClient(HTTP_AUTHORIZATION="Token nope").get(URL)

    assert (slots.status_code, booking.status_code, wrong_token.status_code) == (200, 201, 401)
    assert time.monotonic() - started < 3
    assert "cache unavailable" in caplog.text


def test_the_booking_throttle_costs_no_database_statement(provider_a, rates):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    rates(booking_post="1/min")
    client = client_for(UserFactory(is_superuser=True))
    client.post(URL, booking_body(provider_a, future_slot(hour=9)), format="json")
    with CaptureQueriesContext(connection) as statements:
        response = client.post(URL, booking_body(provider_a, future_slot(hour=10)), format="json")

    assert response.status_code == 429
    assert len(statements) <= 1  # the token lookup


def test_authenticated_slot_clients_have_their_own_higher_rate(anon, as_a, provider_a, rates):
    rates(slots="2/min", slots_user="5/min")
    url = f"/api/v1/providers/{provider_a.pk}/slots/"

    assert [anon.get(url).status_code for _ in range(3)] == [200, 200, 429]
    # Same client address, but a token: counted per user at the integrators' rate.
    assert [as_a.get(url).status_code for _ in range(6)] == [200] * 5 + [429]


def test_the_authenticated_slots_rate_is_configured_apart_and_higher_by_default():
    from booking_site import settings as configured

    rates = configured.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]
    assert rates["slots"] == "300/min" and rates["slots_user"] == "3000/min"
