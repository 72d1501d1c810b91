"""A local Google Calendar API v3 and OAuth2 token endpoint, answering as documented: events.list
(singleEvents expansion of RRULE series, timeMin/timeMax, maxResults/pageToken paging, iCalUID
lookup), events.import/update/delete, events.watch, channels.stop, and the refresh-token grant.
An access token it has expired answers 401, as Google does."""

import itertools
import json
from datetime import UTC, date, datetime, timedelta
from urllib.parse import parse_qs, unquote

import pytest
from dateutil.rrule import rrulestr

from tests.calendar_fakes._server import serve, stop

CALENDAR_PREFIX = "/calendar/v3/calendars/"


def _parse(stamp: str) -> datetime:
    return datetime.fromisoformat(stamp).astimezone(UTC)


def _bounds(event: dict) -> tuple[datetime, datetime]:
    start, end = event["start"], event["end"]
    if "date" in start:  # all-day: compared in UTC here, good enough for windows in the tests
        return (
            datetime.combine(date.fromisoformat(start["date"]), datetime.min.time(), tzinfo=UTC),
            datetime.combine(date.fromisoformat(end["date"]), datetime.min.time(), tzinfo=UTC),
        )
    return _parse(start["dateTime"]), _parse(end["dateTime"])


class FakeGoogle:
    def __init__(self):
        self.calendars: dict[str, dict[str, dict]] = {"primary": {}}
        self.refresh_tokens: set[str] = {"google-refresh"}
        self.access_tokens: dict[str, bool] = {}  # token: still valid
        self.channels: dict[str, dict] = {}
        self.page_size = 2500
        self.requests: list[dict] = []
        self._ids = itertools.count(1)

    # Test helpers ---------------------------------------------------------------------------------

    def add_event(self, calendar: str = "primary", **event) -> dict:
        event.setdefault("id", f"ev{next(self._ids)}")
        event.setdefault("iCalUID", f"{event['id']}@google.com")
        event.setdefault("status", "confirmed")
        self.calendars[calendar][event["id"]] = event
        return event

    def expire_access_tokens(self):
        self.access_tokens = dict.fromkeys(self.access_tokens, False)

    def events(self, calendar: str = "primary") -> list[dict]:
        return [e for e in self.calendars[calendar].values() if e.get("status") != "cancelled"]

    # Routing --------------------------------------------------------------------------------------

    def handle(self, method, path, query, headers, raw):
        self.requests.append({"method": method, "path": path, "query": query, "auth": headers.get("Authorization")})
        if path == "/token":
            return self._token(raw)
        token = (headers.get("Authorization") or "").removeprefix("Bearer ")
        if not self.access_tokens.get(token):
            return 401, {"error": {"code": 401, "message": "Invalid Credentials"}}
        body = json.loads(raw) if raw else {}
        if path == "/calendar/v3/channels/stop" and method == "POST":
            return (204, None) if self.channels.pop(body.get("id"), None) else (404, {"error": {"code": 404}})
        if not path.startswith(CALENDAR_PREFIX):
            return 404, {"error": {"code": 404}}
        calendar_id, _, rest = path[len(CALENDAR_PREFIX) :].partition("/")
        events = self.calendars.get(unquote(calendar_id))
        if events is None:
            return 404, {"error": {"code": 404, "message": "Not Found"}}
        if rest == "events" and method == "GET":
            return self._list(events, query)
        if rest == "events/import" and method == "POST":
            if any(e["iCalUID"] == body.get("iCalUID") for e in events.values()):
                return 409, {"error": {"code": 409, "message": "The requested identifier already exists."}}
            event = {**body, "id": f"imp{next(self._ids)}"}
            events[event["id"]] = event
            return 200, event
        if rest == "events/watch" and method == "POST":
            channel = {
                "kind": "api#channel",
                "id": body["id"],
                "resourceId": f"res-{next(self._ids)}",
                "resourceUri": f"{self.base}{path}",
                "token": body.get("token"),
                "address": body["address"],
                "expiration": str(
                    int((datetime.now(UTC) + timedelta(seconds=int(body["params"]["ttl"]))).timestamp() * 1000)
                ),
            }
            self.channels[body["id"]] = channel
            return 200, channel
        if rest.startswith("events/"):
            event_id = unquote(rest[len("events/") :])
            event = events.get(event_id)
            if event is None:
                return 404, {"error": {"code": 404}}
            if method == "PUT":
                events[event_id] = {**body, "id": event_id, "iCalUID": event["iCalUID"]}
                return 200, events[event_id]
            if method == "DELETE":
                if event.get("status") == "cancelled":
                    return 410, {"error": {"code": 410, "message": "Resource has been deleted"}}
                event["status"] = "cancelled"
                return 204, None
        return 405, {"error": {"code": 405}}

    def _token(self, raw):
        form = {k: v[-1] for k, v in parse_qs(raw.decode()).items()}
        if form.get("grant_type") != "refresh_token" or form.get("refresh_token") not in self.refresh_tokens:
            return 400, {"error": "invalid_grant", "error_description": "Token has been expired or revoked."}
        token = f"google-access-{next(self._ids)}"
        self.access_tokens[token] = True
        return 200, {"access_token": token, "expires_in": 3599, "scope": "https://www.googleapis.com/auth/calendar"}

    def _list(self, events, query):
        if "iCalUID" in query:
            found = [e for e in events.values() if e["iCalUID"] == query["iCalUID"]]
            if query.get("showDeleted") != "true":
                found = [e for e in found if e.get("status") != "cancelled"]
            return 200, {"kind": "calendar#events", "items": found}
        items = []
        low, high = _parse(query["timeMin"]), _parse(query["timeMax"])
        for event in events.values():
            instances = self._instances(event) if query.get("singleEvents") == "true" else [event]
            for instance in instances:
                begin, finish = _bounds(instance)
                if finish > low and begin < high:
                    items.append(instance)
        items.sort(key=lambda e: _bounds(e)[0])
        offset = int(query.get("pageToken") or 0)
        size = min(int(query.get("maxResults") or 250), self.page_size)
        page = {"kind": "calendar#events", "items": items[offset : offset + size]}
        if offset + size < len(items):
            page["nextPageToken"] = str(offset + size)
        return 200, page

    @staticmethod
    def _instances(event):
        if not event.get("recurrence"):
            return [event]
        begin, finish = _bounds(event)
        rule = rrulestr(event["recurrence"][0].removeprefix("RRULE:"), dtstart=begin)
        return [
            {
                **{k: v for k, v in event.items() if k != "recurrence"},
                "id": f"{event['id']}_{moment:%Y%m%dT%H%M%SZ}",
                "recurringEventId": event["id"],
                "originalStartTime": {"dateTime": moment.isoformat()},
                "start": {"dateTime": moment.isoformat()},
                "end": {"dateTime": (moment + (finish - begin)).isoformat()},
            }
            for moment in rule
        ]


@pytest.fixture
def google_api(settings):
    """A fake Google the adapters are pointed at; the connection's refresh token is "google-refresh"."""
    fake = FakeGoogle()
    server = serve(fake)
    settings.GOOGLE_API_BASE = fake.base
    settings.GOOGLE_OAUTH_TOKEN_URL = f"{fake.base}/token"
    settings.GOOGLE_OAUTH_CLIENT_ID = "client-id"
    settings.GOOGLE_OAUTH_CLIENT_SECRET = "client-secret"
    yield fake
    stop(server)
