"""An iCal URL (a calendar's secret address, as Google, Outlook and Apple publish them): read only."""

from datetime import datetime, timedelta

from django.core.exceptions import ValidationError

from calendars.adapters import AdapterError, CalendarAdapter, ReadResult
from calendars.fetch import CalendarFetchError, check_url_shape, fetch_calendar
from calendars.ical_import import CalendarParseError, busy_spans

# How far the window may run past what the last full read expanded before a "not modified" is no longer
# trusted: the window moves a little every sync, and a day of it unexpanded is the most we accept.
EXPANSION_SLACK = timedelta(days=1)


class IcalUrlAdapter(CalendarAdapter):
    kind = "ical_url"

    @classmethod
    def check_settings(cls, *, url: str, account: str, credentials: dict) -> None:
        # Where the URL points is checked at each fetch, after DNS resolution (calendars.fetch).
        try:
            check_url_shape(url)
        except CalendarFetchError as exc:
            raise ValidationError({"url": str(exc)}) from exc

    def read_busy(self, *, start: datetime, end: datetime) -> ReadResult:
        connection = self.connection
        # A 304 means the file is the same, not that its recurrences were expanded as far as `end`: once
        # the window passes the last expanded one (a day later, or a longer horizon), fetch it whole.
        expanded = connection.expanded_until
        conditional = expanded is not None and end <= expanded + EXPANSION_SLACK
        try:
            fetched = fetch_calendar(
                connection.url,
                etag=connection.etag if conditional else "",
                last_modified=connection.last_modified if conditional else "",
            )
            if fetched.status == "not_modified":
                return ReadResult(spans=None)
            spans = busy_spans(fetched.body, zone=connection.provider.timezone, start=start, end=end)
        except (CalendarFetchError, CalendarParseError) as exc:
            raise AdapterError(str(exc)) from exc
        return ReadResult(spans=spans, state={"etag": fetched.etag, "last_modified": fetched.last_modified})
