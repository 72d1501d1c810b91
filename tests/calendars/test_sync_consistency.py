"""A sync applies only what is still true when it commits: a read begun before the connection's
settings changed, or overtaken by a later sync, is discarded; two sweeps never take one connection; a
304 never hides recurrences beyond what was last expanded; a refreshed token never overwrites a new
one staff gave meanwhile; a connection deleted or switched off gives its busy times back."""

from datetime import UTC, datetime, timedelta

import pytest

from calendars import services as calendar_services
from calendars.adapters.google import GoogleAdapter
from calendars.adapters.ical_url import IcalUrlAdapter
from calendars.models import CalendarConnection, ImportedEvent
from calendars.selectors import provider_horizon_days
from calendars.services import (
    calendar_connection_create,
    calendar_connection_delete,
    calendar_connection_sync,
    calendar_connection_update,
    calendar_connections_due_sync,
)
from scheduling.models import BlockedTime
from tests.factories import ProviderFactory

pytestmark = pytest.mark.django_db

NOW = datetime(2030, 1, 1, 8, tzinfo=UTC)


def calendar(*events: str) -> bytes:
    return ("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\n" + "".join(events) + "END:VCALENDAR\r\n").encode()


def event(uid: str, start: str, end: str, rrule: str = "") -> str:
    rule = f"RRULE:{rrule}\r\n" if rrule else ""
    return (
        f"BEGIN:VEVENT\r\nUID:{uid}\r\nDTSTAMP:20291201T000000Z\r\nDTSTART:{start}\r\nDTEND:{end}\r\n{rule}"
        "SUMMARY:Busy\r\nEND:VEVENT\r\n"
    )


WEEKLY = calendar(event("standup@example.com", "20300107T090000Z", "20300107T100000Z", "FREQ=WEEKLY"))


def imported_uids(connection) -> set[str]:
    return set(ImportedEvent.objects.filter(connection=connection).values_list("uid", flat=True))


def during_read(monkeypatch, adapter_class, action, *, times=1):
    """Run `action` right after the adapter's real read returns (the sync holds its result, no lock yet),
    the first `times` reads only."""
    original = adapter_class.read_busy
    calls = []

    def read_then_act(self, **kwargs):
        result = original(self, **kwargs)
        calls.append(1)
        if len(calls) <= times:
            action()
        return result

    monkeypatch.setattr(adapter_class, "read_busy", read_then_act)


@pytest.fixture
def ical(calendar_server):
    calendar_server.body = WEEKLY
    calendar_server.etag = '"v1"'
    return calendar_connection_create(provider=ProviderFactory(timezone="UTC"), url=calendar_server.url)


# The horizon moves past a 304 --------------------------------------------------------------------


def first_instance_after(moment: datetime) -> str:
    instance = datetime(2030, 1, 7, 9, tzinfo=UTC)
    while instance < moment:
        instance += timedelta(weeks=1)
    return f"standup@example.com|{instance:%Y%m%dT%H%M%SZ}"


def test_a_304_does_not_hide_recurrences_once_the_window_passes_the_last_expanded_one(calendar_server, ical):
    calendar_connection_sync(connection_id=ical.pk, now=NOW)
    beyond = first_instance_after(NOW + timedelta(days=provider_horizon_days(provider_id=ical.provider_id)))
    assert beyond not in imported_uids(ical)

    # A week later the file is the same (the server answers 304 to its ETag) but the window is longer.
    result = calendar_connection_sync(connection_id=ical.pk, now=NOW + timedelta(days=7))

    assert not result.not_modified and result.added == 1
    assert beyond in imported_uids(ical)
    assert calendar_server.requests[-1].get("If-None-Match") is None


def test_a_window_within_a_day_of_the_last_expanded_one_still_asks_conditionally(calendar_server, ical):
    calendar_connection_sync(connection_id=ical.pk, now=NOW)
    result = calendar_connection_sync(connection_id=ical.pk, now=NOW + timedelta(hours=6))
    assert result.not_modified
    assert calendar_server.requests[-1].get("If-None-Match") == '"v1"'


# Stale reads ---------------------------------------------------------------------------------------


