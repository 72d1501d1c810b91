"""Turning slots into what a week page shows: days in the viewer's zone, times, links."""

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from urllib.parse import parse_qsl
from zoneinfo import ZoneInfo

from django.utils import dateformat, timezone
from django.utils.translation import gettext as _

from scheduling.availability import Slot, local_dates_window
from scheduling.forms_public import utc_iso
from scheduling.views.present import clock, day_text


@dataclass(frozen=True)
class SlotLink:
    start: str  # UTC ISO, the value links and forms carry
    label: str  # "22:00" (or "10:00 PM"), or "01:30 EST" on a day whose offset changes
    spoken: str  # "Saturday 13 March 2027, 23:00 JST"
    url: str | None  # None for the booking's own time when rescheduling: marked, not offered
    zone: str = ""  # the zone's abbreviation at this instant ("JST")

    @property
    def is_current(self) -> bool:
        return self.url is None


@dataclass
class Day:
    day: date
    heading: str  # "Sat 13 Mar"
    spoken: str  # "Saturday 13 March"
    is_today: bool
    is_past: bool
    is_beyond: bool = False  # after the booking horizon: not bookable yet, and the page says so
    slots: list[SlotLink] = field(default_factory=list)


@dataclass(frozen=True)
class Week:
    monday: date
    title: str  # "8 – 14 March 2027"
    days: list[Day]
    slot_count: int
    prev_monday: date | None
    next_monday: date | None
    horizon_day: date | None = None  # the last bookable day, when it falls in this week or before

    @property
    def horizon_text(self) -> str:
        return day_text(self.horizon_day, long=True) if self.horizon_day else ""


def monday_of(day: date) -> date:
    return day - timedelta(days=day.weekday())


def parse_day(raw: str | None) -> date | None:
    try:
        return date.fromisoformat((raw or "").strip())
    except ValueError:
        return None


def parse_week(raw: str | None) -> date | None:
    day = parse_day(raw)
    return monday_of(day) if day else None


def requested_monday(query, *, bounds: tuple[date, date]) -> tuple[date | None, date | None]:
    """The week a visitor asked for: `?date=` (the jump-to-a-date input) or `?week=`, kept within
    `bounds`. Returns that Monday (None when nothing valid was asked for) and the asked-for day."""
    asked = parse_day(query.get("date")) or parse_day(query.get("week"))
    if asked is None:
        return None, None
    return min(max(monday_of(asked), bounds[0]), bounds[1]), asked


def horizon_day(*, now: datetime, tz: ZoneInfo, horizon_days: int) -> date:
    """The last day (in the viewer's zone) with bookable times: `horizon_days` from now."""
    return (now + timedelta(days=horizon_days)).astimezone(tz).date()


def week_bounds(*, now: datetime, tz: ZoneInfo, horizon_days: int) -> tuple[date, date]:
    """The first and last Mondays a visitor may page between: this week to the horizon's week."""
    this_monday = monday_of(now.astimezone(tz).date())
    last_monday = monday_of((now + timedelta(days=horizon_days)).astimezone(tz).date())
    return this_monday, max(this_monday, last_monday)


def week_end_instant(monday: date, tz: ZoneInfo) -> datetime:
    return local_dates_window(monday, monday + timedelta(days=6), tz)[1]


def week_title(monday: date) -> str:
    """ "8 – 14 March 2027", in the page language (the month's name translated)."""
    sunday = monday + timedelta(days=6)
    if monday.month == sunday.month:
        return f"{monday.day} – {sunday.day} {dateformat.format(sunday, 'F Y')}"
    if monday.year == sunday.year:
        return f"{monday.day} {dateformat.format(monday, 'F')} – {sunday.day} {dateformat.format(sunday, 'F Y')}"
    return f"{monday.day} {dateformat.format(monday, 'F Y')} – {sunday.day} {dateformat.format(sunday, 'F Y')}"


def build_week(
    *,
    slots: Sequence[Slot],
    monday: date,
    tz: ZoneInfo,
    bounds: tuple[date, date],
    url_for: Callable[[str], str],
    last_day: date | None = None,
    current: datetime | None = None,
) -> Week:
    """`last_day`: the horizon's last bookable day (later days say so); `current`: the booking being
    moved, whose time is marked in its day but not offered."""
    today = timezone.now().astimezone(tz).date()
    days = [
        Day(
            day=d,
            heading=day_text(d, year=False),
            spoken=day_text(d, long=True, year=False),
            is_today=d == today,
            is_past=d < today,
            is_beyond=last_day is not None and d > last_day,
        )
        for d in (monday + timedelta(days=i) for i in range(7))
    ]
    by_date = {d.day: d for d in days}
    starts = [(slot.start, url_for) for slot in slots]
    if current is not None:
        starts = sorted([*starts, (current, None)], key=lambda pair: pair[0])
    for start, link_for in starts:
        local = start.astimezone(tz)
        day = by_date.get(local.date())
        if day is None:
            continue
        iso = utc_iso(start)
        zone = f"{local:%Z}"
        day.slots.append(
            SlotLink(
                start=iso,
                label=clock(local),
                spoken=f"{day_text(local.date(), long=True)}, {clock(local)} {zone}",
                url=link_for(iso) if link_for else None,
                zone=zone,
            )
        )
    # On a day whose UTC offset changes (DST), a bare "01:30" could mean two instants: name the zone.
    for day in days:
        if len({link.zone for link in day.slots}) > 1:
            day.slots = [
                SlotLink(link.start, f"{link.label} {link.zone}", link.spoken, link.url, link.zone)
                for link in day.slots
            ]
    first, last = bounds
    return Week(
        monday=monday,
        title=week_title(monday),
        horizon_day=last_day if last_day is not None and last_day <= monday + timedelta(days=6) else None,
        days=days,
        slot_count=sum(1 for d in days for link in d.slots if not link.is_current),
        prev_monday=monday - timedelta(days=7) if monday > first else None,
        next_monday=monday + timedelta(days=7) if monday < last else None,
    )


def jump_context(*, asked, monday, bounds, last_day, page_url: str) -> dict:
    """The jump-to-a-date form's values, and what to say when the date asked for cannot be shown."""
    asked_text = day_text(asked, long=True) if asked else ""
    if asked is not None and asked > last_day:
        asked_note = _("%(day)s is beyond the booking horizon: bookings open up to %(last)s.") % {
            "day": asked_text,
            "last": day_text(last_day, long=True),
        }
    elif asked is not None and monday_of(asked) < bounds[0]:
        asked_note = _("%(day)s has passed; here is this week.") % {"day": asked_text}
    else:
        asked_note = ""
    return {
        "jump_form_url": page_url.split("?", 1)[0],
        "jump_params": parse_qsl(page_url.split("?", 1)[1]) if "?" in page_url else [],
        "jump_value": (asked if asked and bounds[0] <= monday_of(asked) <= bounds[1] else monday).isoformat(),
        "jump_min": bounds[0].isoformat(),
        "jump_max": last_day.isoformat(),
        "asked_note": asked_note,
    }
