"""The Google Calendar adapter against a local fake of the documented API (tests/calendar_fakes)."""

import time
from datetime import UTC, datetime, timedelta

import pytest

from calendars.adapters import AdapterError, ExportEvent
from calendars.adapters.google import GoogleAdapter
from calendars.models import CalendarConnection, ImportedEvent
from calendars.services import calendar_connection_create, calendar_connection_sync
from tests.factories import ProviderFactory

pytestmark = pytest.mark.django_db

START, END = datetime(2030, 1, 1, tzinfo=UTC), datetime(2030, 3, 1, tzinfo=UTC)


@pytest.fixture
def connection():
    return calendar_connection_create(
        provider=ProviderFactory(timezone="Europe/Berlin"),
        kind=CalendarConnection.Kind.GOOGLE,
        account="primary",
        credentials={"refresh_token": "google-refresh"},
    )


def read(connection):
    adapter = GoogleAdapter(connection)
    return adapter, {(s.uid_key, s.start, s.end) for s in adapter.read_busy(start=START, end=END).spans}


def test_a_google_connection_needs_a_refresh_token():
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as raised:
        calendar_connection_create(provider=ProviderFactory(), kind="google", credentials={})
    assert "credentials" in raised.value.message_dict


def test_recurring_series_are_read_as_their_instances(google_api, connection):
    google_api.add_event(
        iCalUID="standup@google.com",
        start={"dateTime": "2030-01-07T10:00:00+01:00"},
        end={"dateTime": "2030-01-07T11:00:00+01:00"},
        recurrence=["RRULE:FREQ=WEEKLY;COUNT=3"],
    )
    _, spans = read(connection)
    assert spans == {
        (
            f"standup@google.com|203001{d:02}T090000Z",
            datetime(2030, 1, d, 9, tzinfo=UTC),
            datetime(2030, 1, d, 10, tzinfo=UTC),
        )
        for d in (7, 14, 21)
    }
    assert google_api.requests[-1]["query"]["singleEvents"] == "true"


def test_all_day_events_cover_whole_days_in_the_providers_zone(google_api, connection):
    google_api.add_event(iCalUID="conf", start={"date": "2030-01-10"}, end={"date": "2030-01-11"})
    _, spans = read(connection)
    assert spans == {
        ("conf|20300109T230000Z", datetime(2030, 1, 9, 23, tzinfo=UTC), datetime(2030, 1, 10, 23, tzinfo=UTC))
    }


def test_transparent_and_cancelled_events_are_free(google_api, connection):
    times = {"start": {"dateTime": "2030-01-08T09:00:00Z"}, "end": {"dateTime": "2030-01-08T10:00:00Z"}}
    google_api.add_event(iCalUID="free", transparency="transparent", **times)
    google_api.add_event(iCalUID="gone", status="cancelled", **times)
    google_api.add_event(iCalUID="busy", transparency="opaque", **times)
    _, spans = read(connection)
    assert {key.split("|")[0] for key, _, _ in spans} == {"busy"}


def test_every_page_is_read(google_api, connection):
    google_api.page_size = 2
    for day in range(1, 6):
        google_api.add_event(
            iCalUID=f"e{day}",
            start={"dateTime": f"2030-01-0{day}T09:00:00Z"},
            end={"dateTime": f"2030-01-0{day}T10:00:00Z"},
        )
    _, spans = read(connection)
    assert len(spans) == 5
    assert [r["query"].get("pageToken") for r in google_api.requests if r["path"].endswith("/events")] == [
        None,
        "2",
        "4",
    ]


