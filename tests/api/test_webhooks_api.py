"""Webhook endpoints over the API (scheduling/api/views/webhooks.py): the secret answered only when
made or rotated, each user's endpoints their own, and pings, replays and the delivery log against a
real local receiver, with the dispatcher run in the test."""

import importlib
from datetime import datetime, timedelta

import pytest
from django.apps import apps as django_apps
from django.utils import timezone
from standardwebhooks import Webhook, WebhookVerificationError

from notifications.models import WebhookEndpoint
from notifications.webhook_delivery import RETRY_SCHEDULE, webhooks_dispatch
from notifications.webhooks import webhook_endpoint_create, webhook_endpoint_disable, webhook_ping
from tests.api.conftest import client_for
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

LIST = "/api/v1/webhooks/"
webhook_permissions = importlib.import_module("notifications.migrations.0009_webhook_staff_permissions")


@pytest.fixture(autouse=True)
def _granted(staff_a, staff_b):
    webhook_permissions.grant(django_apps)


@pytest.fixture
def made(as_a, receiver) -> dict:
    """Staff A's endpoint, made over the API: the create answer (with the secret)."""
    response = as_a.post(LIST, {"url": receiver.url, "description": "CRM"}, format="json")
    assert response.status_code == 201, response.json()
    return response.json()


def url(made: dict, tail: str = "") -> str:
    return f"{LIST}{made['id']}/{tail}"


def test_create_answers_the_secret_once_and_reads_never_show_it(as_a, made):
    secret = made["secret"]
    assert secret.startswith("whsec_") and made["event_types"] == [] and made["is_active"] is True
    assert made["owner"] == "staff-a"
    for read in (as_a.get(LIST), as_a.get(url(made)), as_a.patch(url(made), {"description": "x"}, format="json")):
        assert read.status_code == 200
        assert secret not in read.content.decode() and "secret" not in read.content.decode()


def test_an_endpoint_asks_for_the_event_types_it_wants(as_a, receiver):
    response = as_a.post(LIST, {"url": receiver.url, "event_types": ["booking.created"]}, format="json")
    assert response.status_code == 201
    assert WebhookEndpoint.objects.get().event_types == ["booking.created"]


def test_an_unknown_event_type_is_a_400_naming_the_field(as_a, receiver):
    response = as_a.post(LIST, {"url": receiver.url, "event_types": ["booking.eaten"]}, format="json")
    assert response.status_code == 400
    assert response.json()["code"] == "invalid" and "event_types.0" in response.json()["fields"]
    assert not WebhookEndpoint.objects.exists()


def test_a_url_that_is_not_http_is_a_400_naming_url(as_a, made):
    assert as_a.post(LIST, {"url": "ftp://example.com/hooks"}, format="json").json()["fields"].keys() == {"url"}
    response = as_a.patch(url(made), {"url": "ftp://example.com/hooks"}, format="json")
    assert response.status_code == 400 and response.json()["fields"].keys() == {"url"}


def test_a_private_url_is_stored_and_refused_at_each_send(as_a, settings):
    settings.WEBHOOK_ALLOW_PRIVATE_URLS = False
    made = as_a.post(LIST, {"url": "http://127.0.0.1:9/hooks"}, format="json").json()
    as_a.post(url(made, "ping/"))
    webhooks_dispatch()
    delivery = as_a.get(url(made, "deliveries/")).json()["results"][0]
    assert delivery["status"] == "failed"
    assert delivery["attempt_log"][0]["status_code"] is None and delivery["attempt_log"][0]["error"]


def test_a_description_must_be_a_string(as_a, receiver):
    response = as_a.post(LIST, {"url": receiver.url, "description": 0}, format="json")
    assert response.status_code == 400 and response.json()["fields"].keys() == {"description"}


def test_patch_changes_what_is_given(as_a, made):
    response = as_a.patch(url(made), {"event_types": ["ping", "booking.cancelled"]}, format="json")
    assert response.status_code == 400  # `ping` is sent on request, not subscribed to
    response = as_a.patch(url(made), {"event_types": ["booking.cancelled"], "description": "billing"}, format="json")
    assert response.status_code == 200
    assert (response.json()["event_types"], response.json()["description"]) == (["booking.cancelled"], "billing")


def test_staff_b_can_neither_see_nor_touch_staff_as_endpoint(made, staff_b):
    as_b = client_for(staff_b)
    assert as_b.get(LIST).json() == []
    assert as_b.get(url(made)).status_code == 404
    assert as_b.patch(url(made), {"description": "mine"}, format="json").status_code == 404
    for tail in ("ping/", "rotate-secret/", "enable/", "disable/", "deliveries/replay/"):
        assert as_b.post(url(made, tail), {"since": "2020-01-01T00:00:00Z"}, format="json").status_code == 404, tail
    assert as_b.get(url(made, "deliveries/")).status_code == 404
    delivery = webhook_ping(endpoint_id=made["id"])
    assert as_b.post(url(made, f"deliveries/{delivery.pk}/replay/")).status_code == 404
    assert as_b.delete(url(made)).status_code == 404
    assert WebhookEndpoint.objects.get().description == "CRM"


