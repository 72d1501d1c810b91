"""Push notifications: subscribing, renewing, and the endpoints Google and Microsoft call."""

import json
from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from booking_site.celery import app
from calendars.adapters.google import GoogleAdapter
from calendars.models import CalendarConnection, PushChannel
from calendars.push_services import GRAPH_BATCH_MAX, calendar_push_channels_maintain, calendar_push_subscribe
from calendars.services import calendar_connection_create, calendar_connection_delete, calendar_connection_update
from tests.factories import ProviderFactory

pytestmark = pytest.mark.django_db

GOOGLE_URL, MICROSOFT_URL = "/calendars/push/google/", "/calendars/push/microsoft/"


@pytest.fixture(autouse=True)
def _public_push_url(settings):
    settings.CALENDAR_PUSH_BASE_URL = "https://booking.example"


def connect(kind, refresh_token):
    return calendar_connection_create(
        provider=ProviderFactory(), kind=kind, credentials={"refresh_token": refresh_token}
    )


@pytest.fixture
def google_channel(google_api):
    return calendar_push_subscribe(connection_id=connect(CalendarConnection.Kind.GOOGLE, "google-refresh").pk)


@pytest.fixture
def microsoft_channel(microsoft_graph):
    return calendar_push_subscribe(connection_id=connect(CalendarConnection.Kind.MICROSOFT, "ms-refresh").pk)


@pytest.fixture
def tasks_run_in_process(monkeypatch):
    """A queued sync runs here and now when its on-commit callback runs, as a worker would."""
    monkeypatch.setitem(app.conf, "task_always_eager", True)


def synced(*connections) -> list[bool]:
    return [CalendarConnection.objects.get(pk=c.pk).last_synced_at is not None for c in connections]


def google_post(client, channel, *, token=None, state="exists", channel_id=None):
    return client.post(
        GOOGLE_URL,
        headers={
            "X-Goog-Channel-ID": channel_id or channel.channel_id,
            "X-Goog-Channel-Token": channel.secret if token is None else token,
            "X-Goog-Resource-State": state,
            "X-Goog-Resource-ID": channel.resource_id,
        },
    )


def test_google_is_asked_to_watch_with_our_channel_id_token_and_address(google_api, google_channel):
    watched = google_api.channels[google_channel.channel_id]
    assert watched["token"] == google_channel.secret
    assert watched["address"] == "https://booking.example/calendars/push/google/"
    assert google_channel.resource_id == watched["resourceId"]
    assert google_channel.expires_at > timezone.now() + timedelta(days=6)


def test_a_google_change_queues_a_sync_of_its_connection(
    client, google_channel, django_capture_on_commit_callbacks, tasks_run_in_process
):
    other = connect(CalendarConnection.Kind.GOOGLE, "google-refresh")
    with django_capture_on_commit_callbacks(execute=True):
        response = google_post(client, google_channel, state="exists")
    assert response.status_code == 200
    assert synced(google_channel.connection, other) == [True, False]


def test_a_burst_of_google_notifications_queues_at_most_two_syncs(
    client, google_channel, django_capture_on_commit_callbacks
):
    queued = []
    for _ in range(5):
        with django_capture_on_commit_callbacks() as callbacks:
            assert google_post(client, google_channel, state="exists").status_code == 200
        queued.append(len(callbacks))
    # One at once, one at the end of the debounce window (for changes made during the first read).
    assert queued == [1, 1, 0, 0, 0]


