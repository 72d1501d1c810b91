"""What the Google and Microsoft adapters share: an OAuth2 refresh-token grant and JSON calls that
refresh the access token once on a 401.

Tokens live only in `connection.credentials` ({refresh_token, access_token, expires_at}) and in the
Authorization header; no message, exception or log line carries one. A refreshed token is handed back
through `changed_credentials` for the service to store.
"""

import time
from dataclasses import dataclass
from datetime import UTC, date, datetime
from datetime import time as clock
from zoneinfo import ZoneInfo

import requests
from django.conf import settings
from django.core.exceptions import ValidationError

from calendars.adapters import AdapterError, CalendarAdapter
from calendars.ical_import import BusySpan

# Refresh a little before the stated expiry, so a token does not die between the check and the call.
EXPIRY_MARGIN_SECONDS = 60


class OAuthCalendarAdapter(CalendarAdapter):
    can_export = True
    service_name = ""

    # Subclasses: where and with what the refresh-token grant is made.
    def token_url(self) -> str:
        raise NotImplementedError

    def token_form(self) -> dict:
        raise NotImplementedError

    @classmethod
    def check_settings(cls, *, url: str, account: str, credentials: dict) -> None:
        if not isinstance(credentials, dict) or not str(credentials.get("refresh_token") or "").strip():
            raise ValidationError({"credentials": f"A {cls.service_name} connection needs a refresh_token."})

    def __init__(self, connection):
        super().__init__(connection)
        self.credentials = dict(connection.credentials or {})

    # Tokens ---------------------------------------------------------------------------------------

    def _access_token(self) -> str:
        token = self.credentials.get("access_token")
        expires_at = self.credentials.get("expires_at") or 0
        if not token or float(expires_at) <= time.time() + EXPIRY_MARGIN_SECONDS:
            return self._refresh()
        return token

    def _refresh(self) -> str:
        refresh_token = self.credentials.get("refresh_token")
        form = {**self.token_form(), "grant_type": "refresh_token", "refresh_token": refresh_token}
        try:
            response = requests.post(self.token_url(), data=form, timeout=_timeout())
        except requests.RequestException as exc:
            raise AdapterError(f"{self.service_name} could not be reached ({type(exc).__name__}).") from None
        body = _json(response)
        if response.status_code != 200 or not body.get("access_token"):
            error = str(body.get("error") or "")
            if error in {"invalid_grant", "invalid_client", "unauthorized_client"}:
                raise AdapterError(
                    f"{self.service_name} refused the connection's refresh token ({error}): "
                    "the calendar must be authorised again.",
                    retryable=False,
                )
            raise AdapterError(f"{self.service_name} did not issue an access token (HTTP {response.status_code}).")
        credentials = {
            **self.credentials,
            "access_token": body["access_token"],
            "expires_at": int(time.time()) + int(body.get("expires_in") or 3600),
        }
        # Microsoft rotates refresh tokens; Google keeps the old one valid and sends none.
        if body.get("refresh_token"):
            credentials["refresh_token"] = body["refresh_token"]
        self.credentials = credentials
        self.changed_credentials = credentials
        return credentials["access_token"]

    # Calls ----------------------------------------------------------------------------------------

    def call(self, method: str, url: str, *, params=None, json=None, headers=None) -> requests.Response:
        """One API call; a 401 refreshes the token and tries once more. Answers other than 401 come
        back as they are, for the caller to read (a 404 on delete is fine, say)."""
        for attempt in (1, 2):
            token = self._access_token() if attempt == 1 else self._refresh()
            try:
                response = requests.request(
                    method,
                    url,
                    params=params,
                    json=json,
                    headers={**(headers or {}), "Authorization": f"Bearer {token}", "Accept": "application/json"},
                    timeout=_timeout(),
                    allow_redirects=False,
                )
            except requests.RequestException as exc:
                raise AdapterError(f"{self.service_name} could not be reached ({type(exc).__name__}).") from None
            if response.status_code != 401:
                return response
        raise AdapterError(
            f"{self.service_name} refused the connection's access even after a token refresh (HTTP 401).",
            retryable=False,
        )

    def read_pages(self, url: str, *, params: dict, items_key: str, next_page, headers=None, max_pages: int):
        """The items of every page of a list call, page by page: `next_page(body, url, params)` gives
        the next page's (url, params), or None after the last. Raises AdapterError."""
        for _ in range(max_pages):
            response = self.call("GET", url, params=params, headers=headers)
            if response.status_code != 200:
                raise self.fail(response, "reading events")
            body = _json(response)
            yield from body.get(items_key) or []
            following = next_page(body, url, params)
            if following is None:
                return
            url, params = following
        raise AdapterError(f"{self.service_name} returned too many pages of events.")

    def fail(self, response: requests.Response, doing: str) -> AdapterError:
        """The error for an answer we did not expect; only the status, never a body (it may echo a
        token or a calendar's private details)."""
        if response.status_code == 404:
            return AdapterError(
                f"{self.service_name}: the calendar was not found while {doing} (HTTP 404).", retryable=False
            )
        if response.status_code == 403:
            return AdapterError(f"{self.service_name} refused {doing} (HTTP 403).", retryable=False)
        return AdapterError(f"{self.service_name} failed {doing} (HTTP {response.status_code}).")


def _timeout() -> float:
    return settings.CALENDAR_FETCH_TIMEOUT_SECONDS


def _json(response: requests.Response) -> dict:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def json_body(response: requests.Response) -> dict:
    return _json(response)


@dataclass(frozen=True)
class PushWatch:
    """A channel (Google) or subscription (Microsoft) the vendor created: what the service stores."""

    expires_at: datetime
    resource_id: str = ""
    subscription_id: str = ""


def utc_stamp(moment: datetime) -> str:
    """RFC 3339 in UTC, as both APIs take it."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def spans_within(items, *, to_span, start: datetime, end: datetime) -> list[BusySpan]:
    """The busy spans of `items` meeting [start, end), one per occurrence key, sorted by start."""
    spans: dict[str, BusySpan] = {}
    for item in items:
        span = to_span(item)
        if span is not None and span.end > start and span.start < end:
            spans[span.uid_key] = span
    return sorted(spans.values(), key=lambda s: (s.start, s.uid_key))


def all_day_bounds(first: date, last: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """An all-day event covers whole days in the provider's zone (the calendar shows it that way)."""
    return (
        datetime.combine(first, clock(), tzinfo=zone).astimezone(UTC),
        datetime.combine(last, clock(), tzinfo=zone).astimezone(UTC),
    )
