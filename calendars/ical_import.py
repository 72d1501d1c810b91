"""An iCalendar file as the busy spans a calendar app would show: pure, no database.

Recurrences (RRULE, RDATE, EXDATE, instances moved through RECURRENCE-ID) are expanded by
recurring-ical-events; VTIMEZONE blocks are read by icalendar. What counts as busy follows RFC 5545:
TRANSP:TRANSPARENT and STATUS:CANCELLED (a whole series or one instance) are free.
"""

import hashlib
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import icalendar
import recurring_ical_events

UID_MAX = 512


class CalendarParseError(Exception):
    """The file is not an iCalendar we can read; the message is safe to show to staff."""


@dataclass(frozen=True)
class BusySpan:
    uid_key: str  # the event's UID and this instance's start: one key per occurrence
    start: datetime  # UTC
    end: datetime  # UTC
    summary: str = ""


def busy_spans(body: bytes, *, zone: ZoneInfo, start: datetime, end: datetime) -> list[BusySpan]:
    """The busy instances meeting [start, end) (aware datetimes), in UTC, sorted by start.

    All-day (DATE) and floating events are read in `zone`, the provider's zone.
    """
    try:
        calendar = icalendar.Calendar.from_ical(body)
    except Exception as exc:  # icalendar raises ValueError and friends on malformed input
        raise CalendarParseError("The file is not a valid iCalendar.") from exc
    if calendar.name != "VCALENDAR":
        raise CalendarParseError("The file is not a valid iCalendar.")
    # Widened by a day so that floating and all-day instances near the edges are not lost before
    # they are placed in the provider's zone; the exact window is applied below, in UTC.
    try:
        instances = recurring_ical_events.of(calendar, components=["VEVENT"]).between(
            start - timedelta(days=1), end + timedelta(days=1)
        )
    except Exception as exc:
        raise CalendarParseError(f"The calendar's recurrences could not be read ({type(exc).__name__}).") from exc
    spans: dict[str, BusySpan] = {}
    for event in instances:
        if str(event.get("TRANSP", "OPAQUE")).upper() == "TRANSPARENT":
            continue
        if str(event.get("STATUS", "")).upper() == "CANCELLED":
            continue
        span = _span(event, zone)
        if span is None or span[1] <= start or span[0] >= end:
            continue
        key = uid_key(str(event.get("UID", "")), span[0])
        summary = str(event.get("SUMMARY", ""))
        spans[key] = BusySpan(key, span[0], span[1], summary)
    return sorted(spans.values(), key=lambda s: (s.start, s.uid_key))


def _span(event, zone: ZoneInfo) -> tuple[datetime, datetime] | None:
    dtstart = event.get("DTSTART")
    if dtstart is None:
        return None
    first = dtstart.dt
    if "DTEND" in event:
        last = event["DTEND"].dt
    elif "DURATION" in event:
        last = first + event["DURATION"].dt
    elif isinstance(first, datetime):
        return None  # RFC 5545: a timed event without an end takes no time
    else:
        last = first + timedelta(days=1)
    begin, finish = _utc(first, zone), _utc(last, zone)
    return (begin, finish) if finish > begin else None


def _utc(value: date | datetime, zone: ZoneInfo) -> datetime:
    if not isinstance(value, datetime):
        value = datetime.combine(value, time.min)
    if value.tzinfo is None:
        value = value.replace(tzinfo=zone)
    return value.astimezone(UTC)


def uid_key(uid: str, start: datetime) -> str:
    """One key per occurrence, for every adapter: the event's UID and the instance's UTC start. A UID
    too long for the column (ImportedEvent.uid) is replaced by its hash, so the key stays stable."""
    stamp = f"{start.astimezone(UTC):%Y%m%dT%H%M%SZ}"
    key = f"{uid}|{stamp}"
    if len(key) > UID_MAX:
        key = f"sha256:{hashlib.sha256(uid.encode()).hexdigest()}|{stamp}"
    return key
