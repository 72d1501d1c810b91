"""Data migrations on existing rows."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

BEFORE = [("scheduling", "0005_register_idempotency_purge")]
CONTACT_DETAILS = [("scheduling", "0006_booking_contact_details")]


def migrate(targets):
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


@pytest.fixture(scope="module")
def latest_schema_after_the_module(django_db_setup, django_db_blocker):
    """The tests move the schema back and forth from wherever the previous one left it (a few
    migrations each); the latest schema comes back once, for the rest of the suite. Migrating the whole
    project back and forward again costs several seconds a time."""
    yield
    with django_db_blocker.unblock():
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())


@pytest.fixture
def back_to_0005(latest_schema_after_the_module):
    return migrate(BEFORE)


@pytest.mark.django_db(transaction=True)
def test_existing_bookings_get_their_customers_name_email_and_phone(back_to_0005):
    apps = back_to_0005
    Provider, Customer, Booking = (apps.get_model("scheduling", m) for m in ("Provider", "Customer", "Booking"))
    provider = Provider.objects.create(name="P", slug="p", timezone="UTC")
    ann = Customer.objects.create(name="Ann Old", email="Ann@example.com", phone="+4930", timezone="Asia/Tokyo")
    bob = Customer.objects.create(name="Bob Old", email="bob@example.com", timezone="UTC")
    start = timezone.now() + timedelta(days=2)
    for n, customer in enumerate([ann, ann, bob]):
        at = start + timedelta(hours=n)
        Booking.objects.create(
            provider=provider, customer=customer, start_at=at, end_at=at + timedelta(minutes=30),
            blocked_from=at, blocked_until=at + timedelta(minutes=30), status="confirmed",
            provider_timezone="UTC", customer_timezone="Europe/Paris", free_cancel_until=at,
            reference=f"MIGRATED{n}", manage_token_hash="x" * 64,
        )  # fmt: skip

    Booking = migrate(CONTACT_DETAILS).get_model("scheduling", "Booking")

    rows = Booking.objects.order_by("reference").values_list(
        "customer_name", "customer_email", "customer_phone", "customer_timezone"
    )
    assert [(n, e, p, str(z)) for n, e, p, z in rows] == [
        ("Ann Old", "Ann@example.com", "+4930", "Europe/Paris"),
        ("Ann Old", "Ann@example.com", "+4930", "Europe/Paris"),
        ("Bob Old", "bob@example.com", "", "Europe/Paris"),
    ]


BEFORE_SERVICES = [("scheduling", "0007_manage_secret_version")]
WITH_SERVICES = [("scheduling", "0010_provider_settings_move_to_service")]
PROVIDER_SETTINGS = {
    "slot_minutes": 45, "slot_step_minutes": 15, "buffer_before_minutes": 5, "buffer_after_minutes": 10,
    "min_notice_minutes": 120, "max_advance_days": 30, "requires_confirmation": True, "hold_minutes": 20,
    "reminder_lead_minutes": [2880, 30], "free_cancel_hours": 48, "late_cancel_fee": Decimal("15.00"),
    "price": Decimal("60.00"), "currency": "EUR",
}  # fmt: skip


@pytest.fixture
def back_to_0007(latest_schema_after_the_module):
    return migrate(BEFORE_SERVICES)


BOOKING_SNAPSHOT = (
    "reference", "provider_id", "start_at", "end_at", "blocked_from", "blocked_until", "status", "price", "currency",
    "free_cancel_until", "late_cancel_fee", "cancellation_fee", "refund_amount", "cancel_reason",
)  # fmt: skip


@pytest.mark.django_db(transaction=True)
def test_every_provider_gets_one_service_with_its_settings_and_bookings_keep_their_terms(back_to_0007):
    apps = back_to_0007
    Provider, Customer, Booking = (apps.get_model("scheduling", m) for m in ("Provider", "Customer", "Booking"))
    clinic = Provider.objects.create(name="Clinic", slug="clinic", timezone="Europe/Berlin", **PROVIDER_SETTINGS)
    room = Provider.objects.create(name="Room", slug="room", timezone="UTC", is_active=False)
    ann = Customer.objects.create(name="Ann", email="ann@example.com", timezone="UTC")
    start = timezone.now().replace(microsecond=0) + timedelta(days=3)
    rows = [
        (clinic, start, "confirmed", Decimal("60.00"), Decimal("15.00"), None, None, ""),
        (clinic, start + timedelta(hours=2), "cancelled", Decimal("50.00"), Decimal("10.00"), Decimal("10.00"),
         Decimal("40.00"), "customer"),
        (room, start, "pending", Decimal("0.00"), Decimal("0.00"), None, None, ""),
    ]  # fmt: skip
    for n, (provider, at, status, price, fee, charged, refund, reason) in enumerate(rows):
        Booking.objects.create(
            provider=provider, customer=ann, start_at=at, end_at=at + timedelta(minutes=45),
            blocked_from=at - timedelta(minutes=5), blocked_until=at + timedelta(minutes=55), status=status,
            provider_timezone=provider.timezone, customer_name="Ann", customer_email="ann@example.com",
            customer_timezone="UTC", price=price, currency="EUR", late_cancel_fee=fee,
            free_cancel_until=at - timedelta(hours=48), cancellation_fee=charged, refund_amount=refund,
            cancel_reason=reason, hold_expires_at=at if status == "pending" else None, reference=f"OLD{n}",
        )  # fmt: skip
    before = list(Booking.objects.order_by("reference").values_list(*BOOKING_SNAPSHOT))

    apps = migrate(WITH_SERVICES)
    Service, Booking = apps.get_model("scheduling", "Service"), apps.get_model("scheduling", "Booking")

    assert list(Booking.objects.order_by("reference").values_list(*BOOKING_SNAPSHOT)) == before
    clinic_service, room_service = Service.objects.order_by("pk")
    assert [list(s.providers.values_list("slug", flat=True)) for s in (clinic_service, room_service)] == [
        ["clinic"],
        ["room"],
    ]
    moved = {("duration_minutes" if k == "slot_minutes" else k): v for k, v in PROVIDER_SETTINGS.items()}
    assert {k: getattr(clinic_service, k) for k in moved} == moved
    assert (clinic_service.name, clinic_service.slug, clinic_service.is_active) == ("Clinic", "clinic", True)
    assert dict(Booking.objects.values_list("reference", "service__slug")) == {
        "OLD0": "clinic",
        "OLD1": "clinic",
        "OLD2": "room",
    }


@pytest.mark.django_db(transaction=True)
def test_migrating_back_puts_each_services_settings_on_its_provider(back_to_0007):
    Provider = back_to_0007.get_model("scheduling", "Provider")
    Provider.objects.create(name="Clinic", slug="clinic", timezone="UTC", **PROVIDER_SETTINGS)
    migrate(WITH_SERVICES)

    Provider = migrate(BEFORE_SERVICES).get_model("scheduling", "Provider")

    clinic = Provider.objects.get(slug="clinic")
    assert {k: getattr(clinic, k) for k in PROVIDER_SETTINGS} == PROVIDER_SETTINGS
