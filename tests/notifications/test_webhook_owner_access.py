"""An endpoint's owner who loses access after events were queued hears nothing more: neither the
queued deliveries nor a replay."""

from datetime import timedelta

import pytest
from django.utils import timezone

from notifications.models import WebhookDelivery
from notifications.webhook_delivery import webhooks_dispatch
from notifications.webhooks import (
    webhook_deliveries_replay_since,
    webhook_delivery_replay,
    webhook_endpoint_create,
    webhook_ping,
)
from scheduling.errors import InvalidTransition
from scheduling.services import CustomerData, booking_create
from tests.factories import UserFactory
from tests.scheduling.conftest import future_slot, open_all_day_provider

pytestmark = pytest.mark.django_db

ADA = CustomerData(name="Ada", email="ada@example.com", timezone="Europe/London")


@pytest.fixture
def staff():
    return UserFactory(username="staff", is_staff=True)


@pytest.fixture
def provider(staff):
    provider = open_all_day_provider(slug="venue")
    provider.staff.add(staff)
    return provider


@pytest.fixture
def hook(staff, receiver):
    return webhook_endpoint_create(owner=staff, url=receiver.url)[0]


def test_a_delivery_queued_before_the_owner_left_the_provider_is_skipped_not_sent(provider, staff, hook, receiver):
    booking_create(provider_id=provider.pk, start=future_slot(), customer=ADA)
    provider.staff.remove(staff)

    result = webhooks_dispatch()
    assert (result.sent, result.closed) == (0, 1)
    assert receiver.requests == []
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == "skipped" and "no longer" in delivery.last_error


def test_a_ping_queued_before_the_owner_was_deactivated_is_skipped(staff, hook, receiver):
    webhook_ping(endpoint_id=hook.pk)
    type(staff).objects.filter(pk=staff.pk).update(is_active=False)

    assert webhooks_dispatch().closed == 1
    assert receiver.requests == []


def test_a_ping_is_sent_while_the_owner_is_active(hook, receiver):
    webhook_ping(endpoint_id=hook.pk)
    assert webhooks_dispatch().sent == 1


def test_replaying_an_event_of_a_provider_the_owner_left_is_refused(provider, staff, hook, receiver):
    booking_create(provider_id=provider.pk, start=future_slot(), customer=ADA)
    assert webhooks_dispatch().sent == 1
    delivery = WebhookDelivery.objects.get()
    provider.staff.remove(staff)

    with pytest.raises(InvalidTransition):
        webhook_delivery_replay(delivery_id=delivery.pk)
    assert webhook_deliveries_replay_since(endpoint_id=hook.pk, since=timezone.now() - timedelta(hours=1)) == 0
    assert WebhookDelivery.objects.get().status == "sent"
    assert len(receiver.requests) == 1
