"""CORS on the public booking API: exact allowed origins only, and only under /api/v1/public/."""

import pytest
from django.test import Client

from tests.scheduling.conftest import open_all_day_provider

pytestmark = pytest.mark.django_db

ALLOWED = "https://www.clinic.example"
SERVICES = "/api/v1/public/services/"


@pytest.fixture(autouse=True)
def allowed_origins(settings, private_cache):
    settings.PUBLIC_API_ALLOWED_ORIGINS = [ALLOWED]


@pytest.fixture
def browser():
    return Client()


def preflight(browser, path, origin):
    return browser.options(
        path,
        HTTP_ORIGIN=origin,
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST",
        HTTP_ACCESS_CONTROL_REQUEST_HEADERS="content-type",
    )


def test_a_preflight_from_an_allowed_origin_is_answered(browser):
    response = preflight(browser, "/api/v1/public/bookings/", ALLOWED)

    assert response.status_code == 204
    assert response["Access-Control-Allow-Origin"] == ALLOWED
    assert "POST" in response["Access-Control-Allow-Methods"]
    allowed_headers = response["Access-Control-Allow-Headers"].lower()
    assert "content-type" in allowed_headers
    assert int(response["Access-Control-Max-Age"]) > 0
    assert "Origin" in response["Vary"]
    assert "Access-Control-Allow-Credentials" not in response


def test_a_response_to_an_allowed_origin_carries_its_origin(browser):
    open_all_day_provider()

    response = browser.get(SERVICES, HTTP_ORIGIN=ALLOWED)

    assert response.status_code == 200
    assert response["Access-Control-Allow-Origin"] == ALLOWED
    assert "Origin" in response["Vary"]


def test_an_error_to_an_allowed_origin_carries_it_too(browser):
    response = browser.get("/api/v1/public/bookings/not-a-token/", HTTP_ORIGIN=ALLOWED)

    assert response.status_code == 404
    assert response["Access-Control-Allow-Origin"] == ALLOWED


@pytest.mark.parametrize("origin", ["https://evil.example", "https://www.clinic.example.evil.example", "null"])
def test_another_origin_gets_no_cors_headers(browser, origin):
    for response in (preflight(browser, "/api/v1/public/bookings/", origin), browser.get(SERVICES, HTTP_ORIGIN=origin)):
        assert "Access-Control-Allow-Origin" not in response
        assert "Access-Control-Allow-Methods" not in response


@pytest.mark.parametrize("path", ["/api/v1/services/", "/api/v1/bookings/", "/"])
def test_other_paths_get_no_cors_headers_even_for_an_allowed_origin(browser, path):
    for response in (preflight(browser, path, ALLOWED), browser.get(path, HTTP_ORIGIN=ALLOWED)):
        assert "Access-Control-Allow-Origin" not in response


def test_no_origin_is_allowed_by_default(browser, settings):
    settings.PUBLIC_API_ALLOWED_ORIGINS = []

    assert "Access-Control-Allow-Origin" not in preflight(browser, SERVICES, ALLOWED)


def test_a_preflight_does_not_offer_idempotency_key_which_the_public_api_ignores(browser):
    response = preflight(browser, "/api/v1/public/bookings/", ALLOWED)

    allowed = {h.strip().lower() for h in response["Access-Control-Allow-Headers"].split(",")}
    assert allowed == {"accept", "accept-language", "content-type"}


def test_a_429_to_an_allowed_origin_carries_it_and_exposes_retry_after(browser, settings):
    settings.BOOKING_POST_RATE = (1, 60)
    codes = [browser.post("/api/v1/public/bookings/", {}, HTTP_ORIGIN=ALLOWED).status_code for _ in range(2)]
    response = browser.post("/api/v1/public/bookings/", {}, HTTP_ORIGIN=ALLOWED)

    assert codes[1] == response.status_code == 429
    assert response["Access-Control-Allow-Origin"] == ALLOWED
    assert response["Access-Control-Expose-Headers"] == "Retry-After" and int(response["Retry-After"]) > 0
