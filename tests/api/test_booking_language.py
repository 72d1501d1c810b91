"""The API's optional `language`: validated against settings.LANGUAGES, kept on the booking, returned."""

import pytest

from tests.api.test_bookings_api import URL, booking_body
from tests.scheduling.conftest import future_slot

pytestmark = pytest.mark.django_db


def test_a_booking_made_in_german_is_kept_in_german(as_a, provider_a):
    body = {**booking_body(provider_a, future_slot(hour=9)), "language": "de"}
    response = as_a.post(URL, body, format="json")
    assert response.status_code == 201, response.json()
    assert response.json()["language"] == "de"


def test_without_a_language_the_request_s_accept_language_is_used(as_a, provider_a):
    response = as_a.post(URL, booking_body(provider_a, future_slot(hour=9)), format="json", HTTP_ACCEPT_LANGUAGE="de")
    assert response.json()["language"] == "de"


def test_without_any_language_the_site_default_is_used(as_a, provider_a):
    assert as_a.post(URL, booking_body(provider_a, future_slot(hour=9)), format="json").json()["language"] == "en"


def test_an_unknown_language_is_a_400_naming_the_field(as_a, provider_a):
    body = {**booking_body(provider_a, future_slot(hour=9)), "language": "xx"}
    response = as_a.post(URL, body, format="json")
    assert response.status_code == 400
    assert "language" in response.json()["fields"]
