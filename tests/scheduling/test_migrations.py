"""Data migrations on existing rows."""

from datetime import timedelta

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


@pytest.fixture
def back_to_0005():
    apps = migrate(BEFORE)
    yield apps
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())


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
