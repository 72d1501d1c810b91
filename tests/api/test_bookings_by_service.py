"""POST /api/v1/bookings/ by service: with a provider, or "any available" (issue 12)."""

from datetime import timedelta

import pytest

from scheduling.models import Booking
from tests.api.test_bookings_api import URL, iso
from tests.api.test_idempotency import opens
from tests.factories import ServiceFactory, service_of
from tests.scheduling.conftest import future_slot, open_all_day_provider

pytestmark = pytest.mark.django_db


def by_service(service, start, n: int = 0, **extra) -> dict:
    customer = {"name": f"C{n}", "email": f"c{n}@example.com", "timezone": "UTC"}
    return {"service": service.pk, "start": iso(start), "customer": customer, **extra}


@pytest.fixture
def clinic(provider_a, staff_a):
    """A service offered by two providers, both managed by staff A."""
    second = open_all_day_provider(slug="a-second-chair")
    second.staff.add(staff_a)
    return ServiceFactory(providers=[provider_a, second], slug="check-up"), [provider_a, second]


def test_booking_a_service_alone_assigns_a_free_provider_and_shows_the_service(as_a, clinic):
    service, providers = clinic
    response = as_a.post(URL, by_service(service, future_slot()), format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["service"] == service.pk
    assert body["provider"] in {p.pk for p in providers}


def test_a_second_booking_at_the_same_time_goes_to_the_other_provider(as_a, clinic):
    service, providers = clinic
    start = future_slot()
    first = as_a.post(URL, by_service(service, start, 1), format="json").json()
    second = as_a.post(URL, by_service(service, start, 2), format="json").json()
    assert {first["provider"], second["provider"]} == {p.pk for p in providers}


def test_booking_a_service_when_every_provider_is_taken_is_a_409_naming_a_booking(as_a, clinic):
    service, _ = clinic
    start = future_slot()
    taken = [as_a.post(URL, by_service(service, start, n), format="json").json()["id"] for n in range(2)]
    response = as_a.post(URL, by_service(service, start, 3), format="json")
    assert response.status_code == 409
    body = response.json()
    assert set(body) == {"code", "detail", "conflicting_booking_id"}
    assert (body["code"], body["conflicting_booking_id"] in taken) == ("slot_unavailable", True)


def test_booking_a_service_with_a_provider_books_that_provider(as_a, clinic):
    service, providers = clinic
    response = as_a.post(URL, by_service(service, future_slot(), provider=providers[1].pk), format="json")
    assert response.status_code == 201, response.json()
    assert (response.json()["provider"], response.json()["service"]) == (providers[1].pk, service.pk)


def test_booking_a_service_with_a_provider_not_offering_it_is_a_400_naming_provider(as_a, clinic, provider_a):
    other = ServiceFactory(slug="other")
    response = as_a.post(URL, by_service(other, future_slot(), provider=provider_a.pk), format="json")
    assert response.status_code == 400
    assert list(response.json()["fields"]) == ["provider"]


def test_booking_with_neither_service_nor_provider_is_a_400_naming_both(as_a):
    body = {"start": iso(future_slot()), "customer": {"name": "X", "email": "x@example.com"}}
    response = as_a.post(URL, body, format="json")
    assert response.status_code == 400
    assert set(response.json()["fields"]) == {"service", "provider"}


def test_staff_booking_a_service_they_cannot_see_get_a_400_naming_service(as_b, clinic):
    service, _ = clinic
    response = as_b.post(URL, by_service(service, future_slot()), format="json")
    assert response.status_code == 400
    assert response.json()["fields"] == {"service": ["No such service."]}
    assert not Booking.objects.exists()


def test_staff_booking_any_available_of_a_service_shared_with_others_must_name_a_provider(as_a, clinic, provider_b):
    service, _ = clinic
    service.providers.add(provider_b)
    response = as_a.post(URL, by_service(service, future_slot()), format="json")
    assert response.status_code == 400
    assert list(response.json()["fields"]) == ["provider"]
    assert not Booking.objects.exists()


def test_an_idempotent_retry_by_service_replays_the_same_booking(as_a, clinic):
    service, _ = clinic
    body = by_service(service, future_slot())
    first = as_a.post(URL, body, format="json", HTTP_IDEMPOTENCY_KEY="svc-1")
    again = as_a.post(URL, body, format="json", HTTP_IDEMPOTENCY_KEY="svc-1")
    assert (first.status_code, again.status_code) == (201, 201)
    replayed, original = again.json(), first.json()
    # The manage link is made again for the replay (never stored): same booking, maybe another timestamp.
    assert opens(replayed.pop("manage_url")) == opens(original.pop("manage_url"))
    assert replayed == original
    assert again["Idempotent-Replayed"] == "true"
    assert Booking.objects.count() == 1


def test_bookings_can_be_listed_by_service(as_a, clinic, provider_a):
    service, _ = clinic
    start = future_slot()
    assert as_a.post(URL, by_service(service, start), format="json").status_code == 201
    own = by_service(service_of(provider_a), start + timedelta(hours=1), 2, provider=provider_a.pk)
    assert as_a.post(URL, own, format="json").status_code == 201
    listed = as_a.get(URL, {"service": service.pk}).json()["results"]
    assert [b["service"] for b in listed] == [service.pk]
