"""/api/v1/services/: CRUD scoped like providers, and the slots of a service over its providers."""

from datetime import timedelta

import pytest

from scheduling.models import Service
from tests.api.conftest import client_for, grant
from tests.factories import BookingFactory, ProviderFactory, ServiceFactory, UserFactory, service_of
from tests.scheduling.conftest import future_slot, open_all_day_provider

pytestmark = pytest.mark.django_db

URL = "/api/v1/services/"
SERVICE = {
    "name": "Cleaning", "slug": "cleaning", "description": "An hour with the hygienist.", "is_active": True,
    "duration_minutes": 60, "slot_step_minutes": 30, "buffer_before_minutes": 5, "buffer_after_minutes": 10,
    "min_notice_minutes": 120, "max_advance_days": 60, "requires_confirmation": False, "hold_minutes": 20,
    "reminder_lead_minutes": [1440], "free_cancel_hours": 48, "late_cancel_fee": "15.00", "price": "90.00",
    "currency": "EUR",
}  # fmt: skip


def test_staff_create_a_service_for_their_provider_with_every_field(as_a, provider_a):
    response = as_a.post(URL, {**SERVICE, "providers": [provider_a.pk]}, format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert {k: body[k] for k in SERVICE} == SERVICE
    assert body["providers"] == [provider_a.pk]
    assert list(Service.objects.get(pk=body["id"]).providers.all()) == [provider_a]


def test_staff_cannot_set_a_provider_they_do_not_manage(as_a, provider_a, provider_b):
    response = as_a.post(URL, {**SERVICE, "providers": [provider_b.pk]}, format="json")
    assert response.status_code == 400
    assert list(response.json()["fields"]) == ["providers"]
    assert not Service.objects.filter(slug="cleaning").exists()


def test_creating_a_service_needs_add_service(provider_a):
    without_group = UserFactory(username="no-group")
    provider_a.staff.add(without_group)
    grant(without_group, "view_service")
    response = client_for(without_group).post(URL, {**SERVICE, "providers": [provider_a.pk]}, format="json")
    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"


def test_a_fee_above_the_price_is_a_400_naming_late_cancel_fee(as_a):
    response = as_a.post(URL, {**SERVICE, "late_cancel_fee": "99.00"}, format="json")
    assert response.status_code == 400
    assert response.json()["fields"] == {"late_cancel_fee": ["The late cancellation fee cannot exceed the price."]}


def test_staff_patch_their_service(as_a, provider_a):
    service = service_of(provider_a)
    response = as_a.patch(f"{URL}{service.pk}/", {"duration_minutes": 45}, format="json")
    assert response.status_code == 200, response.json()
    service.refresh_from_db()
    assert service.duration_minutes == 45


def test_staff_get_404_changing_a_service_only_other_staff_offer(as_a, provider_b):
    response = as_a.patch(f"{URL}{service_of(provider_b).pk}/", {"price": "1.00"}, format="json")
    assert response.status_code == 404


def test_staff_get_403_changing_a_service_shared_with_a_provider_they_do_not_manage(as_a, provider_a, provider_b):
    shared = ServiceFactory(providers=[provider_a, provider_b])
    response = as_a.patch(f"{URL}{shared.pk}/", {"price": "1.00"}, format="json")
    assert response.status_code == 403
    assert as_a.delete(f"{URL}{shared.pk}/").status_code == 403
    assert Service.objects.filter(pk=shared.pk, price=0).exists()


def test_delete_without_bookings_deletes_and_with_bookings_deactivates(as_a, provider_a):
    unused = ServiceFactory(providers=[provider_a])
    assert as_a.delete(f"{URL}{unused.pk}/").status_code == 204
    assert not Service.objects.filter(pk=unused.pk).exists()
    used = service_of(provider_a)
    BookingFactory(provider=provider_a, service=used)
    response = as_a.delete(f"{URL}{used.pk}/")
    assert (response.status_code, response.json()["is_active"]) == (200, False)


def test_anonymous_users_read_active_services_only(anon, provider_a):
    active = service_of(provider_a)
    hidden = ServiceFactory(providers=[provider_a], is_active=False)
    listed = [s["id"] for s in anon.get(URL).json()]
    assert active.pk in listed and hidden.pk not in listed
    assert anon.get(f"{URL}{active.pk}/").json()["providers"] == [provider_a.pk]
    assert anon.get(f"{URL}{hidden.pk}/").status_code == 404
    assert anon.post(URL, SERVICE, format="json").status_code == 401


def test_staff_see_their_own_inactive_service(as_a, provider_a):
    hidden = ServiceFactory(providers=[provider_a], is_active=False)
    assert as_a.get(f"{URL}{hidden.pk}/").status_code == 200


# --- slots ---------------------------------------------------------------------------------------


@pytest.fixture
def three_dentists():
    dentists = [open_all_day_provider(slug=f"dentist-{n}") for n in range(3)]
    return ServiceFactory(providers=dentists, slug="check-up"), dentists


def test_service_slots_name_the_providers_free_at_each_start(anon, three_dentists):
    service, (first, second, third) = three_dentists
    start = future_slot()
    BookingFactory(provider=second, service=service, start_at=start)
    day = start.date().isoformat()
    body = anon.get(f"{URL}{service.pk}/slots/", {"start": day, "end": day, "tz": "Asia/Tokyo"}).json()
    assert (body["service"], body["timezone"]) == (service.pk, "Asia/Tokyo")
    at = {slot["start"]: slot for slot in body["slots"]}
    taken = at[start.isoformat().replace("+00:00", "Z")]
    assert taken == {
        "start": start.isoformat().replace("+00:00", "Z"),
        "end": (start + timedelta(minutes=30)).isoformat().replace("+00:00", "Z"),
        "local_start": (start + timedelta(hours=9)).replace(tzinfo=None).isoformat() + "+09:00",
        "local_end": (start + timedelta(hours=9, minutes=30)).replace(tzinfo=None).isoformat() + "+09:00",
        "providers": [first.pk, third.pk],
        "available": 2,
    }
    later = (start + timedelta(hours=1)).isoformat().replace("+00:00", "Z")
    assert at[later]["available"] == 3


def test_service_slots_for_one_provider_list_only_that_provider(anon, three_dentists):
    service, dentists = three_dentists
    day = future_slot().date().isoformat()
    query = {"start": day, "end": day, "provider": dentists[1].pk}
    body = anon.get(f"{URL}{service.pk}/slots/", query).json()
    assert body["slots"] and {tuple(s["providers"]) for s in body["slots"]} == {(dentists[1].pk,)}


def test_service_slots_for_a_provider_not_offering_it_is_a_400_naming_provider(anon, three_dentists):
    service, _ = three_dentists
    stranger = ProviderFactory()
    response = anon.get(f"{URL}{service.pk}/slots/", {"provider": stranger.pk})
    assert response.status_code == 400
    assert response.json()["fields"] == {"provider": ["This provider does not offer this service."]}


def test_service_slots_default_to_the_zone_its_providers_share(anon):
    berlin = open_all_day_provider(timezone="Europe/Berlin")
    service = ServiceFactory(providers=[berlin])
    assert anon.get(f"{URL}{service.pk}/slots/").json()["timezone"] == "Europe/Berlin"
    service.providers.add(open_all_day_provider(timezone="Asia/Tokyo"))
    assert anon.get(f"{URL}{service.pk}/slots/").json()["timezone"] == "UTC"


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"start": "2030-01-01", "end": "2030-03-04"}, "end"),
        ({"start": "2030-01-02", "end": "2030-01-01"}, "end"),
        ({"tz": "US/Eastern"}, "tz"),
        ({"start": "2201-01-01"}, "start"),
        ({"provider": ""}, "provider"),
    ],
)
def test_service_slots_validate_their_parameters_as_provider_slots_do(anon, three_dentists, query, field):
    service, _ = three_dentists
    response = anon.get(f"{URL}{service.pk}/slots/", query)
    assert response.status_code == 400
    assert field in response.json()["fields"]


