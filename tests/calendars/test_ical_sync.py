"""Importing busy times from an iCal URL served by a real local HTTP server."""

import re
from datetime import UTC, date, datetime, timedelta

import pytest
from django.db import connection as db_connection
from django.test.utils import CaptureQueriesContext

from calendars.models import CalendarConnection, ImportedEvent
from calendars.selectors import bookings_overlapping_external_busy
from calendars.services import (
    calendar_connection_create,
    calendar_connection_delete,
    calendar_connection_sync,
    calendar_connections_due_sync,
)
from scheduling.models import BlockedTime, BookingStatus
from scheduling.selectors import provider_slots
from tests.calendar_fixtures import fixture_bytes
from tests.factories import AvailabilityRuleFactory, BookingFactory, ProviderFactory, service_of
from waitlist import hooks as waitlist_hooks

pytestmark = pytest.mark.django_db


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


# What Google Calendar and Outlook show for the two fixture files, as UTC spans (Europe/Berlin provider).
GOOGLE_BUSY = {
    (utc(2030, 1, 7, 9), utc(2030, 1, 7, 10)),  # weekly standup, 10:00 CET
    (utc(2030, 1, 9, 23), utc(2030, 1, 10, 23)),  # all-day conference, midnight to midnight in Berlin
    (utc(2030, 1, 14, 9), utc(2030, 1, 14, 10)),
    (utc(2030, 1, 15, 8), utc(2030, 1, 15, 8, 30)),  # a UTC event
    # 21 January: EXDATE. 28 January: moved to Tuesday 29th, 14:00 CET.
    (utc(2030, 1, 29, 13), utc(2030, 1, 29, 14)),
    # 4 February: the instance is cancelled. 11 February: the last of COUNT=6.
    (utc(2030, 2, 11, 9), utc(2030, 2, 11, 10)),
}
OUTLOOK_BUSY = {
    (utc(2030, 3, 12, 14), utc(2030, 3, 12, 15, 30)),  # W. Europe Standard Time, still winter (+01)
    (utc(2030, 3, 13, 13), utc(2030, 3, 13, 14)),  # Eastern Standard Time, already daylight time (-04)
    (utc(2030, 3, 14, 7), utc(2030, 3, 14, 8)),  # floating: read in the provider's zone
    (utc(2030, 4, 2, 7), utc(2030, 4, 2, 8)),  # W. Europe after the DST change (+02)
    # The all-day holiday and "Focus time" are TRANSP:TRANSPARENT (shown as free).
}


@pytest.fixture
def provider():
    provider = ProviderFactory(timezone="Europe/Berlin")
    AvailabilityRuleFactory(provider=provider)  # weekdays 09:00-17:00 Berlin
    return provider


@pytest.fixture
def connection(provider, calendar_server):
    calendar_server.body = fixture_bytes("google_export.ics")
    return calendar_connection_create(provider=provider, url=calendar_server.url, name="Google")


def imported_spans(connection) -> set:
    return set(BlockedTime.objects.filter(imported_event__connection=connection).values_list("start_at", "end_at"))


def imported_ids(connection) -> set:
    return set(ImportedEvent.objects.filter(connection=connection).values_list("pk", "blocked_time_id"))


def test_google_export_imports_exactly_the_busy_instances(connection):
    result = calendar_connection_sync(connection_id=connection.pk)

    assert result.error == ""
    assert (result.read, result.added, result.removed, result.kept) == (6, 6, 0, 0)
    assert imported_spans(connection) == GOOGLE_BUSY
    assert set(BlockedTime.objects.filter(imported_event__connection=connection).values_list("reason", flat=True)) == {
        BlockedTime.Reason.EXTERNAL
    }
    assert "Team standup (moved)" in set(BlockedTime.objects.values_list("note", flat=True))


def test_outlook_export_reads_its_vtimezone_blocks(provider, calendar_server):
    calendar_server.body = fixture_bytes("outlook_export.ics")
    outlook = calendar_connection_create(provider=provider, url=calendar_server.url)

    result = calendar_connection_sync(connection_id=outlook.pk)

    assert result.error == ""
    assert imported_spans(outlook) == OUTLOOK_BUSY


def test_slots_no_longer_offer_the_imported_busy_times(provider, connection):
    service = service_of(provider)  # 30-minute slots
    days = [date(2030, 1, 7), date(2030, 1, 10), date(2030, 1, 15), date(2030, 1, 21), date(2030, 2, 4)]

    def starts():
        return {s.start for d in days for s in provider_slots(provider=provider, service=service, first=d, last=d)}

    before = starts()
    calendar_connection_sync(connection_id=connection.pk)
    gone = before - starts()

    expected = {utc(2030, 1, 7, 9), utc(2030, 1, 7, 9, 30), utc(2030, 1, 15, 8)}
    expected |= {s for s in before if s.date() == date(2030, 1, 10)}  # the all-day conference
    # Nothing taken on the EXDATE (21st) or the cancelled instance (4 February).
    assert gone == expected


