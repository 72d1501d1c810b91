"""The Microsoft 365 adapter against a local fake of Microsoft Graph (tests/calendar_fakes)."""

from datetime import UTC, datetime

import pytest

from calendars.adapters import AdapterError, ExportEvent
from calendars.adapters.microsoft import MicrosoftAdapter
from calendars.models import CalendarConnection
from calendars.services import calendar_connection_create, calendar_connection_sync
from tests.factories import ProviderFactory

pytestmark = pytest.mark.django_db

START, END = datetime(2030, 1, 1, tzinfo=UTC), datetime(2030, 3, 1, tzinfo=UTC)


def utc(*args):
    return datetime(*args, tzinfo=UTC)


@pytest.fixture
def connection():
    return calendar_connection_create(
        provider=ProviderFactory(timezone="Europe/Berlin"),
        kind=CalendarConnection.Kind.MICROSOFT,
        credentials={"refresh_token": "ms-refresh"},
    )


def read(connection):
    adapter = MicrosoftAdapter(connection)
    return adapter, {(s.uid_key.split("|")[0], s.start, s.end) for s in adapter.read_busy(start=START, end=END).spans}


def test_series_occurrences_are_read_in_utc(microsoft_graph, connection):
    master = microsoft_graph.add_event(
        start=utc(2030, 1, 7, 9),
        end=utc(2030, 1, 7, 10),
        recurrence={
            "pattern": {"type": "weekly", "interval": 1},
            "range": {"type": "numbered", "numberOfOccurrences": 2},
        },
    )
    _, spans = read(connection)
    assert {(start, end) for _, start, end in spans} == {
        (utc(2030, 1, 7, 9), utc(2030, 1, 7, 10)),
        (utc(2030, 1, 14, 9), utc(2030, 1, 14, 10)),
    }
    assert all(uid.startswith(master["iCalUId"]) for uid, _, _ in spans)
    assert microsoft_graph.requests[-1]["prefer"] == 'outlook.timezone="UTC"'


def test_all_day_events_cover_whole_days_in_the_providers_zone(microsoft_graph, connection):
    microsoft_graph.add_event(start=utc(2030, 1, 10), end=utc(2030, 1, 11), isAllDay=True)
    _, spans = read(connection)
    assert {(start, end) for _, start, end in spans} == {(utc(2030, 1, 9, 23), utc(2030, 1, 10, 23))}


def test_free_and_cancelled_events_are_not_busy(microsoft_graph, connection):
    microsoft_graph.add_event(start=utc(2030, 1, 8, 9), end=utc(2030, 1, 8, 10), showAs="free")
    microsoft_graph.add_event(start=utc(2030, 1, 8, 9), end=utc(2030, 1, 8, 10), isCancelled=True)
    busy = microsoft_graph.add_event(start=utc(2030, 1, 8, 9), end=utc(2030, 1, 8, 10), showAs="tentative")
    _, spans = read(connection)
    assert {uid for uid, _, _ in spans} == {busy["iCalUId"]}


def test_every_next_link_is_followed(microsoft_graph, connection):
    microsoft_graph.page_size = 2
    for day in range(1, 6):
        microsoft_graph.add_event(start=utc(2030, 1, day, 9), end=utc(2030, 1, day, 10))
    _, spans = read(connection)
    assert len(spans) == 5
    assert sum(r["path"].endswith("/calendarView") for r in microsoft_graph.requests) == 3


def test_a_rotated_refresh_token_is_stored(microsoft_graph, connection):
    microsoft_graph.add_event(start=utc(2030, 1, 8, 9), end=utc(2030, 1, 8, 10))
    assert calendar_connection_sync(connection_id=connection.pk).error == ""
    connection.refresh_from_db()
    assert connection.credentials["refresh_token"] in microsoft_graph.refresh_tokens
    assert connection.credentials["refresh_token"] != "ms-refresh"
    # With the old refresh token gone at Graph, an expired access token is still renewed.
    microsoft_graph.expire_access_tokens()
    assert calendar_connection_sync(connection_id=connection.pk).error == ""


def test_a_revoked_refresh_token_is_an_error_that_retrying_will_not_fix(microsoft_graph, connection):
    connection.credentials = {"refresh_token": "revoked"}
    with pytest.raises(AdapterError) as raised:
        read(connection)
    assert raised.value.retryable is False


def test_an_unknown_calendar_is_an_error_that_retrying_will_not_fix(microsoft_graph, connection):
    connection.account = "no-such-calendar"
    with pytest.raises(AdapterError) as raised:
        read(connection)
    assert raised.value.retryable is False


def booking_event(**changes):
    fields = {
        "uid": "booking-7@booking.example",
        "start": utc(2030, 1, 8, 9),
        "end": utc(2030, 1, 8, 10),
        "summary": "Haircut",
    }
    return ExportEvent(**{**fields, **changes})


def test_an_event_is_written_once_and_read_back_under_our_uid(microsoft_graph, connection):
    adapter = MicrosoftAdapter(connection)
    adapter.write_event(event=booking_event())
    adapter.write_event(event=booking_event())
    assert len(microsoft_graph.events) == 1
    connection.credentials = adapter.changed_credentials  # Microsoft rotated the refresh token
    _, spans = read(connection)
    assert spans == {("booking-7@booking.example", utc(2030, 1, 8, 9), utc(2030, 1, 8, 10))}


def test_writing_again_replaces_the_event_in_the_chosen_calendar(microsoft_graph, connection):
    connection.account = "work-calendar"
    adapter = MicrosoftAdapter(connection)
    adapter.write_event(event=booking_event())
    adapter.write_event(event=booking_event(start=utc(2030, 1, 9, 14), end=utc(2030, 1, 9, 15)))
    (event,) = microsoft_graph.events.values()
    assert (event["calendar"], event["start"]["dateTime"]) == ("work-calendar", "2030-01-09T14:00:00.0000000")


def test_an_event_is_deleted_by_uid_and_deleting_again_is_fine(microsoft_graph, connection):
    adapter = MicrosoftAdapter(connection)
    adapter.write_event(event=booking_event())
    adapter.delete_event(uid="booking-7@booking.example")
    adapter.delete_event(uid="booking-7@booking.example")
    assert microsoft_graph.events == {}