def test_a_refreshed_token_is_stored_and_never_shown(google_api, connection, client):
    google_api.add_event(
        iCalUID="e", start={"dateTime": "2030-01-08T09:00:00Z"}, end={"dateTime": "2030-01-08T10:00:00Z"}
    )
    result = calendar_connection_sync(connection_id=connection.pk)
    assert (result.error, result.added) == ("", 1)
    connection.refresh_from_db()
    token = connection.credentials["access_token"]
    assert google_api.access_tokens[token] and connection.credentials["refresh_token"] == "google-refresh"
    assert connection.credentials["expires_at"] > time.time() + 3000
    # The next sync uses the stored token: no new grant.
    grants = sum(r["path"] == "/token" for r in google_api.requests)
    calendar_connection_sync(connection_id=connection.pk)
    assert sum(r["path"] == "/token" for r in google_api.requests) == grants
    assert ImportedEvent.objects.filter(connection=connection).count() == 1


def test_a_401_refreshes_the_token_once_and_retries(google_api, connection):
    adapter, _ = read(connection)
    google_api.expire_access_tokens()
    connection.credentials = adapter.changed_credentials
    adapter, _ = read(connection)
    assert adapter.changed_credentials["access_token"] != connection.credentials["access_token"]


def test_a_revoked_refresh_token_is_an_error_that_retrying_will_not_fix(google_api, connection):
    connection.credentials = {"refresh_token": "revoked"}
    with pytest.raises(AdapterError) as raised:
        read(connection)
    assert raised.value.retryable is False
    assert "revoked" not in str(raised.value)


def test_an_unknown_calendar_is_an_error_that_retrying_will_not_fix(google_api, connection):
    connection.account = "nobody@example.com"
    with pytest.raises(AdapterError) as raised:
        read(connection)
    assert raised.value.retryable is False


def booking_event(**changes):
    fields = {
        "uid": "booking-7@booking.example",
        "start": datetime(2030, 1, 8, 9, tzinfo=UTC),
        "end": datetime(2030, 1, 8, 10, tzinfo=UTC),
        "summary": "Haircut",
    }
    return ExportEvent(**{**fields, **changes})


def test_an_event_is_written_with_our_uid_and_read_back_under_it(google_api, connection):
    adapter = GoogleAdapter(connection)
    adapter.write_event(event=booking_event())
    adapter.write_event(event=booking_event())  # idempotent
    assert [e["iCalUID"] for e in google_api.events()] == ["booking-7@booking.example"]
    _, spans = read(connection)
    assert {key for key, _, _ in spans} == {"booking-7@booking.example|20300108T090000Z"}


def test_writing_again_replaces_the_event(google_api, connection):
    adapter = GoogleAdapter(connection)
    adapter.write_event(event=booking_event())
    later = datetime(2030, 1, 9, 14, tzinfo=UTC)
    adapter.write_event(event=booking_event(start=later, end=later + timedelta(hours=1), sequence=1))
    (event,) = google_api.events()
    assert event["start"]["dateTime"] == "2030-01-09T14:00:00Z"


def test_an_event_is_deleted_by_uid_and_deleting_again_is_fine(google_api, connection):
    adapter = GoogleAdapter(connection)
    adapter.write_event(event=booking_event())
    adapter.delete_event(uid="booking-7@booking.example")
    adapter.delete_event(uid="booking-7@booking.example")
    adapter.delete_event(uid="never-written")
    assert google_api.events() == []
    adapter.write_event(event=booking_event())  # a booking that comes back revives its event
    assert len(google_api.events()) == 1


def test_an_event_with_a_uid_too_long_for_the_column_is_still_imported(google_api, connection):
    long_uid = "x" * 600 + "@google.com"
    google_api.add_event(
        iCalUID=long_uid, start={"dateTime": "2030-01-08T09:00:00Z"}, end={"dateTime": "2030-01-08T10:00:00Z"}
    )
    result = calendar_connection_sync(connection_id=connection.pk, now=START)
    assert (result.error, result.added) == ("", 1)
    (key,) = ImportedEvent.objects.filter(connection=connection).values_list("uid", flat=True)
    assert len(key) <= 512 and key.endswith("|20300108T090000Z")
