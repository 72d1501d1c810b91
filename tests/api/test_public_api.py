"""The public booking API (/api/v1/public/): anonymous booking, management by the manage token, its
throttle, and that nothing of staff or other customers is reachable through it."""

from datetime import datetime, timedelta
from urllib.parse import urlsplit

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from scheduling import manage_links
from scheduling.models import Booking, BookingStatus
from tests.factories import BookingFactory, ServiceFactory, UserFactory, service_of
from tests.payments.conftest import paid_online_provider
from tests.scheduling.conftest import future_slot, open_all_day_provider

pytestmark = pytest.mark.django_db

SERVICES = "/api/v1/public/services/"
BOOKINGS = "/api/v1/public/bookings/"
BOOKING_KEYS = {
    "reference", "status", "service", "provider", "start", "end", "provider_timezone", "customer", "language",
    "price", "currency", "hold_expires_at", "free_cancel_until", "late_cancel_fee", "cancelled_at",
    "cancellation_fee", "refund_amount", "manage_token", "manage_url", "payment",
}  # fmt: skip


@pytest.fixture
def anon(private_cache):
    return APIClient()


@pytest.fixture
def provider(db):
    return open_all_day_provider(name="Dr. Public", price="100.00", late_cancel_fee="25.00", free_cancel_hours=24)


def body(provider, start, **extra) -> dict:
    return {
        "service": service_of(provider).pk,
        "start": start.isoformat(),
        "customer": {"name": "Ada Visitor", "email": "ada@example.com", "timezone": "Europe/Berlin"},
        "notes": "Window seat",
        **extra,
    }


def book(anon, provider, start=None, **extra):
    return anon.post(BOOKINGS, body(provider, start or future_slot(), **extra), format="json")


def test_an_anonymous_visitor_books_and_gets_the_manage_link_and_token(anon, provider):
    response = book(anon, provider)

    assert response.status_code == 201, response.json()
    data = response.json()
    booking = Booking.objects.get(reference=data["reference"])
    assert booking.customer_email == "ada@example.com" and booking.status == BookingStatus.CONFIRMED
    assert data["manage_url"].endswith(manage_links.manage_path(booking, data["manage_token"]))
    assert anon.get(urlsplit(data["manage_url"]).path).status_code == 200


def test_a_booking_answer_holds_only_the_whitelisted_fields(anon, provider):
    data = book(anon, provider).json()

    assert set(data) == BOOKING_KEYS
    assert set(data["customer"]) == {"name", "email", "phone", "timezone"}
    assert set(data["service"]) == set(data["provider"]) == {"id", "name"}
    assert "notes" not in data and "id" not in data


def test_the_customers_language_is_the_bookings(anon, provider):
    response = book(anon, provider, customer={"name": "Jo", "email": "jo@example.com", "language": "de"})

    assert response.status_code == 201
    assert Booking.objects.get(reference=response.json()["reference"]).language == "de"


def test_a_taken_slot_is_a_409_without_the_other_bookings_id(anon, provider):
    start = future_slot()
    assert book(anon, provider, start).status_code == 201

    response = book(anon, provider, start)

    assert response.status_code == 409
    assert response.json()["code"] == "slot_unavailable"
    assert set(response.json()) == {"code", "detail"}


def test_invalid_input_is_a_400_naming_the_fields(anon, provider):
    response = anon.post(BOOKINGS, {"service": service_of(provider).pk, "customer": {"email": "nope"}}, format="json")

    assert response.status_code == 400
    data = response.json()
    assert data["code"] == "invalid"
    assert {"start", "customer.name", "customer.email"} <= set(data["fields"])


def test_a_start_off_the_grid_is_a_400_slot_not_offered(anon, provider):
    response = book(anon, provider, future_slot(minute=7))

    assert response.status_code == 400
    assert response.json()["code"] == "slot_not_offered"


def test_booking_posts_are_throttled_with_retry_after(anon, provider, settings):
    settings.BOOKING_POST_RATE = (2, 60)

    codes = [book(anon, provider, future_slot(hour=h)).status_code for h in (9, 10, 11)]

    assert codes == [201, 201, 429]
    refused = book(anon, provider, future_slot(hour=12))
    assert refused.status_code == 429
    assert refused["Retry-After"] == "60"
    assert refused.json()["code"] == "throttled"


def test_reads_are_throttled_at_the_anonymous_rate(anon, provider, settings):
    rates = settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {**rates, "slots": "2/min"}}

    codes = [anon.get(SERVICES).status_code for _ in range(3)]

    assert codes == [200, 200, 429]
    assert int(anon.get(SERVICES)["Retry-After"]) > 0


