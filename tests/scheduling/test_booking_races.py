"""Races over real connections: the provider lock plus the exclusion constraint decide (ADR 0002)."""

from datetime import timedelta

import pytest
from django.db import connection

from scheduling.errors import SlotUnavailable
from scheduling.models import Booking
from scheduling.services import CustomerData, booking_create
from tests.concurrency import run_concurrently
from tests.scheduling.conftest import future_slot, open_all_day_provider

# Also through PgBouncer in transaction mode (tests/db_tier_fixtures.py).
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow, pytest.mark.also_through_pgbouncer]

OVERLAP_AUDIT = """
    SELECT count(*) FROM scheduling_booking a
    JOIN scheduling_booking b
      ON a.provider_id = b.provider_id AND a.id < b.id
     AND tstzrange(a.blocked_from, a.blocked_until, '[)') && tstzrange(b.blocked_from, b.blocked_until, '[)')
    WHERE a.status IN ('pending', 'confirmed') AND b.status IN ('pending', 'confirmed')
"""


def overlapping_live_pairs() -> int:
    with connection.cursor() as cursor:
        cursor.execute(OVERLAP_AUDIT)
        return cursor.fetchone()[0]


def attempt(provider_id: int, start, n: int):
    customer = CustomerData(name=f"Racer {n}", email=f"racer{n}@example.com")
    return lambda: booking_create(provider_id=provider_id, start=start, customer=customer)


def test_twenty_clients_racing_for_one_slot_leave_exactly_one_booking():
    provider = open_all_day_provider()
    start = future_slot()
    results = run_concurrently([attempt(provider.pk, start, n) for n in range(20)])

    winners = [r for r in results if isinstance(r, Booking)]
    losers = [r for r in results if isinstance(r, SlotUnavailable)]
    assert len(winners) == 1
    assert len(losers) == 19, [r for r in results if not isinstance(r, Booking | SlotUnavailable)]
    assert {loser.conflicting_booking_id for loser in losers} == {winners[0].pk}
    assert Booking.objects.live().filter(provider=provider).count() == 1


def test_partly_overlapping_racers_never_leave_overlapping_live_bookings():
    provider = open_all_day_provider(
        duration_minutes=60, slot_step_minutes=15, buffer_before_minutes=10, buffer_after_minutes=20
    )
    base = future_slot()
    starts = [base + timedelta(minutes=15 * (n % 8)) for n in range(24)]
    results = run_concurrently([attempt(provider.pk, start, n) for n, start in enumerate(starts)])

    unexpected = [r for r in results if not isinstance(r, Booking | SlotUnavailable)]
    assert unexpected == []
    winners = [r for r in results if isinstance(r, Booking)]
    assert winners
    assert overlapping_live_pairs() == 0
    live_ids = set(Booking.objects.live().values_list("pk", flat=True))
    assert {r.conflicting_booking_id for r in results if isinstance(r, SlotUnavailable)} <= live_ids


def test_the_overlap_audit_query_detects_an_overlap():
    """The audit must be able to fail: show it counts a planted overlap once the constraint is gone."""
    provider = open_all_day_provider()
    start = future_slot()
    booking_create(provider_id=provider.pk, start=start, customer=CustomerData(name="A", email="a@example.com"))
    with connection.cursor() as cursor:
        cursor.execute("ALTER TABLE scheduling_booking DROP CONSTRAINT booking_no_overlap")
        try:
            cursor.execute(
                "INSERT INTO scheduling_booking (provider_id, service_id, customer_id, start_at, end_at, blocked_from,"
                " blocked_until, status, provider_timezone, customer_name, customer_email, customer_phone,"
                " customer_timezone, price, currency, free_cancel_until, late_cancel_fee, cancel_reason,"
                " reference, manage_token_hash, notes, created_at, updated_at)"
                " SELECT provider_id, service_id, customer_id, start_at, end_at, blocked_from, blocked_until, status,"
                " provider_timezone, customer_name, customer_email, customer_phone, customer_timezone, price,"
                " currency, free_cancel_until, late_cancel_fee, cancel_reason, 'PLANTED', manage_token_hash,"
                " notes, now(), now() FROM scheduling_booking"
            )
            assert overlapping_live_pairs() == 1
        finally:
            cursor.execute("DELETE FROM scheduling_booking WHERE reference = 'PLANTED'")
            cursor.execute(
                "ALTER TABLE scheduling_booking ADD CONSTRAINT booking_no_overlap EXCLUDE USING gist "
                "(tstzrange(blocked_from, blocked_until, '[)') WITH &&, provider_id WITH =) "
                "WHERE (status IN ('pending', 'confirmed'))"
            )
