"""The API answers in English whatever Accept-Language says (booking_site.middleware.PagesLocaleMiddleware):
it has no language contract, and integrators read its error texts as documented."""

from datetime import timedelta

import pytest
from django.utils import timezone

from tests.api.test_bookings_api import URL, booking_body
from tests.scheduling.conftest import future_slot, open_all_day_provider

pytestmark = pytest.mark.django_db


def test_a_domain_refusal_stays_english_for_a_german_client(as_a, staff_a):
    provider = open_all_day_provider(min_notice_minutes=1440)
    provider.staff.add(staff_a)
    soon = timezone.now().replace(second=0, microsecond=0) + timedelta(minutes=29)
    response = as_a.post(URL, booking_body(provider, soon), format="json", HTTP_ACCEPT_LANGUAGE="de")
    assert response.status_code == 400, response.json()
    assert response.json()["detail"] == "This service needs at least 1 day notice."
    assert response["Content-Language"] == "en"


def test_django_rest_framework_s_own_messages_stay_english_for_a_german_client(as_a, provider_a):
    body = booking_body(provider_a, future_slot(hour=9))
    del body["customer"]
    response = as_a.post(URL, body, format="json", HTTP_ACCEPT_LANGUAGE="de")
    assert response.status_code == 400
    assert response.json()["fields"]["customer"] == ["This field is required."]


def test_a_not_found_stays_english_for_a_german_client(as_a):
    english = as_a.get("/api/v1/providers/999999/")
    german = as_a.get("/api/v1/providers/999999/", HTTP_ACCEPT_LANGUAGE="de")
    assert german.status_code == english.status_code == 404
    assert german.json() == english.json()
