"""How a drain sends webhook deliveries (notifications/webhook_delivery.py): kept-alive connections, and
endpoints in parallel with each one's deliveries in order. Committed rows (the sending threads have
database connections of their own)."""

import json
import threading

import pytest
from django.db import connections

from notifications.webhook_delivery import webhooks_drain
from notifications.webhooks import webhook_endpoint_create
from scheduling.services import CustomerData, booking_cancel, booking_confirm, booking_create
from tests.factories import UserFactory, service_of
from tests.scheduling.conftest import future_slot

pytestmark = pytest.mark.django_db(transaction=True)

ADA = CustomerData(name="Ada", email="ada@example.com", timezone="Europe/London")


@pytest.fixture
def lanes(settings):
    settings.WEBHOOK_SEND_CONCURRENCY = 4


@pytest.fixture
def admin():
    return UserFactory(username="integrator", email="integrator@example.com", is_superuser=True, is_staff=True)


def lifecycle(provider):
    """Three events of one booking: created, confirmed, cancelled."""
    service = service_of(provider)
    service.requires_confirmation = True
    service.save()
    booking = booking_create(provider_id=provider.pk, start=future_slot(), customer=ADA)
    booking_confirm(booking_id=booking.pk)
    booking_cancel(booking_id=booking.pk)


def test_a_drain_sends_one_endpoints_deliveries_over_one_kept_connection(provider, admin, receiver, lanes):
    webhook_endpoint_create(owner=admin, url=receiver.url)
    lifecycle(provider)

    assert webhooks_drain().sent == 3
    assert len({r["peer"] for r in receiver.requests}) == 1  # a connection per POST before


def test_a_held_endpoint_holds_back_only_its_own_deliveries_which_stay_in_order(
    provider, admin, receiver, lanes, settings
):
    webhook_endpoint_create(owner=admin, url=receiver.url + "?one")
    webhook_endpoint_create(owner=admin, url=receiver.url + "?two")
    lifecycle(provider)
    settings.WEBHOOK_TIMEOUT_SECONDS = 60  # the held request must not time out and free the drain
    receiver.hold = {1}  # the first request waits until released

    def drain_in_a_worker():
        try:
            webhooks_drain()
        finally:
            connections.close_all()

    drain = threading.Thread(target=drain_in_a_worker, daemon=True)
    drain.start()
    try:
        # Sent one after the other, nothing else would arrive while the first request is held.
        assert receiver.wait_for(4, timeout=20)
    finally:
        receiver.release.set()
    drain.join(30)
    assert receiver.wait_for(6)

    for query in ("one", "two"):
        arrived = [json.loads(r["body"]) for r in receiver.requests if r["path"].endswith(query)]
        assert [p["data"]["sequence"] for p in arrived] == [1, 2, 3]  # each endpoint's in order
