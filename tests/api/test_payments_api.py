"""A booking's `payment` over the API, the staff refund endpoint, rescheduling to another service, and a
service's `payment_mode`, against a real localstripe process where money moves."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from payments.models import Payment
from payments.services import checkout_charge, payment_mark_paid, payment_pay
from scheduling.models import Booking, BookingStatus
from tests.api.conftest import client_for, grant
from tests.factories import ServiceFactory
from tests.payments.conftest import book, paid_online_provider, run_gateway_calls
from tests.scheduling.conftest import future_slot, open_all_day_provider
from tests.stripe_fixtures import free_port

pytestmark = pytest.mark.django_db
URL = "/api/v1/bookings/"


def body(provider, start):
    return {
        "provider": provider.pk,
        "start": start.isoformat().replace("+00:00", "Z"),
        "customer": {"name": "Kiko", "email": "kiko@example.com", "timezone": "Asia/Tokyo"},
    }


@pytest.fixture
def online_a(staff_a):
    provider = paid_online_provider(slug="online-a")
    provider.staff.add(staff_a)
    return provider


@pytest.fixture
def at_venue_a(staff_a):
    provider = open_all_day_provider(slug="venue-a", price="50.00", currency="EUR", payment_mode="at_venue")
    provider.staff.add(staff_a)
    return provider


def paid_online(provider, stripe_local, start=None) -> Booking:
    booking = book(provider, start or future_slot())
    charge = checkout_charge(booking=booking)
    payment_pay(payment_id=charge.pk, card_token=stripe_local.card_token())
    return Booking.objects.get(pk=booking.pk)


# --- create ---------------------------------------------------------------------------------------


def test_booking_an_online_service_answers_with_the_started_charge_and_its_client_secret(as_a, online_a, stripe_local):
    response = as_a.post(URL, body(online_a, future_slot()), format="json")
    assert response.status_code == 201
    payment = response.json()["payment"]
    charge = Payment.objects.get(booking_id=response.json()["id"])
    assert response.json()["status"] == BookingStatus.PENDING
    assert payment["mode"] == "online" and payment["status"] == "awaiting_payment"
    assert (payment["amount_due"], payment["amount_paid"], payment["amount_refunded"]) == ("120.00", "0.00", "0.00")
    assert (payment["currency"], payment["gateway"]) == ("EUR", "stripe")
    assert payment["reference"].startswith("pi_") and payment["reference"] == charge.reference
    assert payment["client_secret"] == charge.client_secret and payment["client_secret"].startswith("pi_")


def test_reading_or_listing_a_booking_never_shows_the_client_secret(as_a, online_a, stripe_local):
    created = as_a.post(URL, body(online_a, future_slot()), format="json").json()
    read = as_a.get(f"{URL}{created['id']}/").json()
    listed = as_a.get(URL).json()["results"][0]
    secret = created["payment"]["client_secret"]
    assert secret
    for answer in (read, listed):
        assert "client_secret" not in answer["payment"]
        assert answer["payment"]["reference"] == created["payment"]["reference"]
        assert secret not in str(answer)


def test_a_replayed_creation_shows_the_same_charge_and_secret_and_starts_no_other(as_a, online_a, stripe_local):
    first = as_a.post(URL, body(online_a, future_slot()), format="json", HTTP_IDEMPOTENCY_KEY="pay-1")
    second = as_a.post(URL, body(online_a, future_slot()), format="json", HTTP_IDEMPOTENCY_KEY="pay-1")
    assert second.headers["Idempotent-Replayed"] == "true"
    assert second.json()["payment"] == first.json()["payment"]
    assert Payment.objects.count() == 1


def test_a_gateway_down_still_books_and_holds_with_the_charge_not_yet_started(as_a, online_a, stripe_local, settings):
    settings.STRIPE_API_BASE = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    response = as_a.post(URL, body(online_a, future_slot()), format="json")
    assert response.status_code == 201
    payment = response.json()["payment"]
    assert response.json()["status"] == BookingStatus.PENDING
    assert payment["status"] == "awaiting_payment"
    assert payment["reference"] is None and payment["client_secret"] is None


def test_a_free_booking_shows_no_payment(as_a, provider_a):
    response = as_a.post(URL, body(provider_a, future_slot()), format="json")
    payment = response.json()["payment"]
    assert (payment["mode"], payment["status"], payment["amount_paid"], payment["reference"]) == (
        "none",
        "none",
        "0.00",
        None,
    )


def test_paid_at_the_venue_shows_paid_with_the_at_venue_gateway(as_a, at_venue_a, staff_a):
    booking = book(at_venue_a)
    assert as_a.get(f"{URL}{booking.pk}/").json()["payment"]["status"] == "awaiting_payment"
    payment_mark_paid(payment_id=booking.payments.get().pk, user=staff_a)
    payment = as_a.get(f"{URL}{booking.pk}/").json()["payment"]
    assert (payment["mode"], payment["status"], payment["gateway"], payment["amount_paid"]) == (
        "at_venue",
        "paid",
        "at_venue",
        "50.00",
    )


def test_the_bookings_list_reads_every_payment_in_one_query(as_a, at_venue_a):
    def statements_for_list() -> int:
        with CaptureQueriesContext(connection) as statements:
            assert as_a.get(URL).status_code == 200
        return len(statements)

    book(at_venue_a, future_slot(days=2))
    one = statements_for_list()
    for day in range(3, 8):
        book(at_venue_a, future_slot(days=day))
    assert statements_for_list() == one


# --- refund -----------------------------------------------------------------------------------


def test_staff_refund_everything_paid_by_default(as_a, online_a, stripe_local):
    booking = paid_online(online_a, stripe_local)
    response = as_a.post(f"{URL}{booking.pk}/refund/", {}, format="json")
    assert response.status_code == 200
    payment = response.json()["payment"]
    assert (payment["status"], payment["amount_paid"], payment["amount_refunded"]) == ("refunded", "120.00", "120.00")
    run_gateway_calls()
    refund = Payment.objects.get(booking=booking, kind=Payment.Kind.REFUND)
    assert refund.status == Payment.Status.SUCCEEDED and refund.reference.startswith("re_")
    assert refund.amount == Decimal("120.00") and refund.reason == Payment.Reason.STAFF


def test_staff_refund_part_of_what_was_paid(as_a, online_a, stripe_local, staff_a):
    booking = paid_online(online_a, stripe_local)
    response = as_a.post(f"{URL}{booking.pk}/refund/", {"amount": "20.50"}, format="json")
    assert response.status_code == 200
    assert response.json()["payment"]["status"] == "partially_refunded"
    assert response.json()["payment"]["amount_refunded"] == "20.50"
    refund = Payment.objects.get(booking=booking, kind=Payment.Kind.REFUND)
    assert refund.recorded_by == staff_a
    run_gateway_calls()
    refund.refresh_from_db()
    assert refund.status == Payment.Status.SUCCEEDED and refund.amount == Decimal("20.50")


def test_refunding_more_than_was_paid_is_a_400_naming_amount(as_a, online_a, stripe_local):
    booking = paid_online(online_a, stripe_local)
    response = as_a.post(f"{URL}{booking.pk}/refund/", {"amount": "120.01"}, format="json")
    assert response.status_code == 400
    assert response.json()["code"] == "invalid" and "amount" in response.json()["fields"]
    assert not Payment.objects.filter(kind=Payment.Kind.REFUND).exists()


def test_refunding_a_booking_nothing_was_paid_for_is_a_400_naming_amount(as_a, provider_a):
    booking = book(provider_a)
    response = as_a.post(f"{URL}{booking.pk}/refund/", {}, format="json")
    assert response.status_code == 400 and "amount" in response.json()["fields"]


def test_another_providers_staff_get_a_404_and_nothing_is_refunded(as_b, at_venue_a, staff_a):
    booking = book(at_venue_a)
    payment_mark_paid(payment_id=booking.payments.get().pk, user=staff_a)
    assert as_b.post(f"{URL}{booking.pk}/refund/", {}, format="json").status_code == 404
    assert not Payment.objects.filter(kind=Payment.Kind.REFUND).exists()


def test_staff_without_change_booking_get_a_403(at_venue_a, staff_a):
    booking = book(at_venue_a)
    payment_mark_paid(payment_id=booking.payments.get().pk, user=staff_a)
    viewer = staff_a.__class__.objects.create_user(username="viewer")
    at_venue_a.staff.add(viewer)
    grant(viewer, "view_booking")
    assert client_for(viewer).post(f"{URL}{booking.pk}/refund/", {}, format="json").status_code == 403
    assert not Payment.objects.filter(kind=Payment.Kind.REFUND).exists()


def test_an_anonymous_refund_is_a_401(anon, at_venue_a):
    booking = book(at_venue_a)
    assert anon.post(f"{URL}{booking.pk}/refund/", {}, format="json").status_code == 401


# --- reschedule to another service ---------------------------------------------------------------


def test_reschedule_moves_to_another_service_of_the_provider(as_a, provider_a):
    booking = book(provider_a, future_slot(hour=9))
    longer = ServiceFactory(providers=[provider_a], duration_minutes=60, price="150.00", currency=booking.currency)
    response = as_a.post(
        f"{URL}{booking.pk}/reschedule/",
        {"start": future_slot(hour=13).isoformat(), "service": longer.pk},
        format="json",
    )
    assert response.status_code == 201, response.json()
    assert (response.json()["service"], response.json()["price"]) == (longer.pk, "150.00")
    new = Booking.objects.get(pk=response.json()["id"])
    assert new.end_at - new.start_at == timedelta(minutes=60)


# --- services ---------------------------------------------------------------------------------------


def test_a_service_shows_and_takes_its_payment_mode(as_a, provider_a):
    service = provider_a.services.get()
    assert as_a.get(f"/api/v1/services/{service.pk}/").json()["payment_mode"] == "none"
    response = as_a.patch(f"/api/v1/services/{service.pk}/", {"payment_mode": "at_venue"}, format="json")
    assert response.status_code == 200 and response.json()["payment_mode"] == "at_venue"
    service.refresh_from_db()
    assert service.payment_mode == "at_venue"


def test_online_payment_for_a_free_service_is_a_400_naming_payment_mode(as_a, provider_a):
    service = provider_a.services.get()
    response = as_a.patch(f"/api/v1/services/{service.pk}/", {"payment_mode": "online", "price": "0.00"}, format="json")
    assert response.status_code == 400
    assert "payment_mode" in response.json()["fields"]


@pytest.mark.django_db(transaction=True)
def test_the_charge_starts_outside_the_bookings_transaction_even_with_an_idempotency_key(
    as_a, online_a, stripe_local, monkeypatch
):
    from payments.gateways.stripe_gateway import StripeGateway
    from scheduling.models import IdempotencyRecord

    start_charge, seen = StripeGateway.start_charge, []

    def recording(self, **kwargs):
        seen.append(connection.in_atomic_block)
        return start_charge(self, **kwargs)

    monkeypatch.setattr(StripeGateway, "start_charge", recording)
    response = as_a.post(URL, body(online_a, future_slot()), format="json", HTTP_IDEMPOTENCY_KEY="pay-1")

    assert response.status_code == 201 and response.json()["payment"]["client_secret"]
    assert seen == [False]  # no provider lock or idempotency record held while the gateway answers
    stored = IdempotencyRecord.objects.get(key="pay-1").response_body
    assert not stored["payment"].get("client_secret")  # the secret is never kept in the record


def test_a_refund_retried_with_the_same_idempotency_key_refunds_once(as_a, online_a, stripe_local):
    booking = paid_online(online_a, stripe_local)
    url = f"{URL}{booking.pk}/refund/"
    first = as_a.post(url, {"amount": "40.00"}, format="json", HTTP_IDEMPOTENCY_KEY="refund-1")
    again = as_a.post(url, {"amount": "40.00"}, format="json", HTTP_IDEMPOTENCY_KEY="refund-1")

    assert (first.status_code, again.status_code) == (200, 200)
    assert again.headers["Idempotent-Replayed"] == "true"
    assert list(Payment.objects.filter(kind="refund").values_list("amount", flat=True)) == [Decimal("40.00")]
