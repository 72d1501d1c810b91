"""Google Calendar (API v3), two-way: busy instances in, our bookings out, push channels.

`connection.account` is the calendar id ("primary" or an id from calendarList). Bookings are written
with events.import, which keeps our iCalUID, so import recognises them like any other calendar's copy.
"""

from datetime import UTC, date, datetime
from urllib.parse import quote

from django.conf import settings

from calendars.adapters import ExportEvent, ReadResult
from calendars.adapters.oauth import OAuthCalendarAdapter, PushWatch, all_day_bounds, json_body, spans_within, utc_stamp
from calendars.ical_import import BusySpan, uid_key

PAGE_SIZE = 2500  # the largest maxResults events.list accepts
MAX_PAGES = 100


class GoogleAdapter(OAuthCalendarAdapter):
    kind = "google"
    service_name = "Google Calendar"

    def token_url(self) -> str:
        return settings.GOOGLE_OAUTH_TOKEN_URL

    def token_form(self) -> dict:
        return {"client_id": settings.GOOGLE_OAUTH_CLIENT_ID, "client_secret": settings.GOOGLE_OAUTH_CLIENT_SECRET}

    def _calendar_url(self, suffix: str = "") -> str:
        calendar_id = quote(self.connection.account or "primary", safe="")
        return f"{settings.GOOGLE_API_BASE}/calendar/v3/calendars/{calendar_id}{suffix}"

    # Reading --------------------------------------------------------------------------------------

    def read_busy(self, *, start: datetime, end: datetime) -> ReadResult:
        zone = self.connection.provider.timezone
        params = {
            "singleEvents": "true",  # recurring series come back as their instances
            "timeMin": utc_stamp(start),
            "timeMax": utc_stamp(end),
            "maxResults": PAGE_SIZE,
            "orderBy": "startTime",
        }

        def next_page(body, url, params):
            token = body.get("nextPageToken")
            return (url, {**params, "pageToken": token}) if token else None

        items = self.read_pages(
            self._calendar_url("/events"), params=params, items_key="items", next_page=next_page, max_pages=MAX_PAGES
        )
        return ReadResult(spans=spans_within(items, to_span=lambda item: _busy_span(item, zone), start=start, end=end))

    # Writing --------------------------------------------------------------------------------------

    def _find(self, uid: str) -> dict | None:
        """Our event with this iCalUID, deleted ones included: a cancelled booking that comes back
        (or an export retried after a delete) revives the same event instead of a duplicate."""
        response = self.call(
            "GET", self._calendar_url("/events"), params={"iCalUID": uid, "showDeleted": "true", "maxResults": 5}
        )
        if response.status_code != 200:
            raise self.fail(response, "looking up an event")
        items = [item for item in json_body(response).get("items") or [] if not item.get("recurringEventId")]
        return items[0] if items else None

    def write_event(self, *, event: ExportEvent) -> None:
        body = {
            "iCalUID": event.uid,
            "summary": event.summary,
            "description": event.description,
            "start": {"dateTime": utc_stamp(event.start), "timeZone": "UTC"},
            "end": {"dateTime": utc_stamp(event.end), "timeZone": "UTC"},
            "status": "confirmed",
            "transparency": "opaque",
            "sequence": event.sequence,
        }
        existing = self._find(event.uid)
        if existing is None:
            response = self.call("POST", self._calendar_url("/events/import"), json=body)
        else:
            response = self.call("PUT", self._calendar_url(f"/events/{quote(existing['id'], safe='')}"), json=body)
        if response.status_code not in (200, 201):
            raise self.fail(response, "writing an event")

    def delete_event(self, *, uid: str) -> None:
        existing = self._find(uid)
        if existing is None or existing.get("status") == "cancelled":
            return
        response = self.call("DELETE", self._calendar_url(f"/events/{quote(existing['id'], safe='')}"))
        # 404 and 410 (already deleted) mean what we wanted.
        if response.status_code not in (200, 204, 404, 410):
            raise self.fail(response, "deleting an event")

    # Push -----------------------------------------------------------------------------------------

    def watch(self, *, channel_id: str, secret: str, address: str, ttl_seconds: int) -> PushWatch:
        """events.watch: Google calls `address` with our channel id and `secret` as the channel token."""
        response = self.call(
            "POST",
            self._calendar_url("/events/watch"),
            json={
                "id": channel_id,
                "type": "web_hook",
                "address": address,
                "token": secret,
                "params": {"ttl": str(ttl_seconds)},
            },
        )
        if response.status_code != 200:
            raise self.fail(response, "starting push notifications")
        body = json_body(response)
        expires_at = datetime.fromtimestamp(int(body.get("expiration") or 0) / 1000, tz=UTC)
        return PushWatch(expires_at=expires_at, resource_id=str(body.get("resourceId") or ""))

    def unwatch(self, *, channel_id: str, resource_id: str, subscription_id: str = "") -> None:
        """channels.stop; a channel Google no longer knows is already stopped."""
        response = self.call(
            "POST",
            f"{settings.GOOGLE_API_BASE}/calendar/v3/channels/stop",
            json={"id": channel_id, "resourceId": resource_id},
        )
        if response.status_code not in (200, 204, 404):
            raise self.fail(response, "stopping push notifications")


def _busy_span(item: dict, zone) -> BusySpan | None:
    if item.get("status") == "cancelled" or item.get("transparency") == "transparent":
        return None
    start, end = item.get("start") or {}, item.get("end") or {}
    if "dateTime" in start and "dateTime" in end:
        begin = datetime.fromisoformat(start["dateTime"]).astimezone(UTC)
        finish = datetime.fromisoformat(end["dateTime"]).astimezone(UTC)
    elif "date" in start and "date" in end:
        begin, finish = all_day_bounds(date.fromisoformat(start["date"]), date.fromisoformat(end["date"]), zone)
    else:
        return None
    if finish <= begin:
        return None
    uid = item.get("iCalUID") or item.get("id") or ""
    return BusySpan(uid_key(uid, begin), begin, finish, str(item.get("summary") or ""))
