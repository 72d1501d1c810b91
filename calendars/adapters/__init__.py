"""One interface over every kind of external calendar (docs/decisions/0015-calendar-sync.md).

The sync service (calendars.services) and the export outbox speak only to `CalendarAdapter`; each kind
(an iCal URL, CalDAV, Google Calendar, Microsoft 365) has its own module in this package. Adapters make
network calls and never write to the database: what they learn that must be kept (an ETag, a refreshed
access token, a sync token) comes back in `ReadResult.state` or `CalendarAdapter.changed_credentials`,
and the service stores it under its own lock.
"""

from dataclasses import dataclass, field
from datetime import datetime
from importlib import import_module

from calendars.ical_import import BusySpan

ADAPTERS = {
    "ical_url": "calendars.adapters.ical_url.IcalUrlAdapter",
    "google": "calendars.adapters.google.GoogleAdapter",
    "microsoft": "calendars.adapters.microsoft.MicrosoftAdapter",
    "caldav": "calendars.adapters.caldav.CaldavAdapter",
}


class AdapterError(Exception):
    """The calendar could not be read or written; the message is safe to show to staff (never a
    credential). `retryable` is False for answers that will not change by trying again (a 401 after a
    token refresh, a calendar that does not exist)."""

    def __init__(self, message: str, *, retryable: bool = True):
        super().__init__(message)
        self.retryable = retryable


@dataclass(frozen=True)
class ReadResult:
    """What a read found: the busy spans over the window, or `spans=None` when the calendar says nothing
    changed since the state the adapter was given. `state` holds the connection fields to store (only
    those in `CONNECTION_STATE_FIELDS`)."""

    spans: list[BusySpan] | None
    state: dict = field(default_factory=dict)


CONNECTION_STATE_FIELDS = {"etag", "last_modified"}


@dataclass(frozen=True)
class ExportEvent:
    """A booking as an event we write to a provider's calendar. `uid` is the booking's calendar UID
    (scheduling.ics.booking_uid), which is also how import recognises events we wrote."""

    uid: str
    start: datetime  # UTC
    end: datetime  # UTC
    summary: str
    description: str = ""
    sequence: int = 0


class CalendarAdapter:
    """The interface. Subclasses override what their kind supports."""

    kind = ""
    can_export = False

    def __init__(self, connection):
        self.connection = connection
        # Set by an adapter that refreshed a token: the service stores it after the call.
        self.changed_credentials: dict | None = None

    @classmethod
    def check_settings(cls, *, url: str, account: str, credentials: dict) -> None:
        """Raise django.core.exceptions.ValidationError (keyed by field) on settings this kind cannot
        use. Called before a connection is made or changed; never makes a network call."""

    def read_busy(self, *, start: datetime, end: datetime) -> ReadResult:
        """The busy spans meeting [start, end). Raises AdapterError."""
        raise NotImplementedError

    def write_event(self, *, event: ExportEvent) -> None:
        """Create the event, or replace the one with its UID. Idempotent. Raises AdapterError."""
        raise AdapterError(f"{self.kind} calendars are read only.", retryable=False)

    def delete_event(self, *, uid: str) -> None:
        """Remove the event with this UID; one already gone is no error. Raises AdapterError."""
        raise AdapterError(f"{self.kind} calendars are read only.", retryable=False)


def adapter_class(kind: str) -> type[CalendarAdapter]:
    try:
        module_name, class_name = ADAPTERS[kind].rsplit(".", 1)
    except KeyError as exc:
        raise AdapterError(f"No adapter for {kind!r} calendars.", retryable=False) from exc
    return getattr(import_module(module_name), class_name)


def adapter_for(connection) -> CalendarAdapter:
    return adapter_class(connection.kind)(connection)
