"""A CalDAV calendar (Nextcloud, iCloud, Fastmail, Radicale, ...): busy times read through a
time-range REPORT, bookings written back as events (two-way).

`url` is the calendar collection itself (e.g. https://cloud.example.com/remote.php/dav/calendars/ann/work/);
`credentials` holds an optional {"username", "password"} (an app password, as most services issue).
The library talks through calendars.adapters.caldav_session: only to the calendar URL's origin, only to
addresses the SSRF guard checked at connection time, redirects not followed, answers capped in size.
"""

import hashlib
from datetime import UTC, datetime

import caldav
import icalendar
from caldav.lib import error as dav_error
from django.conf import settings
from django.core.exceptions import ValidationError

from calendars.adapters import AdapterError, CalendarAdapter, ExportEvent, ReadResult
from calendars.adapters.caldav_session import OutsideOrigin, TooLarge, guarded_session
from calendars.fetch import CalendarFetchError, check_url_shape
from calendars.ical_import import CalendarParseError, busy_spans

PRODID = "-//booking//calendar export//EN"


class CaldavAdapter(CalendarAdapter):
    kind = "caldav"
    can_export = True

    @classmethod
    def check_settings(cls, *, url: str, account: str, credentials: dict) -> None:
        try:
            check_url_shape(url)
        except CalendarFetchError as exc:
            raise ValidationError({"url": str(exc)}) from exc
        if not isinstance(credentials, dict) or set(credentials) - {"username", "password"}:
            raise ValidationError({"credentials": "CalDAV takes only a username and a password."})
        if any(not isinstance(value, str) for value in credentials.values()):
            raise ValidationError({"credentials": "The username and password must be text."})
        if credentials.get("password") and not credentials.get("username"):
            raise ValidationError({"credentials": "A password needs a username."})

    def read_busy(self, *, start: datetime, end: datetime) -> ReadResult:
        zone = self.connection.provider.timezone
        with self._client() as client:
            calendar = client.calendar(url=self._calendar_url())
            # Recurrences are expanded by ical_import (one parser for every kind), not by the server.
            found = self._call(lambda: calendar.search(start=start, end=end, event=True, expand=False))
            spans = {}
            for resource in found:
                try:
                    for span in busy_spans(_as_bytes(resource.data), zone=zone, start=start, end=end):
                        spans[span.uid_key] = span
                except CalendarParseError as exc:
                    raise AdapterError(f"An event in the calendar could not be read: {exc}") from exc
        return ReadResult(spans=sorted(spans.values(), key=lambda s: (s.start, s.uid_key)))

    def write_event(self, *, event: ExportEvent) -> None:
        body = _ical(event)
        with self._client() as client:
            response = self._call(
                lambda: client.put(self._event_url(event.uid), body, {"Content-Type": "text/calendar; charset=utf-8"})
            )
            _check_status(response.status, allowed=(200, 201, 204))

    def delete_event(self, *, uid: str) -> None:
        with self._client() as client:
            response = self._call(lambda: client.delete(self._event_url(uid)))
            _check_status(response.status, allowed=(200, 204, 404, 410))

    def _calendar_url(self) -> str:
        url = self.connection.url
        return url if url.endswith("/") else f"{url}/"

    def _event_url(self, uid: str) -> str:
        # Stable per UID, and safe whatever characters a UID holds: a replace lands on the same resource.
        return f"{self._calendar_url()}{hashlib.sha256(uid.encode()).hexdigest()[:40]}.ics"

    def _client(self) -> caldav.DAVClient:
        try:
            check_url_shape(self.connection.url)
        except CalendarFetchError as exc:
            raise AdapterError(str(exc), retryable=False) from exc
        credentials = self.connection.credentials or {}
        client = caldav.DAVClient(
            url=self._calendar_url(),
            username=credentials.get("username") or None,
            password=credentials.get("password") or None,
            timeout=settings.CALENDAR_FETCH_TIMEOUT_SECONDS,
            enable_rfc6764=False,
            rate_limit_handle=False,
        )
        # Every request the library makes, to whatever URL, goes through the guarded session.
        client.session.close()
        client.session = guarded_session(self._calendar_url())
        self._resolver = client.session.resolver
        return client

    def _session_refusal(self) -> str:
        """The guard's refusal of an address, if that is why the last request could not connect."""
        resolver = getattr(self, "_resolver", None)
        return getattr(resolver, "refused", "")

    def _call(self, request):
        """Run one library call, turning whatever it raises into an AdapterError that names no
        credential (library messages carry URLs, which may hold a user name, so they are not passed on)."""
        try:
            return request()
        except AdapterError:
            raise
        except OutsideOrigin as exc:
            raise AdapterError(
                "The CalDAV server pointed to another server than the calendar's; not followed.", retryable=False
            ) from exc
        except TooLarge as exc:
            raise AdapterError(str(exc)) from exc
        except dav_error.AuthorizationError as exc:
            raise AdapterError(
                f"The CalDAV server refused the credentials (HTTP {exc.status or 401}).", retryable=False
            ) from exc
        except dav_error.NotFoundError as exc:
            raise AdapterError("The CalDAV calendar was not found at this URL.", retryable=False) from exc
        except dav_error.DAVError as exc:
            raise AdapterError(f"The CalDAV server answered with an error ({type(exc).__name__}).") from exc
        except Exception as exc:  # niquests' connection errors, timeouts, too many redirects
            refused = self._session_refusal()
            if refused:
                raise AdapterError(refused, retryable=False) from exc
            raise AdapterError(f"The CalDAV server could not be reached ({type(exc).__name__}).") from exc


def _check_status(status: int, *, allowed: tuple[int, ...]) -> None:
    if status in allowed:
        return
    if status in (401, 403):
        raise AdapterError(f"The CalDAV server refused the credentials (HTTP {status}).", retryable=False)
    if status in (404, 409):  # 409 on a PUT: the collection it goes into does not exist
        raise AdapterError("The CalDAV calendar was not found at this URL.", retryable=False)
    raise AdapterError(f"The CalDAV server answered HTTP {status}.")


def _as_bytes(data) -> bytes:
    return data.encode() if isinstance(data, str) else bytes(data or b"")


def _ical(event: ExportEvent) -> str:
    calendar = icalendar.Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    vevent = icalendar.Event()
    vevent.add("uid", event.uid)
    vevent.add("dtstamp", datetime.now(UTC))
    vevent.add("dtstart", event.start.astimezone(UTC))
    vevent.add("dtend", event.end.astimezone(UTC))
    vevent.add("summary", event.summary)
    if event.description:
        vevent.add("description", event.description)
    vevent.add("sequence", event.sequence)
    calendar.add_component(vevent)
    return calendar.to_ical().decode()