def test_resync_without_change_writes_nothing(connection):
    calendar_connection_sync(connection_id=connection.pk)
    ids = imported_ids(connection)

    with CaptureQueriesContext(db_connection) as queries:
        result = calendar_connection_sync(connection_id=connection.pk)

    assert (result.added, result.removed, result.kept) == (0, 0, 6)
    writes = [q["sql"] for q in queries if q["sql"].lstrip().upper().startswith(("INSERT", "DELETE"))]
    assert writes == []
    assert imported_ids(connection) == ids


def test_changed_file_removes_the_vanished_event_and_adds_the_new_one(connection, calendar_server):
    calendar_connection_sync(connection_id=connection.pk)
    kept_before = {
        pk
        for pk, start in BlockedTime.objects.filter(imported_event__connection=connection).values_list("pk", "start_at")
        if start != utc(2030, 1, 15, 8)
    }
    new_event = (
        b"BEGIN:VEVENT\r\nUID:new-event@google.com\r\nDTSTAMP:20291201T120000Z\r\n"
        b"DTSTART:20300117T150000Z\r\nDTEND:20300117T160000Z\r\nSUMMARY:New\r\nEND:VEVENT\r\n"
    )
    body = fixture_bytes("google_export.ics")
    body = re.sub(rb"BEGIN:VEVENT\r\n(?:(?!END:VEVENT).)*?UID:0private1dentist.*?END:VEVENT\r\n", b"", body, flags=re.S)
    body = body.replace(b"END:VCALENDAR", new_event + b"END:VCALENDAR")
    calendar_server.body = body

    result = calendar_connection_sync(connection_id=connection.pk)

    assert (result.added, result.removed, result.kept) == (1, 1, 5)
    expected = (GOOGLE_BUSY - {(utc(2030, 1, 15, 8), utc(2030, 1, 15, 8, 30))}) | {
        (utc(2030, 1, 17, 15), utc(2030, 1, 17, 16))
    }
    assert imported_spans(connection) == expected
    assert kept_before <= set(BlockedTime.objects.values_list("pk", flat=True))


def _http_500(server, settings):
    server.status = 500


def _bad_file(server, settings):
    server.body = b"<html>Sign in to see this calendar</html>"


def _timeout(server, settings):
    settings.CALENDAR_FETCH_TIMEOUT_SECONDS = 0.5
    server.delay = 2


def _too_large(server, settings):
    settings.CALENDAR_FETCH_MAX_BYTES = 1000
    server.declare_length = False  # the cap must hold while streaming, not only on Content-Length


@pytest.mark.parametrize(
    ("break_it", "message"),
    [(_http_500, "HTTP 500"), (_bad_file, "not a valid iCalendar"), (_timeout, "in time"), (_too_large, "larger")],
    ids=["http-500", "bad-file", "timeout", "too-large"],
)
def test_failed_sync_keeps_the_previous_rows_and_records_the_error(
    connection, calendar_server, settings, break_it, message
):
    calendar_connection_sync(connection_id=connection.pk)
    ids = imported_ids(connection)
    synced_at = CalendarConnection.objects.get(pk=connection.pk).last_synced_at
    break_it(calendar_server, settings)

    result = calendar_connection_sync(connection_id=connection.pk)

    assert message in result.error
    assert imported_ids(connection) == ids
    connection.refresh_from_db()
    assert message in connection.last_error
    assert connection.last_error_at is not None
    assert connection.last_synced_at == synced_at


def test_success_clears_the_error_and_schedules_the_next_sync(connection, calendar_server):
    calendar_server.status = 500
    calendar_connection_sync(connection_id=connection.pk)
    calendar_server.status = 200

    calendar_connection_sync(connection_id=connection.pk)

    connection.refresh_from_db()
    assert connection.last_error == ""
    assert connection.last_error_at is None
    assert connection.next_sync_at - connection.last_synced_at == timedelta(minutes=10)


def test_not_modified_with_etag_writes_nothing(connection, calendar_server):
    calendar_server.etag = '"v1"'
    calendar_connection_sync(connection_id=connection.pk)
    ids = imported_ids(connection)

    with CaptureQueriesContext(db_connection) as queries:
        result = calendar_connection_sync(connection_id=connection.pk)

    assert calendar_server.requests[-1].get("If-None-Match") == '"v1"'
    assert result.not_modified
    assert result.kept == 6
    assert [q for q in queries if q["sql"].lstrip().upper().startswith(("INSERT", "DELETE"))] == []
    assert imported_ids(connection) == ids


