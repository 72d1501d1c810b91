"""How the console shows instants and statuses: always in a named zone, never bare UTC."""

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from django.utils.html import format_html
from django.utils.safestring import SafeString

from scheduling.formatting import as_zone as zone
from scheduling.formatting import local_time
from scheduling.models import Booking, BookingStatus

# (text, background): dark text on a light fill keeps every badge readable; the label says it too.
STATUS_COLOURS = {
    BookingStatus.PENDING: ("#5c4400", "#ffe8a3"),
    BookingStatus.CONFIRMED: ("#0b4f1c", "#c9f0d3"),
    BookingStatus.COMPLETED: ("#123e6b", "#cfe3fa"),
    BookingStatus.CANCELLED: ("#444", "#e4e4e4"),
    BookingStatus.NO_SHOW: ("#6b1010", "#f7cfcf"),
}


def status_badge(booking: Booking) -> SafeString:
    colour, background = STATUS_COLOURS.get(booking.status, ("#000", "#eee"))
    return format_html(
        '<span class="status-badge status-{}" style="color:{};background:{};padding:2px 8px;border-radius:10px;'
        'font-weight:600;white-space:nowrap">{}</span>',
        booking.status,
        colour,
        background,
        booking.get_status_display(),
    )


def clock(value: datetime, tz: ZoneInfo | str) -> str:
    """Wall-clock time with the zone's abbreviation, e.g. "09:00 EDT"."""
    return value.astimezone(zone(tz)).strftime("%H:%M %Z")


def zone_abbreviation(day: date, tz: ZoneInfo | str) -> str:
    """The zone's abbreviation at noon on a local day, e.g. "EDT"."""
    return datetime.combine(day, time(12), tzinfo=zone(tz)).strftime("%Z")


def local_span(start: datetime, end: datetime, tz: ZoneInfo | str) -> str:
    """e.g. "Mon 15 Mar 2027, 09:00–09:30 EDT (America/New_York)"; both dates when it crosses midnight."""
    tz = zone(tz)
    first, last = start.astimezone(tz), end.astimezone(tz)
    if first.date() != last.date():
        return f"{local_time(start, tz)} – {local_time(end, tz)}"
    if first.tzname() != last.tzname():  # a DST change inside the span
        return f"{first:%a %d %b %Y, %H:%M %Z}–{last:%H:%M %Z} ({tz.key})"
    return f"{first:%a %d %b %Y, %H:%M}–{last:%H:%M %Z} ({tz.key})"


def utc_span(start: datetime, end: datetime) -> str:
    return local_span(start, end, ZoneInfo("UTC"))


def booking_label(booking: Booking) -> str:
    """What a person reads for a booking in titles and messages: reference and local start."""
    return f"{booking.reference} · {local_time(booking.start_at, booking.provider_timezone)}"


def time_left(until: datetime, now: datetime) -> str:
    """How long until `until`, as a person says it: "2 h 05 min left", "12 min left", "expired"."""
    seconds = int((until - now).total_seconds())
    if seconds <= 0:
        return "expired"
    minutes = seconds // 60
    if minutes < 1:
        return "under a minute left"
    hours, minutes = divmod(minutes, 60)
    if hours >= 48:
        return f"{hours // 24} days left"
    return f"{hours} h {minutes:02d} min left" if hours else f"{minutes} min left"
