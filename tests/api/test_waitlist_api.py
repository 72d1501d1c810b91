"""The waitlist over the API: joining (201 with the place in line, 409 already waiting, 400 for a naive
time), the line as staff see it (scoped, filtered, positioned, a fixed number of queries) and the
transitions (accept, decline, withdraw, and their 409s)."""

import importlib

import pytest
from django.apps import apps as django_apps
from django.db import connection
from django.test.utils import CaptureQueriesContext

from scheduling.models import BookingStatus
from scheduling.services import booking_cancel
from tests.api.conftest import client_for, provider_staff_group
from tests.factories import UserFactory, service_of
from tests.waitlist.conftest import ANN, BEN, CAT, DAN, book, day_ahead, join, one_slot_a_day_provider
from waitlist.models import EntryStatus
from waitlist.services import offers_make

pytestmark = pytest.mark.django_db
LIST = "/api/v1/waitlist/"
waitlist_permissions = importlib.import_module("waitlist.migrations.0003_provider_staff_permissions")


def staff_of(*providers, username):
    user = UserFactory(username=username)
    user.groups.add(provider_staff_group())
    waitlist_permissions.grant(django_apps)
    for provider in providers:
        provider.staff.add(user)
    return client_for(user)


@pytest.fixture
def provider(db):
    provider = one_slot_a_day_provider(name="Solo")
    book(provider, DAN, day_ahead())
    return provider


@pytest.fixture
def as_staff(provider):
    return staff_of(provider, username="solo-staff")


def body(of, start, customer=ANN, **extra):
    day = start.replace(hour=0, minute=0)
    return {
        "service": service_of(of).pk,
        "window_start": day.isoformat(),
        "window_end": (day.replace(hour=23)).isoformat(),
        "customer": {"name": customer.name, "email": customer.email, "timezone": customer.timezone},
        **extra,
    }


# --- joining --------------------------------------------------------------------------------------


def test_joining_answers_201_with_the_place_in_line(as_staff, provider):
    join(provider, BEN, day_ahead())
    response = as_staff.post(LIST, body(provider, day_ahead(), day_start="09:00", day_end="12:00"), format="json")
    assert response.status_code == 201, response.json()
    entry = response.json()
    assert entry["status"] == "waiting" and entry["position"] == 2 and entry["offer"] is None
    assert entry["customer"]["email"] == "ann@example.com" and entry["customer"]["timezone"] == "Europe/Berlin"
    assert (entry["service"], entry["provider"]) == (service_of(provider).pk, None)
    assert (entry["day_start"], entry["day_end"]) == ("09:00", "12:00")


def test_joining_twice_for_the_same_window_is_a_409_already_waiting(as_staff, provider):
    assert as_staff.post(LIST, body(provider, day_ahead()), format="json").status_code == 201
    response = as_staff.post(LIST, body(provider, day_ahead()), format="json")
    assert response.status_code == 409
    assert response.json()["code"] == "already_waiting"


def test_a_naive_window_time_is_a_400_naming_the_field(as_staff, provider):
    given = body(provider, day_ahead())
    given["window_start"] = given["window_start"].replace("+00:00", "")
    response = as_staff.post(LIST, given, format="json")
    assert response.status_code == 400
    assert list(response.json()["fields"]) == ["window_start"]


def test_half_a_time_of_day_range_is_a_400_naming_day_end(as_staff, provider):
    response = as_staff.post(LIST, body(provider, day_ahead(), day_start="09:00"), format="json")
    assert response.status_code == 400
    assert "day_end" in response.json()["fields"]


def test_staff_may_not_join_for_another_staffs_provider(provider):
    other = one_slot_a_day_provider(name="Other")
    as_other = staff_of(other, username="other-staff")
    response = as_other.post(LIST, body(provider, day_ahead(), provider=provider.pk), format="json")
    assert response.status_code == 400
    assert "provider" in response.json()["fields"]


def test_joining_needs_add_booking(provider):
    user = UserFactory(username="viewer")
    provider.staff.add(user)
    response = client_for(user).post(LIST, body(provider, day_ahead()), format="json")
    assert response.status_code == 403


# --- the line -------------------------------------------------------------------------------------


def test_the_list_is_scoped_in_line_order_with_positions(as_staff, provider):
    other = one_slot_a_day_provider(name="Other")
    ann, ben, cat = (join(provider, who, day_ahead()) for who in (ANN, BEN, CAT))
    join(other, ANN, day_ahead())  # another staff's line: never shown here
    as_staff.post(f"{LIST}{ann.pk}/withdraw/")  # no place any more: the others move up
    rows = as_staff.get(LIST).json()
    assert [(r["id"], r["status"], r["position"]) for r in rows] == [
        (ann.pk, "withdrawn", None),
        (ben.pk, "waiting", 1),
        (cat.pk, "waiting", 2),
    ]


def test_the_list_filters_by_service_provider_and_status(as_staff, provider):
    second = one_slot_a_day_provider(name="Second")
    second.staff.add(as_staff.user)
    ann = join(provider, ANN, day_ahead())
    ben = join(second, BEN, day_ahead(), provider_id=second.pk)
    as_staff.post(f"{LIST}{ann.pk}/withdraw/")

    def ids(query):
        return [r["id"] for r in as_staff.get(f"{LIST}?{query}").json()]

    assert ids(f"service={service_of(provider).pk}") == [ann.pk]
    assert ids(f"provider={second.pk}") == [ben.pk]
    assert ids("status=waiting") == [ben.pk]
    assert as_staff.get(f"{LIST}?status=nonsense").status_code == 400


