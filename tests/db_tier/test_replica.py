"""Availability reads on a real streaming replica; bookings, and their re-check, on the primary
(booking_site/db_router.py, docs/decisions/0017-read-replica-and-pooler.md)."""

import pytest
from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from booking_site.db_router import REPLICA, replica_for_reads
from tests.api.conftest import client_for
from tests.api.test_bookings_api import URL, booking_body
from tests.db_tier_fixtures import wait_for_replica
from tests.factories import UserFactory
from tests.scheduling.conftest import future_slot, open_all_day_provider

pytestmark = [pytest.mark.django_db(transaction=True, databases=[DEFAULT_DB_ALIAS, REPLICA]), pytest.mark.slow]


def _slot_starts(client, provider, start) -> set[str]:
    day = start.date().isoformat()
    response = client.get(f"/api/v1/providers/{provider.pk}/slots/", {"start": day, "end": day, "tz": "UTC"})
    assert response.status_code == 200
    return {slot["start"] for slot in response.json()["slots"]}


def _iso(instant) -> str:
    return instant.strftime("%Y-%m-%dT%H:%M:%SZ")


@pytest.fixture
def staff_client():
    return client_for(UserFactory(is_superuser=True))


def test_the_slots_api_reads_bookings_from_the_replica(replica_database, staff_client):
    provider = open_all_day_provider()
    wait_for_replica()
    with (
        CaptureQueriesContext(connections[REPLICA]) as on_replica,
        CaptureQueriesContext(connections[DEFAULT_DB_ALIAS]) as on_primary,
    ):
        _slot_starts(staff_client, provider, future_slot())
    assert any("scheduling_booking" in q["sql"] for q in on_replica.captured_queries)
    assert not any("scheduling_booking" in q["sql"] for q in on_primary.captured_queries)


@pytest.mark.parametrize("page", ["customer provider page", "console booking picker"])
def test_the_pages_listing_slots_read_bookings_from_the_replica(replica_database, client, page):
    provider = open_all_day_provider()
    service = provider.services.order_by("pk").first()
    if page == "console booking picker":
        client.force_login(UserFactory(is_superuser=True, is_staff=True))
        url = f"{reverse('admin:scheduling_booking_add')}?provider={provider.pk}&service={service.pk}"
    else:
        url = reverse("pages:provider", args=[provider.slug])
    wait_for_replica()
    with CaptureQueriesContext(connections[REPLICA]) as on_replica:
        assert client.get(url).status_code == 200
    assert any("scheduling_booking" in q["sql"] for q in on_replica.captured_queries)


def test_a_slot_still_shown_by_a_lagging_replica_cannot_be_booked_twice(replica_database, staff_client):
    provider = open_all_day_provider()
    start = future_slot()
    wait_for_replica()
    assert _iso(start) in _slot_starts(staff_client, provider, start)
    with connections[REPLICA].cursor() as cursor:
        cursor.execute("SELECT pg_wal_replay_pause()")
    try:
        first = staff_client.post(URL, booking_body(provider, start), format="json")
        assert first.status_code == 201
        # The replica has not replayed the booking: the listing still offers its time ...
        assert _iso(start) in _slot_starts(staff_client, provider, start)
        # ... and the primary, which every booking goes to, refuses it.
        second = staff_client.post(
            URL, booking_body(provider, start, customer={"name": "B", "email": "b@example.org"}), format="json"
        )
        assert second.status_code == 409
        assert second.json()["conflicting_booking_id"] == first.json()["id"]
    finally:
        with connections[REPLICA].cursor() as cursor:
            cursor.execute("SELECT pg_wal_replay_resume()")
    wait_for_replica()
    assert _iso(start) not in _slot_starts(staff_client, provider, start)


def test_reads_inside_a_transaction_stay_on_the_primary(replica_database):
    assert replica_for_reads() == REPLICA
    with transaction.atomic():
        assert replica_for_reads() == DEFAULT_DB_ALIAS