def test_a_read_of_the_old_url_is_discarded_when_the_url_changes_meanwhile(calendar_server, ical, monkeypatch):
    during_read(
        monkeypatch,
        IcalUrlAdapter,
        lambda: calendar_connection_update(connection=ical, url=calendar_server.url + "?new"),
    )

    result = calendar_connection_sync(connection_id=ical.pk, now=NOW)

    assert result.superseded and result.added == 0
    ical.refresh_from_db()
    assert imported_uids(ical) == set()
    assert (ical.etag, ical.next_sync_at, ical.last_synced_at) == ("", None, None)  # still due at once


def test_an_older_read_never_overwrites_a_newer_sync(calendar_server, ical, monkeypatch):
    calendar_server.etag = ""
    moved = calendar(event("moved@example.com", "20300110T090000Z", "20300110T100000Z"))

    def a_newer_sync_commits_first():
        calendar_server.body = moved
        assert calendar_connection_sync(connection_id=ical.pk, now=NOW + timedelta(seconds=1)).added == 1

    during_read(monkeypatch, IcalUrlAdapter, a_newer_sync_commits_first)

    older = calendar_connection_sync(connection_id=ical.pk, now=NOW)

    assert older.superseded
    assert imported_uids(ical) == {"moved@example.com|20300110T090000Z"}


def test_two_sweeps_at_once_never_sync_the_same_connection(calendar_server, ical, monkeypatch):
    second = []
    during_read(monkeypatch, IcalUrlAdapter, lambda: second.extend(calendar_connections_due_sync()))

    first = calendar_connections_due_sync()

    assert len(first) == 1 and first[0].added > 0
    assert second == [] and len(calendar_server.requests) == 1


# Deleted or switched off -------------------------------------------------------------------------


def test_syncing_a_connection_deleted_meanwhile_is_a_no_op(calendar_server, ical, monkeypatch):
    during_read(monkeypatch, IcalUrlAdapter, lambda: calendar_connection_delete(connection_id=ical.pk))
    assert calendar_connection_sync(connection_id=ical.pk).superseded
    assert calendar_connection_sync(connection_id=ical.pk).superseded  # and once it is gone
    assert not BlockedTime.objects.exists()


def test_switching_a_connection_off_gives_back_its_busy_times_and_tells_the_waitlist(ical, monkeypatch):
    calendar_connection_sync(connection_id=ical.pk, now=NOW)
    assert BlockedTime.objects.filter(provider=ical.provider).exists()
    told = []
    monkeypatch.setattr(calendar_services.waitlist, "slot_may_have_freed", lambda **kw: told.append(kw))

    calendar_connection_update(connection=ical, is_active=False)

    assert not BlockedTime.objects.filter(provider=ical.provider).exists()
    assert told == [{"provider_id": ical.provider_id}]


def test_a_connection_switched_on_again_reads_its_calendar_whole(calendar_server, ical):
    calendar_connection_sync(connection_id=ical.pk, now=NOW)
    calendar_connection_update(connection=ical, is_active=False)
    calendar_connection_update(connection=ical, is_active=True)

    result = calendar_connection_sync(connection_id=ical.pk, now=NOW + timedelta(minutes=1))

    assert not result.not_modified and result.added > 0


def test_a_read_is_discarded_when_the_connection_is_switched_off_meanwhile(ical, monkeypatch):
    during_read(monkeypatch, IcalUrlAdapter, lambda: calendar_connection_update(connection=ical, is_active=False))
    assert calendar_connection_sync(connection_id=ical.pk, now=NOW).superseded
    assert not BlockedTime.objects.exists()


# Refreshed tokens --------------------------------------------------------------------------------


@pytest.fixture
def google(google_api):
    google_api.refresh_tokens.add("staff-new-token")
    return calendar_connection_create(
        provider=ProviderFactory(), kind=CalendarConnection.Kind.GOOGLE, credentials={"refresh_token": "google-refresh"}
    )


def test_a_token_refreshed_by_a_sync_never_overwrites_a_refresh_token_given_meanwhile(google, monkeypatch):
    during_read(
        monkeypatch,
        GoogleAdapter,
        lambda: calendar_connection_update(connection=google, credentials={"refresh_token": "staff-new-token"}),
    )

    calendar_connection_sync(connection_id=google.pk)

    google.refresh_from_db()
    assert google.credentials == {"refresh_token": "staff-new-token"}


def test_a_token_refreshed_by_a_sync_is_kept_when_nothing_changed(google):
    calendar_connection_sync(connection_id=google.pk)
    google.refresh_from_db()
    assert google.credentials["refresh_token"] == "google-refresh" and google.credentials["access_token"]