def test_slots_of_an_inactive_service_are_a_404_for_anonymous_users(anon, three_dentists):
    service, _ = three_dentists
    Service.objects.filter(pk=service.pk).update(is_active=False)
    assert anon.get(f"{URL}{service.pk}/slots/").status_code == 404


def test_staff_cannot_take_over_a_service_another_staff_emptied_of_providers(as_a, as_b, provider_a, provider_b):
    service = service_of(provider_a)
    BookingFactory(provider=provider_a, service=service)
    assert as_a.patch(f"{URL}{service.pk}/", {"providers": []}, format="json").status_code == 200

    taken = as_b.patch(f"{URL}{service.pk}/", {"name": "Renamed by B", "providers": [provider_b.pk]}, format="json")

    assert taken.status_code == 404
    service.refresh_from_db()
    assert service.name != "Renamed by B"


def test_service_slots_carry_local_end(anon, three_dentists):
    service, _ = three_dentists
    day = future_slot().date().isoformat()
    slots = anon.get(f"{URL}{service.pk}/slots/", {"start": day, "end": day, "tz": "Asia/Kolkata"}).json()["slots"]
    assert slots and all(s["local_end"].endswith("+05:30") for s in slots)
    assert slots[0]["local_end"] == slots[1]["local_start"]  # 30-minute slots stepping by 30 minutes


def test_a_bare_services_get_keeps_answering_the_plain_array(anon, three_dentists):
    body = anon.get(URL).json()
    assert isinstance(body, list)
    assert "check-up" in [s["slug"] for s in body] and len(body) == Service.objects.count()


def test_services_come_in_pages_like_bookings_when_asked(anon, three_dentists):
    names = list(Service.objects.order_by("name", "pk").values_list("slug", flat=True))
    assert len(names) == 4  # the shared service and each dentist's own
    page = anon.get(URL, {"page_size": 1, "page": 2}).json()
    assert set(page) == {"count", "next", "previous", "results"}
    assert (page["count"], [s["slug"] for s in page["results"]]) == (4, names[1:2])
    assert page["previous"] is not None
    assert [s["slug"] for s in anon.get(page["next"]).json()["results"]] == names[2:3]
