"""The permission matrix: anonymous, staff of A, staff of B, superuser (issue 3)."""

import pytest

from scheduling.models import Booking, Provider
from tests.api.conftest import client_for, grant
from tests.api.test_bookings_api import URL, booking_body
from tests.factories import BlockedTimeFactory, BookingFactory, UserFactory
from tests.scheduling.conftest import future_slot

pytestmark = pytest.mark.django_db

CUSTOMER = {"name": "Kiko", "email": "kiko@example.com"}


@pytest.fixture
def objects(provider_a):
    return {
        "provider": provider_a,
        "rule": provider_a.rules.get(),
        "blocked": BlockedTimeFactory(provider=provider_a),
        "booking": BookingFactory(provider=provider_a),
    }


def urls(o):
    p = o["provider"].pk
    return {
        "rules": f"/api/v1/providers/{p}/availability-rules/",
        "rule": f"/api/v1/providers/{p}/availability-rules/{o['rule'].pk}/",
        "blocked-times": f"/api/v1/providers/{p}/blocked-times/",
        "blocked-time": f"/api/v1/providers/{p}/blocked-times/{o['blocked'].pk}/",
        "booking": f"/api/v1/bookings/{o['booking'].pk}/",
    }


@pytest.mark.parametrize("name", ["rules", "rule", "blocked-times", "blocked-time", "booking"])
def test_staff_of_b_get_404_for_as_objects(as_b, objects, name):
    response = as_b.get(urls(objects)[name])
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


@pytest.mark.parametrize("name", ["rules", "rule", "blocked-times", "blocked-time", "booking"])
def test_staff_of_a_and_superusers_read_as_objects(as_a, as_root, objects, name):
    assert as_a.get(urls(objects)[name]).status_code == 200
    assert as_root.get(urls(objects)[name]).status_code == 200


@pytest.mark.parametrize("name", ["rules", "rule", "blocked-times", "blocked-time", "booking"])
def test_anonymous_users_cannot_read_private_objects(anon, objects, name):
    assert anon.get(urls(objects)[name]).status_code == 401


def test_staff_of_b_cannot_change_delete_or_act_on_as_objects(as_b, objects):
    u = urls(objects)
    p = objects["provider"].pk
    b = objects["booking"].pk
    assert as_b.patch(f"/api/v1/providers/{p}/", {"name": "Mine now"}, format="json").status_code == 404
    assert as_b.delete(f"/api/v1/providers/{p}/").status_code == 403  # no staff may delete a provider
    assert as_b.delete(u["rule"]).status_code == 404
    assert as_b.delete(u["blocked-time"]).status_code == 404
    assert as_b.post(f"/api/v1/bookings/{b}/cancel/", {"reason": "provider"}, format="json").status_code == 404
    objects["provider"].refresh_from_db()
    objects["booking"].refresh_from_db()
    assert objects["provider"].name == "A Dentist"
    assert objects["booking"].status == "confirmed"


def test_booking_lists_show_only_the_users_providers(as_a, as_b, as_root, objects, provider_b):
    BookingFactory(provider=provider_b)
    assert as_a.get("/api/v1/bookings/").json()["count"] == 1
    assert as_b.get("/api/v1/bookings/").json()["count"] == 1
    assert as_root.get("/api/v1/bookings/").json()["count"] == 2


def test_anonymous_users_read_active_providers_and_slots_only(anon, provider_a, provider_b):
    provider_b.is_active = False
    provider_b.save()
    listed = [p["slug"] for p in anon.get("/api/v1/providers/").json()]
    assert listed == ["a-dentist"]
    assert anon.get(f"/api/v1/providers/{provider_a.pk}/").status_code == 200
    assert anon.get(f"/api/v1/providers/{provider_b.pk}/").status_code == 404
    assert anon.get(f"/api/v1/providers/{provider_a.pk}/slots/").status_code == 200
    assert anon.get(f"/api/v1/providers/{provider_b.pk}/slots/").status_code == 404
    assert anon.get("/api/v1/bookings/").status_code == 401
    assert anon.post("/api/v1/providers/", {}, format="json").status_code == 401
    assert anon.patch(f"/api/v1/providers/{provider_a.pk}/", {"name": "x"}, format="json").status_code == 401


def test_staff_see_their_own_inactive_provider(as_b, provider_b):
    provider_b.is_active = False
    provider_b.save()
    assert as_b.get(f"/api/v1/providers/{provider_b.pk}/").status_code == 200


def test_non_staff_users_cannot_create_providers(db):
    customer_user = client_for(UserFactory(username="plain", is_staff=False))
    response = customer_user.post("/api/v1/providers/", {"name": "x"}, format="json")
    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"