def test_a_delivery_of_another_endpoint_is_a_404(as_a, made, staff_b, receiver):
    other, _ = webhook_endpoint_create(owner=staff_b, url=receiver.url)
    delivery = webhook_ping(endpoint_id=other.pk)
    assert as_a.post(url(made, f"deliveries/{delivery.pk}/replay/")).status_code == 404


def test_a_superuser_sees_every_endpoint(made, superuser):
    as_root = client_for(superuser)
    assert [e["id"] for e in as_root.get(LIST).json()] == [made["id"]]
    assert as_root.get(url(made)).status_code == 200


def test_staff_without_the_webhook_permissions_are_refused(receiver):
    response = client_for(UserFactory(username="nobody")).post(LIST, {"url": receiver.url}, format="json")
    assert response.status_code == 403


def test_anonymous_is_401(anon, made):
    assert anon.get(LIST).status_code == 401
    assert anon.post(url(made, "ping/")).status_code == 401


def test_delete_removes_the_endpoint(as_a, made):
    assert as_a.delete(url(made)).status_code == 204
    assert not WebhookEndpoint.objects.exists()


def test_ping_is_delivered_to_a_real_receiver_signed_with_the_secret(as_a, made, receiver):
    response = as_a.post(url(made, "ping/"))
    assert response.status_code == 202
    assert (response.json()["event_type"], response.json()["status"]) == ("ping", "pending")

    assert webhooks_dispatch().sent == 1
    (payload,) = receiver.verified(made["secret"])
    assert payload["type"] == "ping" and payload["data"] == {"endpoint": made["id"]}
    assert receiver.ids() == [response.json()["webhook_id"]]


def test_rotate_secret_answers_a_new_key_that_signs_from_then_on(as_a, made, receiver):
    response = as_a.post(url(made, "rotate-secret/"))
    assert response.status_code == 200
    new = response.json()["secret"]
    assert new.startswith("whsec_") and new != made["secret"]
    assert new not in as_a.get(url(made)).content.decode()

    as_a.post(url(made, "ping/"))
    webhooks_dispatch()
    (request,) = receiver.requests
    Webhook(new).verify(request["body"], request["headers"])
    with pytest.raises(WebhookVerificationError):
        Webhook(made["secret"]).verify(request["body"], request["headers"])


def test_rotate_secret_can_keep_the_old_one_signing_for_a_while(as_a, made, receiver):
    response = as_a.post(url(made, "rotate-secret/"), {"previous_secret_valid_hours": 24}, format="json")
    assert response.status_code == 200
    body = response.json()
    grace_ends = datetime.fromisoformat(body["rotation_grace_ends_at"])
    assert timedelta(hours=23, minutes=59) < grace_ends - timezone.now() <= timedelta(hours=24)
    assert as_a.get(url(made)).json()["rotation_grace_ends_at"] == body["rotation_grace_ends_at"]

    as_a.post(url(made, "ping/"))
    webhooks_dispatch()
    (request,) = receiver.requests
    assert len(request["headers"]["webhook-signature"].split(" ")) == 2
    Webhook(body["secret"]).verify(request["body"], request["headers"])  # a receiver that switched already
    Webhook(made["secret"]).verify(request["body"], request["headers"])  # and one that has not yet


def test_once_the_grace_ends_only_the_new_secret_signs(as_a, made, receiver):
    new = as_a.post(url(made, "rotate-secret/"), {"previous_secret_valid_hours": 1}, format="json").json()["secret"]
    WebhookEndpoint.objects.filter(pk=made["id"]).update(previous_secret_expires_at=timezone.now())

    as_a.post(url(made, "ping/"))
    webhooks_dispatch()
    (request,) = receiver.requests
    Webhook(new).verify(request["body"], request["headers"])
    with pytest.raises(WebhookVerificationError):
        Webhook(made["secret"]).verify(request["body"], request["headers"])
    assert as_a.get(url(made)).json()["rotation_grace_ends_at"] is None


def test_a_rotation_during_a_grace_keeps_only_the_secret_it_replaces(as_a, made):
    second = as_a.post(url(made, "rotate-secret/"), {"previous_secret_valid_hours": 24}, format="json").json()
    third = as_a.post(url(made, "rotate-secret/"), {"previous_secret_valid_hours": 24}, format="json").json()

    endpoint = WebhookEndpoint.objects.get(pk=made["id"])
    assert endpoint.signing_secrets(now=timezone.now()) == [third["secret"], second["secret"]]