def test_the_list_pages_on_request(as_staff, provider):
    for who in (ANN, BEN, CAT):
        join(provider, who, day_ahead())
    page = as_staff.get(f"{LIST}?page_size=2").json()
    assert page["count"] == 3 and [r["position"] for r in page["results"]] == [1, 2]


def test_listing_costs_the_same_queries_for_three_entries_as_for_thirty(as_staff, provider):
    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert as_staff.get(LIST).status_code == 200
        return len(captured)

    for who in (ANN, BEN, CAT):
        join(provider, who, day_ahead())
    few = queries()
    for n in range(27):
        join(provider, ANN.__class__(name=f"C{n}", email=f"c{n}@example.com", timezone="UTC"), day_ahead())
    assert queries() == few <= 6


def test_another_staffs_entry_is_a_404(as_staff, provider):
    other = one_slot_a_day_provider(name="Other")
    entry = join(other, ANN, day_ahead())
    assert as_staff.get(f"{LIST}{entry.pk}/").status_code == 404
    assert as_staff.post(f"{LIST}{entry.pk}/withdraw/").status_code == 404


def test_staff_of_a_provider_offering_the_service_see_entries_for_any_provider(provider):
    colleague = one_slot_a_day_provider(name="Colleague")
    service_of(provider).providers.add(colleague)
    entry = join(provider, ANN, day_ahead())
    as_colleague = staff_of(colleague, username="colleague")
    assert as_colleague.get(f"{LIST}{entry.pk}/").json()["position"] == 1


def test_an_entry_naming_a_provider_is_hidden_from_colleagues_who_only_offer_the_service(provider):
    colleague = one_slot_a_day_provider(name="Colleague")
    service_of(provider).providers.add(colleague)
    entry = join(provider, ANN, day_ahead(), provider_id=provider.pk)
    as_colleague = staff_of(colleague, username="colleague")
    assert as_colleague.get(f"{LIST}{entry.pk}/").status_code == 404


def test_a_colleague_may_not_accept_an_offer_held_with_another_provider(provider):
    colleague = one_slot_a_day_provider(name="Colleague")
    service_of(provider).providers.add(colleague)
    entry = join(provider, ANN, day_ahead())  # any provider: the colleague sees it in line
    booking_cancel(booking_id=provider.bookings.get().pk)
    offers_make(service_id=service_of(provider).pk)
    entry.refresh_from_db()
    assert entry.offer_booking.provider_id == provider.pk
    as_colleague = staff_of(colleague, username="colleague")

    assert as_colleague.post(f"{LIST}{entry.pk}/accept/").status_code == 404
    entry.refresh_from_db()
    assert entry.status == EntryStatus.OFFERED


# --- transitions ----------------------------------------------------------------------------------


@pytest.fixture
def offered(provider, as_staff):
    """Ann and Ben wait for the full day; Dan cancels and Ann is offered his time."""
    ann, ben = join(provider, ANN, day_ahead()), join(provider, BEN, day_ahead())
    dans = provider.bookings.get(customer_email=DAN.email)
    booking_cancel(booking_id=dans.pk)
    assert offers_make(service_id=service_of(provider).pk) == 1
    return ann, ben


def test_an_offered_entry_shows_its_offer(as_staff, offered):
    ann, _ben = offered
    ann.refresh_from_db()
    shown = as_staff.get(f"{LIST}{ann.pk}/").json()
    assert shown["status"] == "offered" and shown["position"] is None
    assert shown["offer"]["booking"] == ann.offer_booking_id
    assert shown["offer"]["expires_at"].endswith("Z")


def test_accept_books_the_held_time_and_returns_the_booking(as_staff, offered):
    ann, _ben = offered
    response = as_staff.post(f"{LIST}{ann.pk}/accept/")
    assert response.status_code == 200, response.json()
    ann.refresh_from_db()
    assert response.json()["status"] == "booked" and response.json()["booking"] == ann.offer_booking_id
    assert ann.offer_booking.status == BookingStatus.CONFIRMED


def test_accepting_without_an_offer_is_a_409_invalid_transition(as_staff, offered):
    _ann, ben = offered
    response = as_staff.post(f"{LIST}{ben.pk}/accept/")
    assert response.status_code == 409 and response.json()["code"] == "invalid_transition"


def test_decline_closes_the_entry_and_releases_the_hold(as_staff, offered):
    ann, _ben = offered
    response = as_staff.post(f"{LIST}{ann.pk}/decline/")
    assert response.status_code == 200 and response.json()["status"] == "withdrawn"
    ann.refresh_from_db()
    assert ann.offer_booking.status == BookingStatus.CANCELLED
    assert as_staff.post(f"{LIST}{ann.pk}/decline/").json()["code"] == "invalid_transition"


def test_withdraw_leaves_the_line_and_twice_is_a_409(as_staff, offered):
    _ann, ben = offered
    response = as_staff.post(f"{LIST}{ben.pk}/withdraw/")
    assert response.status_code == 200 and response.json()["status"] == EntryStatus.WITHDRAWN
    again = as_staff.post(f"{LIST}{ben.pk}/withdraw/")
    assert again.status_code == 409 and again.json()["code"] == "invalid_transition"