def test_session_authentication_works_too(client, staff_a, objects):
    client.force_login(staff_a)
    assert client.get(urls(objects)["booking"]).status_code == 200


def test_drf_create_token_command_makes_a_working_token(staff_a, objects):
    from io import StringIO

    from django.core.management import call_command
    from rest_framework.test import APIClient

    out = StringIO()
    call_command("drf_create_token", staff_a.username, stdout=out)
    key = out.getvalue().split()[2]
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert client.get(urls(objects)["booking"]).status_code == 200


# --- a customer shared by email: each provider's staff see only what was typed for their bookings -------------

CAROL_FOR_A = {"name": "Carol Ames", "email": "carol@example.com", "phone": "+15550001111", "timezone": "Asia/Tokyo"}
CAROL_FOR_B = {"name": "C. Berg", "email": "Carol@Example.com", "phone": "+49301234567", "timezone": "Europe/Berlin"}


def book_carol(client, provider, details, *, hour: int) -> dict:
    response = client.post(URL, booking_body(provider, future_slot(days=4, hour=hour), customer=details), format="json")
    assert response.status_code == 201, response.content
    return response.json()


def typed(representation: dict) -> dict:
    return {field: representation["customer"][field] for field in ("name", "email", "phone", "timezone")}


@pytest.fixture
def carol_at_a(as_a, provider_a):
    return book_carol(as_a, provider_a, CAROL_FOR_A, hour=9)


def test_staff_of_b_booking_with_a_known_email_get_back_exactly_what_they_typed(as_b, provider_b, carol_at_a):
    at_b = book_carol(as_b, provider_b, CAROL_FOR_B, hour=11)
    assert at_b["customer"]["id"] == carol_at_a["customer"]["id"]  # one customer identity behind both
    assert typed(at_b) == CAROL_FOR_B
    assert at_b["customer_timezone"] == "Europe/Berlin"
    assert typed(as_b.get(f"/api/v1/bookings/{at_b['id']}/").json()) == CAROL_FOR_B
    listed = as_b.get(URL, {"customer_email": "carol@example.com"}).json()
    assert [typed(b) for b in listed["results"]] == [CAROL_FOR_B]
    assert "Carol Ames" not in str(listed) and "+15550001111" not in str(listed)


def test_staff_of_a_still_see_what_was_typed_for_their_booking(as_a, as_b, provider_b, carol_at_a):
    book_carol(as_b, provider_b, CAROL_FOR_B, hour=11)
    assert typed(as_a.get(f"/api/v1/bookings/{carol_at_a['id']}/").json()) == CAROL_FOR_A
    assert [typed(b) for b in as_a.get(URL).json()["results"]] == [CAROL_FOR_A]


def test_staff_of_b_cannot_list_see_cancel_or_move_as_booking_of_the_same_customer(as_b, provider_b, carol_at_a):
    at_b = book_carol(as_b, provider_b, CAROL_FOR_B, hour=11)
    a_id = carol_at_a["id"]
    assert [b["id"] for b in as_b.get(URL).json()["results"]] == [at_b["id"]]
    assert as_b.get(f"/api/v1/bookings/{a_id}/").status_code == 404
    assert as_b.post(f"/api/v1/bookings/{a_id}/cancel/", {"reason": "customer"}, format="json").status_code == 404
    later = {"start": carol_at_a["end"]}
    assert as_b.post(f"/api/v1/bookings/{a_id}/reschedule/", later, format="json").status_code == 404
    assert Booking.objects.get(pk=a_id).status == "confirmed"


def test_superusers_see_each_booking_with_its_own_details(as_root, as_b, provider_b, carol_at_a):
    book_carol(as_b, provider_b, CAROL_FOR_B, hour=11)
    listed = as_root.get(URL, {"customer_email": "CAROL@example.com"}).json()["results"]
    assert sorted(b["customer"]["name"] for b in listed) == ["C. Berg", "Carol Ames"]


# --- model permissions: the same as the console's (issue 11) ------------------------------------


@pytest.fixture
def bare_staff(provider_a):
    """Staff of provider A with no model permission at all (in no group)."""
    user = UserFactory(username="bare-staff")
    provider_a.staff.add(user)
    return user


@pytest.fixture
def as_bare(bare_staff):
    return client_for(bare_staff)


NEW_PROVIDER = {"name": "New", "slug": "new", "timezone": "Europe/Paris"}


def test_staff_without_add_provider_get_403_creating_a_provider(as_bare):
    response = as_bare.post("/api/v1/providers/", NEW_PROVIDER, format="json")
    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"
    assert not Provider.objects.filter(slug="new").exists()