@pytest.mark.parametrize("hours", [-1, 169, "a day"])
def test_rotate_secret_refuses_a_grace_it_cannot_keep_naming_the_field(as_a, made, hours):
    before = WebhookEndpoint.objects.get(pk=made["id"]).secret
    response = as_a.post(url(made, "rotate-secret/"), {"previous_secret_valid_hours": hours}, format="json")

    assert response.status_code == 400
    assert "previous_secret_valid_hours" in response.json()["fields"]
    assert WebhookEndpoint.objects.get(pk=made["id"]).secret == before


def test_the_delivery_log_shows_every_attempt_and_filters(as_a, made, receiver):
    receiver.answer = lambda n: 500 if n == 1 else 204
    as_a.post(url(made, "ping/"))
    webhooks_dispatch()
    webhooks_dispatch(now=timezone.now() + RETRY_SCHEDULE[0] + timedelta(seconds=1))

    page = as_a.get(url(made, "deliveries/")).json()
    assert page["count"] == 1 and page["next"] is None
    (delivery,) = page["results"]
    assert delivery["status"] == "sent" and delivery["attempts"] == 2
    log = delivery["attempt_log"]
    assert [a["status_code"] for a in log] == [500, 204]
    assert log[0]["error"] and log[1]["error"] == ""
    assert all(a["duration_ms"] >= 0 and a["started_at"].endswith("Z") for a in log)

    assert as_a.get(url(made, "deliveries/"), {"status": "failed"}).json()["count"] == 0
    assert as_a.get(url(made, "deliveries/"), {"event_type": "ping"}).json()["count"] == 1
    assert as_a.get(url(made, "deliveries/"), {"event_type": "booking.created"}).json()["count"] == 0
    assert as_a.get(url(made, "deliveries/"), {"event_type": "nope"}).status_code == 400


def test_the_delivery_log_is_paged(as_a, made):
    for _ in range(3):
        webhook_ping(endpoint_id=made["id"])
    page = as_a.get(url(made, "deliveries/"), {"page_size": 2}).json()
    assert (page["count"], len(page["results"])) == (3, 2) and page["next"]


def test_replay_sends_the_delivery_again_with_the_same_webhook_id(as_a, made, receiver):
    delivery = as_a.post(url(made, "ping/")).json()
    webhooks_dispatch()

    response = as_a.post(url(made, f"deliveries/{delivery['id']}/replay/"))
    assert response.status_code == 202
    assert response.json()["status"] == "pending" and response.json()["replayed_at"]
    assert webhooks_dispatch().sent == 1
    assert receiver.ids() == [delivery["webhook_id"], delivery["webhook_id"]]


def test_replay_since_resends_every_delivery_from_then(as_a, made, receiver):
    first = webhook_ping(endpoint_id=made["id"])
    second = webhook_ping(endpoint_id=made["id"])
    webhooks_dispatch()

    future = (timezone.now() + timedelta(hours=1)).isoformat()
    assert as_a.post(url(made, "deliveries/replay/"), {"since": future}, format="json").json() == {"replayed": 0}
    since = (timezone.now() - timedelta(hours=1)).isoformat()
    response = as_a.post(url(made, "deliveries/replay/"), {"since": since}, format="json")
    assert (response.status_code, response.json()) == (202, {"replayed": 2})
    webhooks_dispatch()
    assert sorted(receiver.ids()[2:]) == sorted([first.webhook_id, second.webhook_id])


def test_replay_since_needs_a_time(as_a, made):
    response = as_a.post(url(made, "deliveries/replay/"), {}, format="json")
    assert response.status_code == 400 and "since" in response.json()["fields"]


def test_a_disabled_endpoint_refuses_a_ping_until_enabled(as_a, made):
    webhook_endpoint_disable(endpoint_id=made["id"])
    assert as_a.post(url(made, "ping/")).json()["code"] == "invalid_transition"

    response = as_a.post(url(made, "enable/"))
    assert response.status_code == 200 and response.json()["is_active"] is True
    assert response.json()["disabled_at"] is None and "secret" not in response.json()
    assert as_a.post(url(made, "ping/")).status_code == 202


def test_the_owner_switches_an_endpoint_off_and_it_hears_nothing_more(as_a, made):
    response = as_a.post(url(made, "disable/"))

    assert response.status_code == 200 and response.json()["is_active"] is False
    assert response.json()["disabled_reason"] == "Disabled by its owner."
    assert as_a.post(url(made, "ping/")).json()["code"] == "invalid_transition"