def test_services_list_the_active_ones_with_public_provider_fields_only(anon, provider):
    ServiceFactory(providers=[provider], is_active=False, name="Retired")
    staff = UserFactory(username="staff-of-public")
    provider.staff.add(staff)

    data = anon.get(SERVICES).json()

    assert [s["name"] for s in data] == [service_of(provider).name]
    assert set(data[0]["providers"][0]) == {"id", "name", "slug", "kind", "timezone"}
    assert "staff-of-public" not in str(data)


def test_slots_of_a_service_in_the_visitors_zone(anon, provider):
    day = future_slot().date()
    url = f"{SERVICES}{service_of(provider).pk}/slots/?start={day}&end={day}&tz=Europe/Berlin"

    response = anon.get(url)

    assert response.status_code == 200
    data = response.json()
    assert data["timezone"] == "Europe/Berlin"
    assert data["slots"] and data["slots"][0]["providers"] == [provider.pk]
    assert data["slots"][0]["local_start"].endswith(("+01:00", "+02:00"))


def test_the_token_reads_its_booking(anon, provider):
    made = book(anon, provider).json()

    response = anon.get(f"{BOOKINGS}{made['manage_token']}/")

    assert response.status_code == 200
    assert response.json()["reference"] == made["reference"]
    assert set(response.json()) == BOOKING_KEYS


def test_the_token_of_the_customers_manage_link_works_too(anon, provider):
    booking = BookingFactory(provider=provider, start_at=future_slot())

    response = anon.get(f"{BOOKINGS}{manage_links.token_for(booking)}/")

    assert response.status_code == 200
    assert response.json()["reference"] == booking.reference


@pytest.mark.parametrize(
    "token",
    [
        "not-a-token",
        "W1s5OTk5LDBdXQ:forged:signature",
        manage_links.unsign_id_and_version.__name__,  # no colon: an old-style random token, not accepted
    ],
)
def test_a_wrong_or_forged_token_is_a_404(anon, provider, token):
    book(anon, provider)

    for path in ("", "cancel/", "reschedule/"):
        method = anon.get if not path else anon.post
        response = method(f"{BOOKINGS}{token}/{path}", {"start": future_slot(hour=15).isoformat()}, format="json")
        assert response.status_code == 404, path
        assert response.json()["code"] == "not_found"


def test_a_token_revoked_by_bumping_the_secret_version_is_a_404(anon, provider):
    made = book(anon, provider).json()
    Booking.objects.filter(reference=made["reference"]).update(manage_secret_version=1)

    assert anon.get(f"{BOOKINGS}{made['manage_token']}/").status_code == 404


def test_a_token_signed_for_another_purpose_is_a_404(anon, provider):
    from django.core import signing

    booking = BookingFactory(provider=provider, start_at=future_slot())
    other = signing.dumps([booking.pk, booking.manage_secret_version], salt="waitlist.entry-link")

    assert anon.get(f"{BOOKINGS}{other}/").status_code == 404


def test_the_customer_cancels_by_token(anon, provider):
    made = book(anon, provider).json()

    response = anon.post(f"{BOOKINGS}{made['manage_token']}/cancel/", {"note": "Ill"}, format="json")

    assert response.status_code == 200, response.json()
    assert response.json()["status"] == BookingStatus.CANCELLED
    booking = Booking.objects.get(reference=made["reference"])
    assert booking.status == BookingStatus.CANCELLED and booking.cancel_reason == "customer"


def test_cancelling_twice_is_a_409(anon, provider):
    token = book(anon, provider).json()["manage_token"]
    anon.post(f"{BOOKINGS}{token}/cancel/", {}, format="json")

    response = anon.post(f"{BOOKINGS}{token}/cancel/", {}, format="json")

    assert response.status_code == 409
    assert response.json()["code"] == "invalid_transition"


def test_a_booking_that_has_started_cannot_be_cancelled_online(anon, provider):
    booking = BookingFactory(provider=provider, start_at=timezone.now().replace(second=0, microsecond=0))

    response = anon.post(f"{BOOKINGS}{manage_links.token_for(booking)}/cancel/", {}, format="json")

    assert response.status_code == 409
    assert Booking.objects.get(pk=booking.pk).status == booking.status


def test_the_customer_reschedules_by_token_and_gets_the_new_bookings_token(anon, provider):
    made = book(anon, provider, future_slot(hour=10)).json()
    new_start = future_slot(hour=14)

    response = anon.post(
        f"{BOOKINGS}{made['manage_token']}/reschedule/", {"start": new_start.isoformat()}, format="json"
    )

    assert response.status_code == 201, response.json()
    moved = response.json()
    assert moved["reference"] != made["reference"]
    assert moved["start"] == new_start.isoformat().replace("+00:00", "Z")
    assert anon.get(f"{BOOKINGS}{moved['manage_token']}/").json()["reference"] == moved["reference"]
    old = anon.get(f"{BOOKINGS}{made['manage_token']}/").json()
    assert old["status"] == BookingStatus.CANCELLED


