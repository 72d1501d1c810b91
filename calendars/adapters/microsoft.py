"""Microsoft 365 (Microsoft Graph), two-way: busy instances in, our bookings out, subscriptions.

`connection.account` is a calendar id, or blank for the user's default calendar. Graph assigns its own
iCalUId to events we create, so our UID is stored in a single-value extended property and read back
with the calendar view: an event we wrote reports our UID, and the own-event filter recognises it.
"""

from datetime import UTC, datetime, timedelta
from urllib.parse import quote

from django.conf import settings

from calendars.adapters import AdapterError, ExportEvent, ReadResult
from calendars.adapters.oauth import OAuthCalendarAdapter, PushWatch, all_day_bounds, json_body, spans_within, utc_stamp
from calendars.ical_import import BusySpan, uid_key

# Our booking UID on events we write (a named string property in our own property set).
UID_PROPERTY = "String {8a0b3c0e-5f7d-4c39-9a57-1f3c6d0b6e21} Name BookingUid"
PAGE_SIZE = 200
MAX_PAGES = 100
UTC_PREFERENCE = 'outlook.timezone="UTC"'


class MicrosoftAdapter(OAuthCalendarAdapter):
    kind = "microsoft"
    service_name = "Microsoft 365"

    def token_url(self) -> str:
        return settings.MICROSOFT_OAUTH_TOKEN_URL

    def token_form(self) -> dict:
        return {
            "client_id": settings.MICROSOFT_OAUTH_CLIENT_ID,
            "client_secret": settings.MICROSOFT_OAUTH_CLIENT_SECRET,
            "scope": "https://graph.microsoft.com/Calendars.ReadWrite offline_access",
        }

    def _calendar_path(self) -> str:
        account = self.connection.account.strip()
        return f"me/calendars/{quote(account, safe='')}" if account else "me/calendar"

    # Reading --------------------------------------------------------------------------------------

    def read_busy(self, *, start: datetime, end: datetime) -> ReadResult:
        zone = self.connection.provider.timezone
        base = settings.MICROSOFT_GRAPH_BASE
        params = {
            "startDateTime": utc_stamp(start),
            "endDateTime": utc_stamp(end),
            "$top": PAGE_SIZE,
            "$select": "id,iCalUId,subject,start,end,isAllDay,isCancelled,showAs",
            "$expand": f"singleValueExtendedProperties($filter=id eq '{UID_PROPERTY}')",
        }

        def next_page(body, url, params):
            next_link = body.get("@odata.nextLink")
            if not next_link:
                return None
            # The next link carries the query; our token goes only to Graph itself.
            if not next_link.startswith(f"{base}/"):
                raise AdapterError("Microsoft 365 sent a next page outside Microsoft Graph.", retryable=False)
            return next_link, None

        items = self.read_pages(
            f"{base}/{self._calendar_path()}/calendarView",
            params=params,
            items_key="value",
            next_page=next_page,
            headers={"Prefer": UTC_PREFERENCE},
            max_pages=MAX_PAGES,
        )
        return ReadResult(spans=spans_within(items, to_span=lambda item: _busy_span(item, zone), start=start, end=end))

    # Writing --------------------------------------------------------------------------------------

    def _find(self, uid: str) -> str | None:
        """The id of our event with this UID, looked up by its extended property."""
        escaped = uid.replace("'", "''")
        response = self.call(
            "GET",
            f"{settings.MICROSOFT_GRAPH_BASE}/me/events",
            params={
                "$filter": (
                    f"singleValueExtendedProperties/Any(ep: ep/id eq '{UID_PROPERTY}' and ep/value eq '{escaped}')"
                ),
                "$select": "id",
            },
        )
        if response.status_code != 200:
            raise self.fail(response, "looking up an event")
        items = json_body(response).get("value") or []
        return items[0]["id"] if items else None

    def write_event(self, *, event: ExportEvent) -> None:
        body = {
            "subject": event.summary,
            "body": {"contentType": "text", "content": event.description},
            "start": {"dateTime": event.start.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S"), "timeZone": "UTC"},
            "end": {"dateTime": event.end.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S"), "timeZone": "UTC"},
            "showAs": "busy",
            "isReminderOn": False,
            "singleValueExtendedProperties": [{"id": UID_PROPERTY, "value": event.uid}],
        }
        existing = self._find(event.uid)
        base = settings.MICROSOFT_GRAPH_BASE
        if existing is None:
            response = self.call("POST", f"{base}/{self._calendar_path()}/events", json=body)
        else:
            response = self.call("PATCH", f"{base}/me/events/{quote(existing, safe='')}", json=body)
        if response.status_code not in (200, 201):
            raise self.fail(response, "writing an event")

    def delete_event(self, *, uid: str) -> None:
        existing = self._find(uid)
        if existing is None:
            return
        response = self.call("DELETE", f"{settings.MICROSOFT_GRAPH_BASE}/me/events/{quote(existing, safe='')}")
        if response.status_code not in (200, 204, 404):
            raise self.fail(response, "deleting an event")

    # Push -----------------------------------------------------------------------------------------

    def watch(self, *, channel_id: str, secret: str, address: str, ttl_seconds: int) -> PushWatch:
        """POST /subscriptions on the calendar's events; Graph first checks `address` with a
        validationToken, then sends `secret` as clientState with every notification."""
        expires_at = _now() + _seconds(ttl_seconds)
        response = self.call(
            "POST",
            f"{settings.MICROSOFT_GRAPH_BASE}/subscriptions",
            json={
                "changeType": "created,updated,deleted",
                "notificationUrl": address,
                "resource": f"{self._calendar_path()}/events",
                "expirationDateTime": _graph_stamp(expires_at),
                "clientState": secret,
            },
        )
        if response.status_code not in (200, 201):
            raise self.fail(response, "starting push notifications")
        body = json_body(response)
        return PushWatch(
            expires_at=_parse_stamp(body.get("expirationDateTime")) or expires_at,
            subscription_id=str(body.get("id") or ""),
        )

    def renew_watch(self, *, subscription_id: str, ttl_seconds: int) -> datetime | None:
        """PATCH the subscription's expirationDateTime; the new expiry Graph accepted, or None when
        Graph no longer knows the subscription (it expired or was removed: make a new one)."""
        expires_at = _now() + _seconds(ttl_seconds)
        response = self.call(
            "PATCH",
            f"{settings.MICROSOFT_GRAPH_BASE}/subscriptions/{quote(subscription_id, safe='')}",
            json={"expirationDateTime": _graph_stamp(expires_at)},
        )
        if response.status_code == 404:
            return None
        if response.status_code != 200:
            raise self.fail(response, "renewing push notifications")
        return _parse_stamp(json_body(response).get("expirationDateTime")) or expires_at

    def unwatch(self, *, channel_id: str = "", resource_id: str = "", subscription_id: str) -> None:
        response = self.call(
            "DELETE", f"{settings.MICROSOFT_GRAPH_BASE}/subscriptions/{quote(subscription_id, safe='')}"
        )
        if response.status_code not in (200, 204, 404):
            raise self.fail(response, "stopping push notifications")


def _busy_span(item: dict, zone) -> BusySpan | None:
    if item.get("isCancelled") or item.get("showAs") == "free":
        return None
    first, last = (
        _parse_stamp((item.get("start") or {}).get("dateTime")),
        _parse_stamp((item.get("end") or {}).get("dateTime")),
    )
    if first is None or last is None:
        return None
    if item.get("isAllDay"):
        # Graph gives an all-day event as midnight to midnight; the days are the provider's.
        begin, finish = all_day_bounds(first.date(), last.date(), zone)
    else:
        begin, finish = first, last
    if finish <= begin:
        return None
    ours = [p.get("value") for p in item.get("singleValueExtendedProperties") or [] if p.get("id") == UID_PROPERTY]
    uid = (ours[0] if ours and ours[0] else None) or item.get("iCalUId") or item.get("id") or ""
    return BusySpan(uid_key(uid, begin), begin, finish, str(item.get("subject") or ""))


def _parse_stamp(value) -> datetime | None:
    """Graph's dateTime ("2030-01-07T09:00:00.0000000", in the zone we asked for: UTC) or an ISO
    stamp with an offset, as an aware UTC datetime."""
    if not value:
        return None
    text = str(value).replace("Z", "+00:00")
    main, _, rest = text.partition(".")
    offset = ""
    for sign in ("+", "-"):
        if sign in rest:
            offset = sign + rest.split(sign, 1)[1]
    try:
        parsed = datetime.fromisoformat(main + offset)
    except ValueError:
        return None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def _graph_stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.0000000Z")


def _now() -> datetime:
    return datetime.now(UTC)


def _seconds(value: int) -> timedelta:
    return timedelta(seconds=value)
