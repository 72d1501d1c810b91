"""Webhook endpoints in the console (notifications/webhook_admin.py): made through the service with
the current user as owner, the secret told once in a message and never on a page, the ping, rotate
and enable actions, a read-only delivery log with "replay", and each user's endpoints their own."""

import importlib
from datetime import timedelta

import pytest
from django.apps import apps as django_apps
from django.test import Client
from django.utils import timezone
from standardwebhooks import Webhook

from notifications.models import OutboxStatus, WebhookDelivery, WebhookEndpoint
from notifications.webhook_delivery import webhooks_dispatch
from notifications.webhooks import webhook_endpoint_create, webhook_endpoint_disable, webhook_ping
from tests.admin.conftest import messages_of

pytestmark = pytest.mark.django_db

ENDPOINTS = "/admin/notifications/webhookendpoint/"
LOG = "/admin/notifications/webhookdelivery/"
webhook_permissions = importlib.import_module("notifications.migrations.0009_webhook_staff_permissions")


@pytest.fixture(autouse=True)
def _granted(staff_group):
    webhook_permissions.grant(django_apps)


@pytest.fixture
def hook(staff_a, receiver) -> WebhookEndpoint:
    endpoint, _secret = webhook_endpoint_create(owner=staff_a, url=receiver.url, description="CRM")
    return endpoint


def act(client, action: str, *pks: int, url: str = ENDPOINTS):
    return client.post(url, {"action": action, "_selected_action": list(pks)}, follow=True)


def test_adding_an_endpoint_goes_through_the_service_owned_by_the_user(as_staff_a, staff_a, receiver):
    response = as_staff_a.post(
        f"{ENDPOINTS}add/", {"url": receiver.url, "description": "CRM", "event_types": ["booking.created"]}, follow=True
    )
    endpoint = WebhookEndpoint.objects.get()
    assert (endpoint.owner, endpoint.event_types, endpoint.is_active) == (staff_a, ["booking.created"], True)
    (told,) = [m for m in messages_of(response) if "secret" in m]
    assert endpoint.secret in told  # told this once...
    page = as_staff_a.get(f"{ENDPOINTS}{endpoint.pk}/change/").content.decode()
    assert endpoint.secret not in page  # ...and on no page after
    assert endpoint.secret not in as_staff_a.get(ENDPOINTS).content.decode()


def test_a_url_that_is_not_http_is_refused_by_the_form(as_staff_a):
    response = as_staff_a.post(f"{ENDPOINTS}add/", {"url": "ftp://example.com/hooks"})
    assert response.status_code == 200 and "Enter a valid URL" in response.content.decode()
    assert not WebhookEndpoint.objects.exists()


def test_changing_an_endpoint_goes_through_the_service(as_staff_a, hook):
    response = as_staff_a.post(
        f"{ENDPOINTS}{hook.pk}/change/", {"url": "https://example.com/new", "description": "new", "event_types": []}
    )
    assert response.status_code == 302
    hook.refresh_from_db()
    assert (hook.url, hook.description) == ("https://example.com/new", "new")


def test_send_ping_delivers_to_the_receiver(as_staff_a, hook, receiver):
    response = act(as_staff_a, "send_ping", hook.pk)
    assert any("ping queued" in m for m in messages_of(response))
    webhooks_dispatch()
    assert [p["type"] for p in receiver.verified(hook.secret)] == ["ping"]


def test_rotate_secret_tells_the_new_secret_once_and_signs_with_it(as_staff_a, hook, receiver):
    old = hook.secret
    response = act(as_staff_a, "rotate_secret", hook.pk)
    hook.refresh_from_db()
    assert hook.secret != old
    assert any(hook.secret in m for m in messages_of(response))
    assert hook.secret not in as_staff_a.get(f"{ENDPOINTS}{hook.pk}/change/").content.decode()

    webhook_ping(endpoint_id=hook.pk)
    webhooks_dispatch()
    Webhook(hook.secret).verify(receiver.requests[0]["body"], receiver.requests[0]["headers"])


