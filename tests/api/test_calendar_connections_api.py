"""A provider's calendar connections over the API: staff of the provider only, created and changed
through the calendar services, synced on demand with what happened in the answer."""

import pytest

from calendars.models import CalendarConnection
from calendars.services import calendar_connection_create
from scheduling.models import BlockedTime
from tests.calendar_fixtures import fixture_bytes

pytestmark = pytest.mark.django_db


def url_of(provider, suffix=""):
    return f"/api/v1/providers/{provider.pk}/calendar-connections/{suffix}"


def test_a_superuser_links_syncs_and_removes_a_calendar(superuser, provider_a, calendar_server):
    from tests.api.conftest import client_for

    api = client_for(superuser)
    calendar_server.body = fixture_bytes("google_export.ics")

    created = api.post(url_of(provider_a), {"name": "Clinic", "url": calendar_server.url}, format="json")
    assert created.status_code == 201
    body = created.json()
    assert (body["kind"], body["name"], body["last_error"]) == ("ical_url", "Clinic", "")

    synced = api.post(url_of(provider_a, f"{body['id']}/sync/"))
    assert synced.status_code == 200
    assert synced.json()["added"] > 0 and synced.json()["error"] == ""
    assert BlockedTime.objects.filter(provider=provider_a, reason="external").count() == synced.json()["added"]

    assert api.delete(url_of(provider_a, f"{body['id']}/")).status_code == 204
    assert not BlockedTime.objects.filter(provider=provider_a).exists()


def test_a_url_that_is_not_http_is_a_400_naming_url(superuser, provider_a):
    from tests.api.conftest import client_for

    response = client_for(superuser).post(url_of(provider_a), {"url": "ftp://example.com/a.ics"}, format="json")
    assert response.status_code == 400
    assert "url" in response.json()["fields"]


def test_a_failed_sync_answers_200_with_the_error(superuser, provider_a, settings):
    from tests.api.conftest import client_for

    settings.CALENDAR_ALLOW_PRIVATE_URLS = False
    connection = calendar_connection_create(provider=provider_a, url="http://127.0.0.1:9/calendar.ics")
    answer = client_for(superuser).post(url_of(provider_a, f"{connection.pk}/sync/")).json()
    assert answer["error"] and answer["added"] == 0


def test_another_staffs_provider_is_a_404(as_a, provider_b, calendar_server):
    connection = calendar_connection_create(provider=provider_b, url=calendar_server.url)
    assert as_a.get(url_of(provider_b)).status_code == 404
    assert as_a.post(url_of(provider_b, f"{connection.pk}/sync/")).status_code == 404
    assert CalendarConnection.objects.get().last_synced_at is None


def test_changing_the_url_forgets_the_old_validators_and_is_due_at_once(superuser, provider_a, calendar_server):
    from tests.api.conftest import client_for

    connection = calendar_connection_create(provider=provider_a, url=calendar_server.url)
    CalendarConnection.objects.filter(pk=connection.pk).update(etag='"old"', next_sync_at="2030-01-01T00:00Z")

    response = client_for(superuser).patch(
        url_of(provider_a, f"{connection.pk}/"), {"url": calendar_server.url + "?v=2"}, format="json"
    )

    assert response.status_code == 200
    connection.refresh_from_db()
    assert (connection.etag, connection.next_sync_at) == ("", None)


def test_a_caldav_connection_is_created_and_its_credentials_never_come_back(superuser, provider_a, radicale):
    from tests.api.conftest import client_for
    from tests.caldav_fixtures import PASSWORD, USERNAME

    api = client_for(superuser)
    created = api.post(
        url_of(provider_a),
        {"kind": "caldav", "url": radicale.calendar_url, "credentials": {"username": USERNAME, "password": PASSWORD}},
        format="json",
    )

    assert created.status_code == 201
    assert created.json()["kind"] == "caldav"
    connection = CalendarConnection.objects.get()
    assert connection.credentials == {"username": USERNAME, "password": PASSWORD}
    synced = api.post(url_of(provider_a, f"{connection.pk}/sync/"))
    assert synced.json()["error"] == ""
    for response in (created, api.get(url_of(provider_a, f"{connection.pk}/")), api.get(url_of(provider_a)), synced):
        assert PASSWORD not in response.content.decode()
        assert "credentials" not in response.content.decode()


def test_caldav_credentials_other_than_a_username_and_password_are_a_400(superuser, provider_a):
    from tests.api.conftest import client_for

    response = client_for(superuser).post(
        url_of(provider_a),
        {"kind": "caldav", "url": "https://dav.example.com/cal/", "credentials": {"token": "x"}},
        format="json",
    )
    assert response.status_code == 400
    assert "credentials" in response.json()["fields"]


def test_a_url_with_a_user_and_password_in_it_is_a_400_pointing_to_the_credentials(superuser, provider_a):
    from tests.api.conftest import client_for

    response = client_for(superuser).post(
        url_of(provider_a),
        {"kind": "caldav", "url": "https://ann:secret@dav.example.com/cal/", "credentials": {"username": "a"}},
        format="json",
    )
    assert response.status_code == 400
    assert "password fields" in str(response.json()["fields"]["url"])


def test_a_secret_ical_url_is_answered_masked_and_sending_it_back_keeps_it(superuser, provider_a, calendar_server):
    from tests.api.conftest import client_for

    api = client_for(superuser)
    secret = calendar_server.url + "?private=s3cr3t-token-abcd"
    created = api.post(url_of(provider_a), {"url": secret}, format="json").json()
    host = calendar_server.url.split("/")[2]
    assert created["url"] == f"http://{host}/…abcd"
    assert api.get(url_of(provider_a)).json()[0]["url"] == created["url"]

    changed = api.patch(url_of(provider_a, f"{created['id']}/"), {"url": created["url"], "name": "x"}, format="json")

    assert changed.status_code == 200
    assert CalendarConnection.objects.get().url == secret


def test_syncing_a_connection_removed_meanwhile_is_a_404(superuser, provider_a):
    from tests.api.conftest import client_for

    assert client_for(superuser).post(url_of(provider_a, "999999/sync/")).status_code == 404