def test_imported_busy_time_never_cancels_a_booking_and_the_booking_is_flagged(provider, connection):
    clashing = BookingFactory(provider=provider, start_at=utc(2030, 1, 7, 9, 30))
    clear = BookingFactory(provider=provider, start_at=utc(2030, 1, 8, 9, 30))

    calendar_connection_sync(connection_id=connection.pk)

    clashing.refresh_from_db()
    assert clashing.status == BookingStatus.CONFIRMED
    with CaptureQueriesContext(db_connection) as queries:
        flagged = list(bookings_overlapping_external_busy(provider_ids=[provider.pk]))
    assert flagged == [clashing]
    assert clear not in flagged
    assert len(queries) == 1


def test_a_manual_blocked_time_is_not_flagged_as_external(provider):
    booking = BookingFactory(provider=provider, start_at=utc(2030, 1, 7, 9, 30))
    BlockedTime.objects.create(
        provider=provider, start_at=utc(2030, 1, 7, 9), end_at=utc(2030, 1, 7, 10), reason=BlockedTime.Reason.PERSONAL
    )

    assert booking not in bookings_overlapping_external_busy(provider_ids=[provider.pk])


def test_due_sync_goes_on_past_a_failing_connection(provider, connection, calendar_server):
    failing = calendar_connection_create(provider=provider, url="http://calendar.invalid/x.ics")
    not_due = calendar_connection_create(provider=provider, url=calendar_server.url)
    CalendarConnection.objects.filter(pk=not_due.pk).update(next_sync_at=utc(2999, 1, 1))
    CalendarConnection.objects.filter(pk=connection.pk).update(next_sync_at=utc(2000, 1, 1))

    calendar_connections_due_sync()

    failing.refresh_from_db()
    assert "could not be resolved" in failing.last_error
    assert imported_spans(connection) == GOOGLE_BUSY
    assert not ImportedEvent.objects.filter(connection=not_due).exists()


def test_create_refuses_a_url_that_is_not_http(provider):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        calendar_connection_create(provider=provider, url="file:///etc/passwd")


def test_deleting_a_connection_frees_the_times_it_imported(provider, connection, django_capture_on_commit_callbacks):
    calendar_connection_sync(connection_id=connection.pk)
    assert imported_spans(connection)

    with django_capture_on_commit_callbacks() as kicks:
        calendar_connection_delete(connection_id=connection.pk)

    assert not BlockedTime.objects.filter(provider=provider).exists()
    assert kicks  # the waitlist looks for offers in the freed time


def test_a_busy_time_gone_from_the_calendar_kicks_the_waitlist(connection, calendar_server, monkeypatch):
    calendar_connection_sync(connection_id=connection.pk)
    kicked = []
    monkeypatch.setattr(waitlist_hooks, "slot_may_have_freed", lambda **kwargs: kicked.append(kwargs))
    calendar_server.body = re.sub(
        rb"BEGIN:VEVENT\r\n(?:(?!END:VEVENT).)*?UID:0private1dentist.*?END:VEVENT\r\n",
        b"",
        fixture_bytes("google_export.ics"),
        flags=re.S,
    )

    calendar_connection_sync(connection_id=connection.pk)

    assert kicked == [{"provider_id": connection.provider_id}]


def test_the_slots_api_offers_exactly_what_the_calendar_app_shows_free(provider, connection, client):
    """The same as above, through the HTTP slots endpoint a customer page or integrator reads."""
    service = service_of(provider)

    def api_starts():
        starts = set()
        for day in ["2030-01-07", "2030-01-10", "2030-01-15", "2030-01-21", "2030-02-04"]:
            response = client.get(
                f"/api/v1/providers/{provider.pk}/slots/?start={day}&end={day}&tz=Europe/Berlin&service={service.pk}"
            )
            assert response.status_code == 200, response.content
            starts |= {datetime.fromisoformat(slot["start"]) for slot in response.json()["slots"]}
        return starts

    before = api_starts()
    calendar_connection_sync(connection_id=connection.pk)
    gone = before - api_starts()

    expected = {utc(2030, 1, 7, 9), utc(2030, 1, 7, 9, 30), utc(2030, 1, 15, 8)}
    expected |= {s for s in before if s.astimezone(UTC).date() == date(2030, 1, 10)}
    assert gone == expected and before
