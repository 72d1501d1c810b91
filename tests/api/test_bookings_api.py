from datetime import timedelta

import pytest

from scheduling.models import Booking, BookingStatus, Customer
from tests.factories import BookingFactory
from tests.scheduling.conftest import future_slot, open_all_day_provider

pytestmark = pytest.mark.django_db

URL = "/api/v1/bookings/"


def iso(value) -> str:
    return value.isoformat().replace("+00:00", "Z")


def booking_body(provider, start, **overrides):
    body = {
        "provider": provider.pk,
        "start": iso(start),
        "customer": {"name": "Kiko", "email": "kiko@example.com", "phone": "", "timezone": "Asia/Tokyo"},
        "notes": "window seat",
    }
    body.update(overrides)
    return body


def test_post_books_a_slot_and_returns_201_with_the_documented_fields(as_a, provider_a):
    start = future_slot(days=5)
    response = as_a.post(URL, booking_body(provider_a, start), format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    expected = {"id", "reference", "provider", "customer", "start", "end", "status", "hold_expires_at",
                "provider_timezone", "customer_timezone", "free_cancel_until", "late_cancel_fee"}  # fmt: skip
    assert expected <= body.keys()
    assert body["start"] == iso(start)
    assert body["end"] == iso(start + timedelta(minutes=30))
    assert body["status"] == "confirmed"
    assert body["customer"]["email"] == "kiko@example.com"
    assert body["customer_timezone"] == "Asia/Tokyo"
    assert body["free_cancel_until"] == iso(start - timedelta(hours=24))
    assert body["late_cancel_fee"] == "20.00"
    assert Booking.objects.get(pk=body["id"]).notes == "window seat"


@pytest.mark.parametrize(
    ("who", "key", "most"),
    [
        # token, customer read + insert, the provider's only service, provider lock (rules, blocked times
        # and whether webhooks or two-way calendars follow the provider, in the same statement), booking,
        # reminders, staff emails, outbox; and the transaction's two ends. Nobody follows this provider
        # (no webhook or calendar lookup), and its service is not paid for (no payment rows to read).
        ("superuser", None, 11),
        ("staff", None, 14),  # + may this user book this provider, + their permissions (own, groups')
        ("staff", "k-1", 20),  # + the idempotency record (insert, update) and two savepoints
    ],
)
def test_a_booking_post_stays_within_its_statement_budget(who, key, most, staff_a, superuser, provider_a):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from tests.api.conftest import client_for

    client = client_for(superuser if who == "superuser" else staff_a)
    extra = {"HTTP_IDEMPOTENCY_KEY": key} if key else {}
    with CaptureQueriesContext(connection) as statements:
        response = client.post(URL, booking_body(provider_a, future_slot()), format="json", **extra)
    assert response.status_code == 201
    assert len(statements) <= most, [q["sql"][:60] for q in statements.captured_queries]


def test_post_matches_the_customer_by_email(as_a, provider_a):
    as_a.post(URL, booking_body(provider_a, future_slot(hour=9)), format="json")
    second = booking_body(provider_a, future_slot(hour=10))
    second["customer"]["email"] = "KIKO@example.com"
    assert as_a.post(URL, second, format="json").status_code == 201
    assert Customer.objects.count() == 1


def test_post_on_a_taken_slot_is_a_409_naming_the_winner(as_a, provider_a):
    start = future_slot()
    winner = as_a.post(URL, booking_body(provider_a, start), format="json").json()
    response = as_a.post(
        URL, booking_body(provider_a, start, customer={"name": "B", "email": "b@x.org"}), format="json"
    )
    assert response.status_code == 409
    assert response.json()["code"] == "slot_unavailable"
    assert response.json()["conflicting_booking_id"] == winner["id"]
    assert response.json()["detail"]


@pytest.mark.parametrize(
    ("start", "field"),
    [
        (lambda: iso(future_slot(minute=10)), "start"),
        (lambda: iso(future_slot(days=-2)), "start"),
        (lambda: future_slot().replace(tzinfo=None).isoformat(), "start"),
        (lambda: "tomorrow at ten", "start"),
    ],
    ids=["off-grid", "in-the-past", "naive", "garbage"],
)
def test_post_with_a_bad_start_is_a_400_naming_the_field_and_writes_nothing(as_a, provider_a, start, field):
    body = booking_body(provider_a, future_slot())
    body["start"] = start()
    response = as_a.post(URL, body, format="json")
    assert response.status_code == 400, response.json()
    assert field in response.json()["fields"]
    assert Booking.objects.count() == 0
    assert Customer.objects.count() == 0


def test_post_outside_open_time_is_a_400(as_a, staff_a):
    provider = open_all_day_provider(slug="nine-to-ten")
    provider.rules.update(start_time="09:00", end_time="10:00")
    provider.staff.add(staff_a)
    response = as_a.post(URL, booking_body(provider, future_slot(hour=14)), format="json")
    assert response.status_code == 400
    assert response.json()["code"] == "slot_not_offered"


@pytest.mark.parametrize("zone", ["Europe/Atlantis", "US/Eastern"])  # unknown; an old alias
def test_post_with_an_unknown_or_alias_customer_zone_is_a_400_naming_it(as_a, provider_a, zone):
    body = booking_body(provider_a, future_slot())
    body["customer"]["timezone"] = zone
    response = as_a.post(URL, body, format="json")
    assert response.status_code == 400
    assert "customer.timezone" in response.json()["fields"]
    assert not provider_a.bookings.exists()


def test_post_with_missing_fields_lists_each_under_fields(as_a):
    response = as_a.post(URL, {}, format="json")
    assert response.status_code == 400
    assert {"service", "provider", "start", "customer"} <= response.json()["fields"].keys()


def test_post_with_malformed_json_is_a_400_not_a_500(as_a):
    response = as_a.generic("POST", URL, "{not json", content_type="application/json")
    assert response.status_code == 400
    assert response.json()["code"] == "malformed_request"


def test_post_for_another_staffs_provider_is_refused_and_writes_nothing(as_b, provider_a):
    response = as_b.post(URL, booking_body(provider_a, future_slot()), format="json")
    assert response.status_code == 400
    assert response.json()["fields"] == {"provider": ["No such provider."]}
    assert Booking.objects.count() == 0


def test_list_filters_by_status_provider_dates_and_email(as_root, provider_a, provider_b):
    base = future_slot(days=4)
    one = BookingFactory(provider=provider_a, start_at=base, customer__email="one@example.com")
    BookingFactory(provider=provider_a, start_at=base + timedelta(hours=2), status=BookingStatus.CANCELLED)
    BookingFactory(provider=provider_b, start_at=base + timedelta(days=1))

    def ids(**params):
        response = as_root.get(URL, params)
        assert response.status_code == 200
        return [b["id"] for b in response.json()["results"]]

    assert len(ids()) == 3
    assert ids(status="confirmed", provider=provider_a.pk) == [one.pk]
    assert ids(customer_email="ONE@example.com") == [one.pk]
    assert len(ids(start_after=iso(base + timedelta(hours=1)))) == 2
    assert ids(start_before=iso(base + timedelta(hours=1))) == [one.pk]


def test_list_is_paginated(as_root, provider_a):
    base = future_slot(days=4, hour=0)
    for n in range(3):
        BookingFactory(provider=provider_a, start_at=base + timedelta(hours=n))
    body = as_root.get(URL, {"page_size": 2}).json()
    assert body["count"] == 3
    assert len(body["results"]) == 2
    assert body["next"]


def test_list_with_a_naive_filter_is_a_400_naming_it(as_root):
    response = as_root.get(URL, {"start_after": "2027-01-01T10:00:00"})
    assert response.status_code == 400
    assert "start_after" in response.json()["fields"]


def test_get_one_booking(as_a, provider_a):
    booking = BookingFactory(provider=provider_a)
    response = as_a.get(f"{URL}{booking.pk}/")
    assert response.status_code == 200
    assert response.json()["reference"] == booking.reference


def test_confirm_cancel_complete_and_no_show_return_200_with_the_booking(as_a, provider_a):
    pending = BookingFactory(provider=provider_a, status=BookingStatus.PENDING)
    assert as_a.post(f"{URL}{pending.pk}/confirm/").json()["status"] == "confirmed"
    cancelled = as_a.post(f"{URL}{pending.pk}/cancel/", {"reason": "provider"}, format="json")
    assert cancelled.status_code == 200
    assert (cancelled.json()["status"], cancelled.json()["cancel_reason"]) == ("cancelled", "provider")
    started = BookingFactory(provider=provider_a, start_at=future_slot(days=-1))
    assert as_a.post(f"{URL}{started.pk}/complete/").json()["status"] == "completed"
    other = BookingFactory(provider=provider_a, start_at=future_slot(days=-2))
    assert as_a.post(f"{URL}{other.pk}/no-show/").json()["status"] == "no_show"


def test_an_illegal_transition_is_a_409_invalid_transition(as_a, provider_a):
    booking = BookingFactory(provider=provider_a, status=BookingStatus.CANCELLED)
    response = as_a.post(f"{URL}{booking.pk}/confirm/")
    assert response.status_code == 409
    assert response.json()["code"] == "invalid_transition"


def test_completing_before_the_start_is_a_409(as_a, provider_a):
    booking = BookingFactory(provider=provider_a, start_at=future_slot(days=2))
    response = as_a.post(f"{URL}{booking.pk}/complete/")
    assert response.status_code == 409
    assert "before it starts" in response.json()["detail"]


def test_cancel_needs_a_known_reason(as_a, provider_a):
    booking = BookingFactory(provider=provider_a)
    response = as_a.post(f"{URL}{booking.pk}/cancel/", {"reason": "rescheduled"}, format="json")
    assert response.status_code == 400
    assert "reason" in response.json()["fields"]


def test_reschedule_returns_201_with_the_new_booking_linked(as_a, provider_a):
    old = as_a.post(URL, booking_body(provider_a, future_slot(hour=9)), format="json").json()
    response = as_a.post(f"{URL}{old['id']}/reschedule/", {"start": iso(future_slot(hour=15))}, format="json")
    assert response.status_code == 201
    assert response.json()["rescheduled_from"] == old["id"]
    assert as_a.get(f"{URL}{old['id']}/").json()["rescheduled_to"] == response.json()["id"]


def test_reschedule_onto_a_taken_slot_is_a_409_and_changes_nothing(as_a, provider_a):
    old = as_a.post(URL, booking_body(provider_a, future_slot(hour=9)), format="json").json()
    other = as_a.post(URL, booking_body(provider_a, future_slot(hour=15), customer={"name": "Z", "email": "z@x.org"}),
                      format="json").json()  # fmt: skip
    response = as_a.post(f"{URL}{old['id']}/reschedule/", {"start": iso(future_slot(hour=15))}, format="json")
    assert response.status_code == 409
    assert response.json()["conflicting_booking_id"] == other["id"]
    assert as_a.get(f"{URL}{old['id']}/").json()["status"] == "confirmed"


def test_a_superuser_booking_an_unknown_provider_gets_a_400_naming_it(as_root, provider_a):
    body = booking_body(provider_a, future_slot())
    body["provider"] = provider_a.pk + 1000
    response = as_root.post(URL, body, format="json")
    assert response.status_code == 400
    assert response.json()["fields"] == {"provider": ["No such provider."]}


# --- integrators: reschedule refusals, the manage link -----------------------------------------


def test_reschedule_to_the_bookings_own_time_is_a_400_naming_start(as_a, provider_a):
    start = future_slot(hour=9)
    old = as_a.post(URL, booking_body(provider_a, start), format="json").json()
    response = as_a.post(f"{URL}{old['id']}/reschedule/", {"start": iso(start)}, format="json")
    assert response.status_code == 400
    assert (response.json()["code"], list(response.json()["fields"])) == ("invalid", ["start"])
    assert as_a.get(f"{URL}{old['id']}/").json()["status"] == "confirmed"


def test_reschedule_of_a_moved_booking_is_a_409_naming_the_booking_that_replaced_it(as_a, provider_a):
    old = as_a.post(URL, booking_body(provider_a, future_slot(hour=9)), format="json").json()
    new = as_a.post(f"{URL}{old['id']}/reschedule/", {"start": iso(future_slot(hour=11))}, format="json").json()
    response = as_a.post(f"{URL}{old['id']}/reschedule/", {"start": iso(future_slot(hour=15))}, format="json")
    assert response.status_code == 409
    body = response.json()
    assert (body["code"], body["rescheduled_to"]) == ("invalid_transition", new["id"])
    assert "moved" in body["detail"]
    assert Booking.objects.count() == 2


def test_the_creation_answer_carries_an_absolute_working_manage_url(as_a, provider_a, settings, client):
    settings.SITE_URL = "https://book.example.com"
    body = as_a.post(URL, booking_body(provider_a, future_slot()), format="json").json()
    assert body["manage_url"].startswith(f"https://book.example.com/b/{body['reference']}/")
    page = client.get(body["manage_url"].removeprefix(settings.SITE_URL))
    assert page.status_code == 200
    assert body["reference"].encode() in page.content


def test_the_reschedule_answer_carries_the_new_bookings_manage_url(as_a, provider_a, client, settings):
    old = as_a.post(URL, booking_body(provider_a, future_slot(hour=9)), format="json").json()
    new = as_a.post(f"{URL}{old['id']}/reschedule/", {"start": iso(future_slot(hour=11))}, format="json").json()
    assert f"/b/{new['reference']}/" in new["manage_url"]
    assert client.get(new["manage_url"].removeprefix(settings.SITE_URL)).status_code == 200


def test_reading_or_listing_bookings_never_shows_a_manage_url(as_a, provider_a):
    created = as_a.post(URL, booking_body(provider_a, future_slot()), format="json").json()
    assert "manage_url" not in as_a.get(f"{URL}{created['id']}/").json()
    assert all("manage_url" not in b for b in as_a.get(URL).json()["results"])
    cancelled = as_a.post(f"{URL}{created['id']}/cancel/", {"reason": "provider"}, format="json").json()
    assert "manage_url" not in cancelled