def test_staff_with_add_provider_create_one(as_bare, bare_staff):
    grant(bare_staff, "add_provider")
    assert as_bare.post("/api/v1/providers/", NEW_PROVIDER, format="json").status_code == 201


def test_change_provider_is_needed_to_patch_a_provider(as_bare, bare_staff, provider_a):
    url = f"/api/v1/providers/{provider_a.pk}/"
    assert as_bare.patch(url, {"name": "Renamed"}, format="json").status_code == 403
    grant(bare_staff, "change_provider")
    assert as_bare.patch(url, {"name": "Renamed"}, format="json").status_code == 200


def test_delete_provider_is_needed_to_delete_a_provider(as_bare, bare_staff, provider_a):
    url = f"/api/v1/providers/{provider_a.pk}/"
    assert as_bare.delete(url).status_code == 403
    assert Provider.objects.filter(pk=provider_a.pk).exists()
    grant(bare_staff, "delete_provider")
    assert as_bare.delete(url).status_code == 204


@pytest.mark.parametrize(
    ("name", "codename"),
    [
        ("rules", "view_availabilityrule"),
        ("rule", "view_availabilityrule"),
        ("blocked-times", "view_blockedtime"),
        ("blocked-time", "view_blockedtime"),
        ("booking", "view_booking"),
    ],
)
def test_view_permission_is_needed_to_read(as_bare, bare_staff, objects, name, codename):
    assert as_bare.get(urls(objects)[name]).status_code == 403
    grant(bare_staff, codename)
    assert as_bare.get(urls(objects)[name]).status_code == 200


def test_add_and_change_booking_are_needed_to_book_and_to_act_on_bookings(as_bare, bare_staff, objects):
    booking = objects["booking"]
    body = {"provider": objects["provider"].pk, "start": future_slot().isoformat(), "customer": CUSTOMER}
    cancel = f"/api/v1/bookings/{booking.pk}/cancel/"
    reschedule = f"/api/v1/bookings/{booking.pk}/reschedule/"
    later = {"start": future_slot(days=5, hour=14).isoformat()}
    assert as_bare.post("/api/v1/bookings/", body, format="json").status_code == 403
    assert as_bare.post(cancel, {"reason": "provider"}, format="json").status_code == 403
    grant(bare_staff, "add_booking")
    created = as_bare.post("/api/v1/bookings/", body, format="json")
    assert created.status_code == 201
    assert as_bare.post(cancel, {"reason": "provider"}, format="json").status_code == 403  # needs change
    assert as_bare.post(reschedule, later, format="json").status_code == 403  # needs add and change
    grant(bare_staff, "change_booking")
    assert as_bare.post(reschedule, later, format="json").status_code == 201
    cancel_created = f"/api/v1/bookings/{created.json()['id']}/cancel/"
    assert as_bare.post(cancel_created, {"reason": "provider"}, format="json").status_code == 200


def test_provider_staff_do_over_the_api_what_the_console_lets_them(as_a, objects):
    """The "Provider staff" group: change (not add or delete) providers; everything on rules and blocked
    times; view, add and change (not delete) bookings."""
    p = objects["provider"].pk
    u = urls(objects)
    assert as_a.post("/api/v1/providers/", NEW_PROVIDER, format="json").status_code == 403
    assert as_a.patch(f"/api/v1/providers/{p}/", {"name": "Renamed"}, format="json").status_code == 200
    rule = {"rrule": "FREQ=WEEKLY;BYDAY=MO", "starts_on": "2030-01-07", "start_time": "09:00", "end_time": "12:00"}
    created = as_a.post(u["rules"], rule, format="json")
    assert created.status_code == 201
    rule_url = f"{u['rules']}{created.json()['id']}/"
    assert as_a.patch(rule_url, {"label": "Mondays"}, format="json").status_code == 200
    assert as_a.delete(rule_url).status_code == 204
    assert as_a.delete(u["blocked-time"]).status_code == 204
    body = {"provider": p, "start": future_slot().isoformat(), "customer": CUSTOMER}
    booking = as_a.post("/api/v1/bookings/", body, format="json").json()["id"]
    assert as_a.post(f"/api/v1/bookings/{booking}/cancel/", {"reason": "provider"}, format="json").status_code == 200
    assert as_a.delete(f"/api/v1/providers/{p}/").status_code == 403


def test_superusers_need_no_explicit_permission(as_root, objects):
    assert as_root.post("/api/v1/providers/", NEW_PROVIDER, format="json").status_code == 201
    assert as_root.delete(f"/api/v1/providers/{objects['provider'].pk}/").status_code == 200  # has a booking
