"""A local Microsoft Graph (v1.0) and Microsoft identity token endpoint, answering as documented:
calendarView (series expanded to occurrences, @odata.nextLink paging, times in the zone the Prefer
header asks for: UTC), events create/patch/delete with single-value extended properties and a $filter
on them, POST/PATCH/DELETE /subscriptions, and the refresh-token grant (which rotates the refresh
token). An access token it has expired answers 401."""

import itertools
import json
import re
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, unquote, urlencode

import pytest

from tests.calendar_fakes._server import serve, stop

GRAPH = "/v1.0"
STEP = {"daily": timedelta(days=1), "weekly": timedelta(weeks=1)}


def graph_time(moment: datetime) -> dict:
    return {"dateTime": moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.0000000"), "timeZone": "UTC"}


def _parse(value: str) -> datetime:
    text = value.replace("Z", "").split(".")[0]
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


class FakeGraph:
    def __init__(self):
        self.calendars: set[str] = {"default", "work-calendar"}
        self.events: dict[str, dict] = {}
        self.refresh_tokens: set[str] = {"ms-refresh"}
        self.access_tokens: dict[str, bool] = {}
        self.subscriptions: dict[str, dict] = {}
        self.page_size = 200
        self.requests: list[dict] = []
        self._ids = itertools.count(1)

    # Test helpers ---------------------------------------------------------------------------------

    def add_event(self, *, start: datetime, end: datetime, calendar: str = "default", **fields) -> dict:
        event_id = f"AAMk{next(self._ids)}"
        event = {
            "id": event_id,
            "iCalUId": f"040000008200E00074C5B7101A82E008{event_id}",
            "subject": "",
            "isAllDay": False,
            "isCancelled": False,
            "showAs": "busy",
            "start": graph_time(start),
            "end": graph_time(end),
            "calendar": calendar,
            **fields,
        }
        self.events[event_id] = event
        return event

    def expire_access_tokens(self):
        self.access_tokens = dict.fromkeys(self.access_tokens, False)

    # Routing --------------------------------------------------------------------------------------

    def handle(self, method, path, query, headers, raw):
        self.requests.append({"method": method, "path": path, "query": query, "prefer": headers.get("Prefer")})
        if path.endswith("/oauth2/v2.0/token"):
            return self._token(raw)
        token = (headers.get("Authorization") or "").removeprefix("Bearer ")
        if not self.access_tokens.get(token):
            return 401, {"error": {"code": "InvalidAuthenticationToken", "message": "Access token has expired."}}
        body = json.loads(raw) if raw else {}
        path = unquote(path.removeprefix(GRAPH))
        if path == "/subscriptions" and method == "POST":
            subscription = {**body, "id": f"sub-{next(self._ids)}"}
            self.subscriptions[subscription["id"]] = subscription
            return 201, subscription
        if match := re.fullmatch(r"/subscriptions/([^/]+)", path):
            subscription = self.subscriptions.get(match[1])
            if subscription is None:
                return 404, {"error": {"code": "ResourceNotFound"}}
            if method == "PATCH":
                subscription.update(body)
                return 200, subscription
            if method == "DELETE":
                del self.subscriptions[match[1]]
                return 204, None
        if match := re.fullmatch(r"/me/(?:calendar|calendars/([^/]+))/(calendarView|events)", path):
            calendar = match[1] or "default"
            if calendar not in self.calendars:
                return 404, {"error": {"code": "ErrorItemNotFound", "message": "The specified object was not found."}}
            if match[2] == "calendarView" and method == "GET":
                return self._view(calendar, path, query)
            if match[2] == "events" and method == "POST":
                event = self.add_event(
                    start=_parse(body["start"]["dateTime"]), end=_parse(body["end"]["dateTime"]), calendar=calendar
                )
                event.update({k: v for k, v in body.items() if k not in ("start", "end")})
                return 201, event
        if path == "/me/events" and method == "GET":
            wanted = re.search(r"ep/id eq '([^']*)' and ep/value eq '((?:[^']|'')*)'", query.get("$filter", ""))
            found = [
                {"id": e["id"]}
                for e in self.events.values()
                if wanted
                and any(
                    p["id"] == wanted[1] and p["value"] == wanted[2].replace("''", "'")
                    for p in e.get("singleValueExtendedProperties", [])
                )
            ]
            return 200, {"value": found}
        if match := re.fullmatch(r"/me/events/([^/]+)", path):
            event = self.events.get(match[1])
            if event is None:
                return 404, {"error": {"code": "ErrorItemNotFound"}}
            if method == "PATCH":
                event.update(body)
                event["start"], event["end"] = (
                    graph_time(_parse(body["start"]["dateTime"])),
                    graph_time(_parse(body["end"]["dateTime"])),
                )
                return 200, event
            if method == "DELETE":
                del self.events[match[1]]
                return 204, None
        return 405, {"error": {"code": "MethodNotAllowed"}}

    def _token(self, raw):
        form = {k: v[-1] for k, v in parse_qs(raw.decode()).items()}
        refresh = form.get("refresh_token")
        if form.get("grant_type") != "refresh_token" or refresh not in self.refresh_tokens:
            return 400, {"error": "invalid_grant", "error_description": "AADSTS70000: The refresh token has expired."}
        self.refresh_tokens.discard(refresh)
        new_refresh = f"ms-refresh-{next(self._ids)}"
        self.refresh_tokens.add(new_refresh)
        token = f"ms-access-{next(self._ids)}"
        self.access_tokens[token] = True
        return 200, {
            "token_type": "Bearer",
            "scope": "https://graph.microsoft.com/Calendars.ReadWrite",
            "expires_in": 3599,
            "access_token": token,
            "refresh_token": new_refresh,
        }

    def _view(self, calendar, path, query):
        low, high = _parse(query["startDateTime"]), _parse(query["endDateTime"])
        items = []
        for event in self.events.values():
            if event["calendar"] != calendar:
                continue
            for occurrence in self._occurrences(event):
                begin, finish = _parse(occurrence["start"]["dateTime"]), _parse(occurrence["end"]["dateTime"])
                if finish > low and begin < high:
                    items.append({k: v for k, v in occurrence.items() if k != "calendar"})
        items.sort(key=lambda e: e["start"]["dateTime"])
        if "singleValueExtendedProperties" not in query.get("$expand", ""):
            items = [{k: v for k, v in e.items() if k != "singleValueExtendedProperties"} for e in items]
        skip = int(query.get("$skip") or 0)
        size = min(int(query.get("$top") or 10), self.page_size)
        page = {"value": items[skip : skip + size]}
        if skip + size < len(items):
            page["@odata.nextLink"] = f"{self.base}{GRAPH}{path}?" + urlencode({**query, "$skip": skip + size})
        return 200, page

    @staticmethod
    def _occurrences(event):
        recurrence = event.get("recurrence")
        if not recurrence:
            return [event]
        begin, finish = _parse(event["start"]["dateTime"]), _parse(event["end"]["dateTime"])
        step = STEP[recurrence["pattern"]["type"]] * recurrence["pattern"].get("interval", 1)
        return [
            {
                **{k: v for k, v in event.items() if k != "recurrence"},
                "id": f"{event['id']}-occ{n}",
                "type": "occurrence",
                "seriesMasterId": event["id"],
                "iCalUId": f"{event['iCalUId']}-{n}",  # Graph gives each occurrence its own iCalUId
                "start": graph_time(begin + n * step),
                "end": graph_time(finish + n * step),
            }
            for n in range(recurrence["range"]["numberOfOccurrences"])
        ]


@pytest.fixture
def microsoft_graph(settings):
    """A fake Graph the adapters are pointed at; the connection's refresh token is "ms-refresh"."""
    fake = FakeGraph()
    server = serve(fake)
    settings.MICROSOFT_GRAPH_BASE = f"{fake.base}{GRAPH}"
    settings.MICROSOFT_OAUTH_TOKEN_URL = f"{fake.base}/tenant-id/oauth2/v2.0/token"
    settings.MICROSOFT_OAUTH_CLIENT_ID = "client-id"
    settings.MICROSOFT_OAUTH_CLIENT_SECRET = "client-secret"
    yield fake
    stop(server)
