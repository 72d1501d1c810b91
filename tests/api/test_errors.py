"""No request makes a 500: out-of-range years, NUL characters, deep nesting, and Django's own errors
under /api/ all answer in the API's JSON error format (issue 11)."""

import pytest
from django.test import override_settings
from rest_framework.exceptions import ValidationError

from scheduling.api.fields import AwareDateTimeField
from tests.scheduling.conftest import future_slot

pytestmark = pytest.mark.django_db

EDGE_YEARS = ["9999-12-31", "0001-01-01"]


def customer():
    return {"name": "Ann", "email": "ann@example.com"}


def assert_invalid(response, field):
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["code"] == "invalid"
    assert body["fields"][field] == ["Use a date between 1900 and 2200."]


@pytest.fixture
def lenient(as_a):
    """Uncaught exceptions become the 500 response a real client would see, not a test error."""
    as_a.raise_request_exception = False
    return as_a


@pytest.mark.parametrize("day", EDGE_YEARS)
def test_slots_for_an_edge_year_are_a_400_naming_the_parameter(lenient, provider_a, day):
    assert_invalid(lenient.get(f"/api/v1/providers/{provider_a.pk}/slots/", {"start": day}), "start")
    assert_invalid(lenient.get(f"/api/v1/providers/{provider_a.pk}/slots/", {"start": "2030-01-01", "end": day}), "end")


@pytest.mark.parametrize("day", EDGE_YEARS)
def test_a_booking_start_in_an_edge_year_is_a_400_naming_the_field(lenient, provider_a, day):
    for start in (f"{day}T23:59:00Z", f"{day}T00:00:00-05:00"):
        body = {"provider": provider_a.pk, "start": start, "customer": customer()}
        assert_invalid(lenient.post("/api/v1/bookings/", body, format="json"), "start")


@pytest.mark.parametrize("day", EDGE_YEARS)
def test_booking_list_filters_in_an_edge_year_are_a_400(lenient, provider_a, day):
    assert_invalid(lenient.get("/api/v1/bookings/", {"start_after": f"{day}T00:00:00Z"}), "start_after")
    assert_invalid(lenient.get("/api/v1/bookings/", {"start_before": f"{day}T12:00:00-12:00"}), "start_before")


@pytest.mark.parametrize("day", EDGE_YEARS)
def test_a_blocked_time_in_an_edge_year_is_a_400(lenient, provider_a, day):
    body = {"start_at": f"{day}T00:00:00Z", "end_at": f"{day}T23:00:00Z"}
    response = lenient.post(f"/api/v1/providers/{provider_a.pk}/blocked-times/", body, format="json")
    assert_invalid(response, "start_at")
    assert not provider_a.blocked_times.exists()


def test_a_posted_datetime_with_a_trailing_nul_is_a_400(lenient, provider_a):
    body = {"provider": provider_a.pk, "start": future_slot().isoformat() + "\x00", "customer": customer()}
    response = lenient.post("/api/v1/bookings/", body, format="json")
    assert response.status_code == 400
    assert response.json()["code"] == "malformed_request"
    assert not provider_a.bookings.exists()


def test_the_datetime_field_itself_refuses_a_trailing_nul():
    """Django's lenient parser ignored it; the field must not rely on the JSON parser's NUL check."""
    with pytest.raises(ValidationError) as refused:
        AwareDateTimeField().run_validation("2030-03-15T13:00:00Z\x00")
    assert refused.value.detail == ["Enter a date and time in ISO 8601, e.g. 2027-03-15T13:00:00Z."]


def test_a_nul_in_any_json_string_is_a_400_that_says_where(lenient, provider_a):
    body = {"provider": provider_a.pk, "start": future_slot().isoformat(), "customer": {**customer(), "phone": "1\x00"}}
    response = lenient.post("/api/v1/bookings/", body, format="json")
    assert response.status_code == 400
    assert response.json() == {
        "code": "malformed_request",
        "detail": "JSON strings may not contain NUL characters (at customer.phone).",
    }
    assert not provider_a.bookings.exists()


def test_a_nul_in_a_query_parameter_is_a_json_400(lenient):
    response = lenient.get("/api/v1/bookings/?status=confirmed%00")
    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert response.json()["code"] == "malformed_request"


def test_deeply_nested_json_is_a_malformed_request(lenient, provider_a):
    for url in ("/api/v1/bookings/", f"/api/v1/providers/{provider_a.pk}/blocked-times/"):
        response = lenient.generic("POST", url, "[" * 100_000, content_type="application/json")
        assert response.status_code == 400
        assert response.json()["code"] == "malformed_request"


@override_settings(ROOT_URLCONF="tests.error_urls")
@pytest.mark.parametrize(
    ("path", "status", "code"),
    [
        ("/api/raise/bad-request/", 400, "malformed_request"),
        ("/api/raise/suspicious/", 400, "malformed_request"),
        ("/api/raise/permission-denied/", 403, "permission_denied"),
        ("/api/raise/not-found/", 404, "not_found"),
        ("/api/raise/crash/", 500, "server_error"),
    ],
)
def test_djangos_own_errors_under_api_are_json_never_html(client, path, status, code):
    client.raise_request_exception = False
    response = client.get(path)
    assert response.status_code == status
    assert response["Content-Type"] == "application/json"
    assert response.json()["code"] == code
    assert "<html" not in response.content.decode()