def test_rotating_while_keeping_the_old_secret_signs_with_both_for_24_hours(as_staff_a, hook, receiver):
    old = hook.secret
    response = act(as_staff_a, "rotate_secret_keeping_the_old_one", hook.pk)
    hook.refresh_from_db()
    assert any(hook.secret in m and "24 hours" in m for m in messages_of(response))
    assert timedelta(hours=23) < hook.previous_secret_expires_at - timezone.now() <= timedelta(hours=24)
    page = as_staff_a.get(f"{ENDPOINTS}{hook.pk}/change/").content.decode()
    assert "Old secret signs too until" in page and old not in page and hook.secret not in page

    webhook_ping(endpoint_id=hook.pk)
    webhooks_dispatch()
    for secret in (hook.secret, old):
        Webhook(secret).verify(receiver.requests[0]["body"], receiver.requests[0]["headers"])


def test_enable_turns_a_disabled_endpoint_on_again(as_staff_a, hook):
    webhook_endpoint_disable(endpoint_id=hook.pk)
    response = act(as_staff_a, "send_ping", hook.pk)
    assert any("disabled" in m for m in messages_of(response))  # refused, said why

    act(as_staff_a, "enable", hook.pk)
    hook.refresh_from_db()
    assert hook.is_active and hook.disabled_at is None


def test_replay_the_last_24_hours(as_staff_a, hook, receiver):
    webhook_ping(endpoint_id=hook.pk)
    webhooks_dispatch()
    response = act(as_staff_a, "replay_last_24_hours", hook.pk)
    assert any("1 deliveries queued again" in m for m in messages_of(response))
    webhooks_dispatch()
    assert len(receiver.requests) == 2 and receiver.ids()[0] == receiver.ids()[1]


def test_the_delivery_log_shows_attempts_and_is_read_only(as_staff_a, hook, receiver):
    receiver.answer = lambda n: 503
    delivery = webhook_ping(endpoint_id=hook.pk)
    webhooks_dispatch()

    listed = as_staff_a.get(LOG).content.decode()
    assert delivery.webhook_id in listed and "ping" in listed
    page = as_staff_a.get(f"{LOG}{delivery.pk}/change/").content.decode()
    assert "503" in page and "Duration ms" in page
    assert 'name="_save"' not in page and "attempt_log-0-status_code" not in page  # shown, not editable
    assert as_staff_a.get(f"{LOG}add/").status_code == 403
    as_staff_a.post(f"{LOG}{delivery.pk}/change/", {"status": "sent"})
    assert WebhookDelivery.objects.get().status == OutboxStatus.PENDING
    assert as_staff_a.post(f"{LOG}{delivery.pk}/delete/", {"post": "yes"}).status_code == 403


def test_replay_from_the_log_resends_with_the_same_webhook_id(as_staff_a, hook, receiver):
    delivery = webhook_ping(endpoint_id=hook.pk)
    webhooks_dispatch()
    response = act(as_staff_a, "replay", delivery.pk, url=LOG)
    assert any("1 deliveries queued again" in m for m in messages_of(response))
    webhooks_dispatch()
    assert receiver.ids() == [delivery.webhook_id, delivery.webhook_id]


def test_staff_see_only_their_own_endpoints_and_log(hook, staff_b, superuser):
    delivery = webhook_ping(endpoint_id=hook.pk)
    as_b = Client()
    as_b.force_login(staff_b)
    assert hook.url not in as_b.get(ENDPOINTS).content.decode()
    assert as_b.get(f"{ENDPOINTS}{hook.pk}/change/").status_code == 404
    assert as_b.get(f"{LOG}{delivery.pk}/change/").status_code == 404
    assert delivery.webhook_id not in as_b.get(LOG).content.decode()
    act(as_b, "rotate_secret", hook.pk)
    secret = hook.secret
    hook.refresh_from_db()
    assert hook.secret == secret  # the action never reached it

    as_root = Client()
    as_root.force_login(superuser)
    assert as_root.get(f"{ENDPOINTS}{hook.pk}/change/").status_code == 200
    assert delivery.webhook_id in as_root.get(LOG).content.decode()


def test_the_endpoint_page_links_its_delivery_log(as_staff_a, hook):
    webhook_ping(endpoint_id=hook.pk)
    page = as_staff_a.get(f"{ENDPOINTS}{hook.pk}/change/").content.decode()
    assert f"{LOG}?endpoint__id__exact={hook.pk}" in page and "1 deliveries" in page