def test_the_google_sync_message_queues_nothing(client, google_channel, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        response = google_post(client, google_channel, state="sync")
    assert (response.status_code, callbacks) == (200, [])


@pytest.mark.parametrize(
    "change",
    [{"token": "wrong"}, {"token": ""}, {"channel_id": "not-ours"}],
    ids=["wrong token", "no token", "unknown channel"],
)
def test_a_google_notification_not_from_our_channel_is_refused(
    client, google_channel, django_capture_on_commit_callbacks, change
):
    with django_capture_on_commit_callbacks() as callbacks:
        response = google_post(client, google_channel, **change)
    assert (response.status_code, callbacks) == (403, [])


def test_the_graph_handshake_echoes_the_token_as_plain_text(client):
    token = "Validation: Token <with> spaces & symbols+"
    response = client.post(
        f"{MICROSOFT_URL}?validationToken=Validation%3A%20Token%20%3Cwith%3E%20spaces%20%26%20symbols%2B"
    )
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    assert response.content.decode() == token


def graph_post(client, items):
    return client.post(MICROSOFT_URL, data=json.dumps({"value": items}), content_type="application/json")


def notification(channel, **changes):
    return {
        "subscriptionId": channel.subscription_id,
        "clientState": channel.secret,
        "changeType": "updated",
        "resource": "me/events/AAMk1",
        **changes,
    }


def test_microsoft_is_asked_to_subscribe_with_our_client_state(microsoft_graph, microsoft_channel):
    subscription = microsoft_graph.subscriptions[microsoft_channel.subscription_id]
    assert subscription["clientState"] == microsoft_channel.secret
    assert subscription["notificationUrl"] == "https://booking.example/calendars/push/microsoft/"
    assert subscription["resource"] == "me/calendar/events"


def test_a_graph_change_with_our_client_state_queues_one_sync_of_its_connection(
    client, microsoft_channel, django_capture_on_commit_callbacks, tasks_run_in_process
):
    other = connect(CalendarConnection.Kind.MICROSOFT, "ms-refresh")
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = graph_post(client, [notification(microsoft_channel), notification(microsoft_channel)])
    assert (response.status_code, len(callbacks)) == (202, 1)
    assert synced(microsoft_channel.connection, other) == [True, False]


def test_only_the_first_items_of_a_large_graph_batch_are_read(
    client, microsoft_channel, django_capture_on_commit_callbacks
):
    unknown = [notification(microsoft_channel, subscriptionId=f"not-ours-{n}") for n in range(GRAPH_BATCH_MAX)]
    with django_capture_on_commit_callbacks() as callbacks:
        response = graph_post(client, [*unknown, notification(microsoft_channel)])
    assert (response.status_code, callbacks) == (403, [])


@pytest.mark.parametrize("change", [{"clientState": "wrong"}, {"clientState": None}, {"subscriptionId": "sub-unknown"}])
def test_a_graph_notification_with_a_wrong_client_state_is_refused(
    client, microsoft_channel, django_capture_on_commit_callbacks, change
):
    with django_capture_on_commit_callbacks() as callbacks:
        response = graph_post(client, [notification(microsoft_channel, **change)])
    assert (response.status_code, callbacks) == (403, [])


def test_only_the_valid_items_of_a_graph_batch_queue_a_sync(
    client, microsoft_channel, django_capture_on_commit_callbacks, tasks_run_in_process
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = graph_post(
            client, [notification(microsoft_channel, clientState="wrong"), notification(microsoft_channel)]
        )
    assert (response.status_code, len(callbacks)) == (202, 1)
    assert synced(microsoft_channel.connection) == [True]


def test_the_sweep_renews_only_channels_about_to_expire(google_api, microsoft_graph, google_channel, microsoft_channel):
    soon, later = timezone.now() + timedelta(minutes=30), timezone.now() + timedelta(hours=5)
    PushChannel.objects.filter(pk=google_channel.pk).update(expires_at=soon)
    PushChannel.objects.filter(pk=microsoft_channel.pk).update(expires_at=later)
    calendar_push_channels_maintain()
    # Google: a new channel watched, the old one stopped and forgotten.
    (google_now,) = PushChannel.objects.filter(connection=google_channel.connection)
    assert google_now.channel_id != google_channel.channel_id
    assert set(google_api.channels) == {google_now.channel_id}
    assert google_now.expires_at > timezone.now() + timedelta(days=6)
    # Microsoft: not due, untouched.
    assert PushChannel.objects.get(pk=microsoft_channel.pk).expires_at == later
    assert not any(r["method"] == "PATCH" for r in microsoft_graph.requests)


def test_the_sweep_extends_a_microsoft_subscription_about_to_expire(microsoft_graph, microsoft_channel):
    PushChannel.objects.filter(pk=microsoft_channel.pk).update(expires_at=timezone.now() + timedelta(minutes=10))
    calendar_push_channels_maintain()
    renewed = PushChannel.objects.get(pk=microsoft_channel.pk)
    assert renewed.expires_at > timezone.now() + timedelta(hours=60)
    assert microsoft_graph.subscriptions[renewed.subscription_id]["expirationDateTime"].startswith(
        f"{renewed.expires_at.astimezone(UTC):%Y-%m-%dT%H:%M}"
    )


def test_the_sweep_subscribes_a_healthy_connection_without_a_channel(google_api):
    connection = connect(CalendarConnection.Kind.GOOGLE, "google-refresh")
    CalendarConnection.objects.filter(pk=connection.pk).update(last_synced_at=datetime.now(UTC))
    calendar_push_channels_maintain()
    assert PushChannel.objects.filter(connection=connection).count() == 1


def test_deleting_a_connection_stops_its_push_channel(google_api, google_channel, django_capture_on_commit_callbacks):
    assert google_channel.channel_id in google_api.channels
    with django_capture_on_commit_callbacks(execute=True):
        calendar_connection_delete(connection_id=google_channel.connection_id)
    assert google_api.channels == {}


def test_a_token_refreshed_while_subscribing_never_overwrites_one_given_meanwhile(google_api, monkeypatch):
    google_api.refresh_tokens.add("staff-new-token")
    connection = connect(CalendarConnection.Kind.GOOGLE, "google-refresh")
    watch = GoogleAdapter.watch

    def watch_while_staff_change_the_token(self, **kwargs):
        watched = watch(self, **kwargs)
        calendar_connection_update(connection=connection, credentials={"refresh_token": "staff-new-token"})
        return watched

    monkeypatch.setattr(GoogleAdapter, "watch", watch_while_staff_change_the_token)
    calendar_push_subscribe(connection_id=connection.pk)
    connection.refresh_from_db()
    assert connection.credentials == {"refresh_token": "staff-new-token"}
