"""API v1's provider keeps its booking fields, which stand for its default service now (issue 12)."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from scheduling.models import Provider
from tests.api.conftest import grant
from tests.api.test_bookings_api import URL, booking_body
from tests.api.test_providers_api import PROVIDER
from tests.factories import ProviderFactory, ServiceFactory, service_of
from tests.scheduling.conftest import future_slot

pytestmark = pytest.mark.django_db

SETTINGS_AS_SERVICE = {
    "duration_minutes": 30, "slot_step_minutes": 15, "buffer_before_minutes": 5, "buffer_after_minutes": 10,
    "min_notice_minutes": 60, "max_advance_days": 30, "requires_confirmation": True, "hold_minutes": 15,
    "reminder_lead_minutes": [1440, 60], "free_cancel_hours": 24, "currency": "USD",
}  # fmt: skip


@pytest.fixture(autouse=True)
def _staff_a_may_also_add_providers(staff_a):
    grant(staff_a, "add_provider")


def test_a_provider_created_with_the_old_fields_gets_its_own_service_with_them(as_a):
    response = as_a.post("/api/v1/providers/", PROVIDER, format="json")
    assert response.status_code == 201, response.json()
    provider = Provider.objects.get(pk=response.json()["id"])
    service = service_of(provider)
    assert {name: getattr(service, name) for name in SETTINGS_AS_SERVICE} == SETTINGS_AS_SERVICE
    assert (str(service.price), str(service.late_cancel_fee)) == ("50.00", "10.00")
    assert response.json()["services"] == [service.pk]


def test_a_provider_created_without_booking_fields_still_gets_a_bookable_service(as_a):
    body = {k: PROVIDER[k] for k in ("name", "slug", "kind", "timezone")}
    response = as_a.post("/api/v1/providers/", body, format="json")
    assert response.status_code == 201, response.json()
    assert response.json()["slot_minutes"] == 30
    provider = Provider.objects.get(pk=response.json()["id"])
    assert [s.duration_minutes for s in provider.services.all()] == [30]


def test_a_provider_shows_its_default_services_settings_and_its_services(anon, provider_a):
    second = ServiceFactory(providers=[provider_a], duration_minutes=90, price="300.00")
    body = anon.get(f"/api/v1/providers/{provider_a.pk}/").json()
    own = service_of(provider_a)
    assert (body["slot_minutes"], body["price"], body["late_cancel_fee"]) == (30, "80.00", "20.00")
    assert body["services"] == [own.pk, second.pk]


def test_patching_a_deprecated_field_changes_the_default_service_only(as_a, provider_a):
    second = ServiceFactory(providers=[provider_a], duration_minutes=90)
    response = as_a.patch(f"/api/v1/providers/{provider_a.pk}/", {"price": "95.00", "slot_minutes": 40}, format="json")
    assert response.status_code == 200, response.json()
    assert (response.json()["price"], response.json()["slot_minutes"]) == ("95.00", 40)
    own = service_of(provider_a)
    second.refresh_from_db()
    assert (str(own.price), own.duration_minutes, second.duration_minutes) == ("95.00", 40, 90)


def test_an_out_of_bounds_slot_minutes_is_a_400_naming_slot_minutes(as_a, provider_a):
    response = as_a.patch(f"/api/v1/providers/{provider_a.pk}/", {"slot_minutes": 4}, format="json")
    assert response.status_code == 400
    assert response.json() == {
        "code": "invalid",
        "detail": "slot_minutes: Ensure this value is greater than or equal to 5.",
        "fields": {"slot_minutes": ["Ensure this value is greater than or equal to 5."]},
    }


def test_patching_the_old_fields_of_a_shared_default_service_is_a_400_naming_the_provider_field(as_a, provider_a):
    other = ProviderFactory(with_service=False)
    service_of(provider_a).providers.add(other)
    response = as_a.patch(f"/api/v1/providers/{provider_a.pk}/", {"slot_minutes": 45}, format="json")
    assert response.status_code == 400
    assert list(response.json()["fields"]) == ["slot_minutes"]
    assert service_of(provider_a).duration_minutes == 30


def test_a_provider_offering_nothing_shows_the_settings_its_service_would_get(anon):
    provider = ProviderFactory(with_service=False)
    body = anon.get(f"/api/v1/providers/{provider.pk}/").json()
    assert (body["slot_minutes"], body["price"], body["services"]) == (30, "0.00", [])


def test_the_provider_list_reads_all_default_services_in_one_query(anon):
    for _ in range(2):
        ProviderFactory()
    with CaptureQueriesContext(connection) as few:
        assert len(anon.get("/api/v1/providers/").json()) == 2
    for _ in range(6):
        ProviderFactory()
    with CaptureQueriesContext(connection) as many:
        assert len(anon.get("/api/v1/providers/").json()) == 8
    assert len(many) == len(few) <= 2


# --- slots and bookings by provider alone -------------------------------------------------------


def test_slots_by_provider_alone_work_for_a_provider_with_one_service(anon, provider_a):
    day = future_slot().date().isoformat()
    body = anon.get(f"/api/v1/providers/{provider_a.pk}/slots/", {"start": day, "end": day, "tz": "UTC"}).json()
    assert body["service"] == service_of(provider_a).pk
    assert len(body["slots"]) == 48


def test_slots_by_provider_alone_for_a_provider_with_several_services_is_a_400_naming_service(anon, provider_a):
    ServiceFactory(providers=[provider_a])
    response = anon.get(f"/api/v1/providers/{provider_a.pk}/slots/")
    assert response.status_code == 400
    assert response.json()["fields"] == {"service": ["This provider offers several services; say which one to book."]}


def test_slots_by_provider_take_the_service_asked_for(anon, provider_a):
    long = ServiceFactory(providers=[provider_a], duration_minutes=120)
    day = future_slot().date().isoformat()
    query = {"start": day, "end": day, "tz": "UTC", "service": long.pk}
    body = anon.get(f"/api/v1/providers/{provider_a.pk}/slots/", query).json()
    assert body["service"] == long.pk
    assert len(body["slots"]) == 12  # a 120-minute service steps by its length


def test_slots_by_provider_for_a_service_it_does_not_offer_is_a_400_naming_service(anon, provider_a, provider_b):
    response = anon.get(f"/api/v1/providers/{provider_a.pk}/slots/", {"service": service_of(provider_b).pk})
    assert response.status_code == 400
    assert list(response.json()["fields"]) == ["service"]


def test_booking_by_provider_alone_works_for_a_provider_with_one_service(as_a, provider_a):
    response = as_a.post(URL, booking_body(provider_a, future_slot()), format="json")
    assert response.status_code == 201, response.json()
    assert response.json()["service"] == service_of(provider_a).pk


def test_booking_by_provider_alone_for_a_provider_with_several_services_is_a_400_naming_service(as_a, provider_a):
    ServiceFactory(providers=[provider_a])
    response = as_a.post(URL, booking_body(provider_a, future_slot()), format="json")
    assert response.status_code == 400
    assert response.json()["fields"] == {"service": ["This provider offers several services; say which one to book."]}


def test_booking_a_provider_with_the_service_it_offers_uses_that_service(as_a, provider_a):
    long = ServiceFactory(providers=[provider_a], duration_minutes=120)
    start = future_slot()
    response = as_a.post(URL, booking_body(provider_a, start, service=long.pk), format="json")
    assert response.status_code == 201, response.json()
    assert response.json()["service"] == long.pk
    assert response.json()["end"] == (start + timedelta(minutes=120)).isoformat().replace("+00:00", "Z")


def test_the_old_fields_stand_for_the_active_service_a_booking_by_provider_alone_books(as_a, provider_a):
    own = service_of(provider_a)
    newer = ServiceFactory(price="90.00", providers=[provider_a])
    own.is_active = False
    own.save()

    shown = as_a.get(f"/api/v1/providers/{provider_a.pk}/").json()
    changed = as_a.patch(f"/api/v1/providers/{provider_a.pk}/", {"price": "70.00"}, format="json")
    booked = as_a.post(URL, booking_body(provider_a, future_slot()), format="json")

    assert shown["price"] == "90.00"
    assert changed.status_code == 200 and changed.json()["price"] == "70.00"
    assert (booked.json()["service"], booked.json()["price"]) == (newer.pk, "70.00")


def test_a_provider_lists_only_its_active_services(anon, provider_a):
    own = service_of(provider_a)
    ServiceFactory(providers=[provider_a], is_active=False)
    assert anon.get(f"/api/v1/providers/{provider_a.pk}/").json()["services"] == [own.pk]
