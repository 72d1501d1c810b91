"""The busy-time read behind every slots request is bounded by the provider's future bookings, not by its
history: with years of past bookings in the table, the plan reads the live-bookings index by
(provider, blocked_until) and touches only the rows that can meet the window (bench/growth.py has the
figures at a million bookings)."""

from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from scheduling.models import Booking
from tests.factories import BookingFactory, ProviderFactory, service_of

pytestmark = pytest.mark.django_db


def test_the_busy_read_uses_the_live_until_index_whatever_the_providers_history():
    provider = ProviderFactory()
    service = service_of(provider)
    first = BookingFactory(provider=provider, service=service)
    past = timezone.now() - timedelta(days=1000)
    with connection.cursor() as cursor:
        # Three years of confirmed (never completed) half-hour bookings, inserted in one statement. The
        # availability-version trigger is off for the rest of the test's transaction (the rollback that
        # ends the test turns it back on): 20,000 bumps of one provider row cost seconds and are not
        # what this test is about.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # no deferred checks pending: ALTER TABLE refuses them
        cursor.execute("ALTER TABLE scheduling_booking DISABLE TRIGGER scheduling_booking_version")
        cursor.execute(
            """
            INSERT INTO scheduling_booking (start_at, end_at, blocked_from, blocked_until, status,
                provider_timezone, customer_timezone, price, currency, free_cancel_until, late_cancel_fee,
                cancel_reason, reference, manage_token_hash, notes, created_at, updated_at, customer_id,
                provider_id, customer_name, customer_email, customer_phone, manage_secret_version, service_id,
                language)
            SELECT s, s + interval '30 minutes', s, s + interval '30 minutes', 'confirmed', 'UTC', 'UTC', 40,
                'USD', s, 0, '', 'H' || g, '', '', now(), now(), %(customer)s, %(provider)s, 'x', 'x@example.com',
                '', 0, %(service)s, 'en'
            FROM generate_series(1, 20000) g, LATERAL (SELECT %(past)s::timestamptz + g * interval '1 hour' AS s) t
            """,
            {"customer": first.customer_id, "provider": provider.pk, "service": service.pk, "past": past},
        )
        cursor.execute("ANALYZE scheduling_booking")
        now = timezone.now()
        query = (
            Booking.objects.live()
            .filter(provider_id__in=[provider.pk])
            .overlapping(now, now + timedelta(days=30))
            .values_list("provider_id", "blocked_from", "blocked_until")
        )
        sql, params = query.query.sql_with_params()
        cursor.execute(f"EXPLAIN (ANALYZE, FORMAT JSON) {sql}", params)
        plan = cursor.fetchone()[0][0]["Plan"]

    nodes, stack = [], [plan]
    while stack:
        node = stack.pop()
        nodes.append(node)
        stack.extend(node.get("Plans", []))
    assert any(node.get("Index Name") == "booking_live_until_idx" for node in nodes), plan
    assert sum(node.get("Rows Removed by Filter", 0) for node in nodes) < 100, plan