def test_rescheduling_onto_a_taken_slot_is_a_409_without_any_booking_id(anon, provider):
    other_start = future_slot(hour=14)
    BookingFactory(provider=provider, start_at=other_start)
    made = book(anon, provider, future_slot(hour=10)).json()

    response = anon.post(
        f"{BOOKINGS}{made['manage_token']}/reschedule/", {"start": other_start.isoformat()}, format="json"
    )

    assert response.status_code == 409
    assert set(response.json()) == {"code", "detail"}


def test_rescheduling_a_moved_booking_is_a_409_without_its_successors_id(anon, provider):
    made = book(anon, provider, future_slot(hour=10)).json()
    url = f"{BOOKINGS}{made['manage_token']}/reschedule/"
    assert anon.post(url, {"start": future_slot(hour=14).isoformat()}, format="json").status_code == 201
    Booking.objects.filter(reference=made["reference"]).update(start_at=future_slot(hour=10))

    response = anon.post(url, {"start": future_slot(hour=16).isoformat()}, format="json")

    assert response.status_code == 409
    assert "rescheduled_to" not in response.json()


def test_an_online_paid_service_answers_with_what_the_page_needs_to_pay(anon, stripe_local):
    shop = paid_online_provider(slug="public-shop")

    response = book(anon, shop)

    assert response.status_code == 201, response.json()
    data = response.json()
    assert data["status"] == BookingStatus.PENDING and data["hold_expires_at"]
    payment = data["payment"]
    assert payment["status"] == "awaiting_payment" and payment["amount_due"] == "120.00"
    assert payment["checkout_url"] == data["manage_url"]
    assert payment["client_secret"]
    shown_later = anon.get(f"{BOOKINGS}{data['manage_token']}/").json()["payment"]
    assert shown_later["checkout_url"] == data["manage_url"] and "client_secret" not in shown_later


def test_a_service_paid_at_the_venue_has_no_checkout(anon, provider):
    assert book(anon, provider).json()["payment"]["checkout_url"] is None


@pytest.mark.parametrize("path", ["/api/v1/bookings/", "/api/v1/waitlist/", "/api/v1/bookings/1/"])
def test_staff_endpoints_stay_closed_to_anonymous_callers(anon, provider, path):
    BookingFactory(provider=provider, start_at=future_slot())

    assert anon.get(path).status_code in (401, 403)


def test_public_endpoints_ignore_a_staff_session(provider, private_cache):
    """No authentication classes: a logged-in staff browser is anonymous here, so no session (and no
    CSRF check a cross-origin widget could never pass) applies."""
    from django.test import Client

    browser = Client(enforce_csrf_checks=True)
    browser.force_login(UserFactory(username="root", is_superuser=True))

    response = browser.post(BOOKINGS, body(provider, future_slot()), content_type="application/json")

    assert response.status_code == 201, response.content


def test_no_other_bookings_or_customers_are_listed(anon, provider):
    BookingFactory(provider=provider, start_at=future_slot(hour=9), customer_email="other@example.com")
    made = book(anon, provider).json()

    for url in (SERVICES, f"{BOOKINGS}{made['manage_token']}/"):
        assert "other@example.com" not in anon.get(url).content.decode()
    assert anon.get(BOOKINGS).status_code == 405


def test_the_hold_expiry_is_shown_for_a_pending_booking(anon, provider):
    service = service_of(provider)
    service.requires_confirmation = True
    service.save()

    data = book(anon, provider).json()

    assert data["status"] == BookingStatus.PENDING
    assert timezone.now() < datetime.fromisoformat(data["hold_expires_at"]) < timezone.now() + timedelta(days=8)


def test_forwarded_for_headers_do_not_buy_a_fresh_throttle_budget(anon, settings):
    settings.BOOKING_POST_RATE = (1, 60)
    posts = [
        anon.post("/api/v1/public/bookings/", {}, format="json", HTTP_X_FORWARDED_FOR=f"10.0.0.{i}").status_code
        for i in range(3)
    ]
    rates = settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {**rates, "slots": "1/min"}}
    reads = [
        anon.get(
            "/api/v1/public/services/", HTTP_X_FORWARDED_FOR=f"10.0.1.{i}", HTTP_X_REAL_IP=f"1.1.1.{i}"
        ).status_code
        for i in range(3)
    ]

    assert posts[1:] == reads[1:] == [429, 429]
