"""Turning slots into what a week page shows: days in the viewer's zone, times, links."""

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from django.utils import timezone

from scheduling.availability import Slot, local_dates_window
from scheduling.forms_public import utc_iso


@dataclass(frozen=True)
class SlotLink:
    start: str  # UTC ISO, the value links and forms carry
    label: str  # "22:00", or "01:30 EST" on a day whose offset changes
    spoken: str  # "Saturday 13 March 2027, 23:00 JST"
    url: str


@dataclass
class Day:
    day: date
    heading: str  # "Sat 13 Mar"
    spoken: str  # "Saturday 13 March"
    is_today: bool
    is_past: bool
    slots: list[SlotLink] = field(default_factory=list)


@dataclass(frozen=True)
class Week:
    monday: date
    title: str  # "8 – 14 March 2027"
    days: list[Day]
    slot_count: int
    prev_monday: date | None
    next_monday: date | None


def monday_of(day: date) -> date:
    return day - timedelta(days=day.weekday())


def parse_week(raw: str | None) -> date | None:
    try:
        return monday_of(date.fromisoformat((raw or "").strip()))
    except ValueError:
        return None


def week_bounds(*, now: datetime, tz: ZoneInfo, horizon_days: int) -> tuple[date, date]:
    """The first and last Mondays a visitor may page between: this week to the horizon's week."""
    this_monday = monday_of(now.astimezone(tz).date())
    last_monday = monday_of((now + timedelta(days=horizon_days)).astimezone(tz).date())
    return this_monday, max(this_monday, last_monday)


def week_end_instant(monday: date, tz: ZoneInfo) -> datetime:
    return local_dates_window(monday, monday + timedelta(days=6), tz)[1]


def _title(monday: date) -> str:
    sunday = monday + timedelta(days=6)
    if monday.month == sunday.month:
        return f"{monday.day} – {sunday.day} {sunday:%B %Y}"
    if monday.year == sunday.year:
        return f"{monday.day} {monday:%B} – {sunday.day} {sunday:%B %Y}"
    return f"{monday.day} {monday:%B %Y} – {sunday.day} {sunday:%B %Y}"


def build_week(
    *,
    slots: Sequence[Slot],
    monday: date,
    tz: ZoneInfo,
    bounds: tuple[date, date],
    url_for: Callable[[str], str],
) -> Week:
    today = timezone.now().astimezone(tz).date()
    days = [
        Day(
            day=d,
            heading=f"{d:%a} {d.day} {d:%b}",
            spoken=f"{d:%A} {d.day} {d:%B}",
            is_today=d == today,
            is_past=d < today,
        )
        for d in (monday + timedelta(days=i) for i in range(7))
    ]
    by_date = {d.day: d for d in days}
    for slot in slots:
        local = slot.start.astimezone(tz)
        day = by_date.get(local.date())
        if day is None:
            continue
        iso = utc_iso(slot.start)
        day.slots.append(
            SlotLink(
                start=iso,
                label=f"{local:%H:%M}",
                spoken=f"{local:%A} {local.day} {local:%B %Y}, {local:%H:%M %Z}",
                url=url_for(iso),
            )
        )
    # On a day whose UTC offset changes (DST), a bare "01:30" could mean two instants: name the zone.
    for day in days:
        if len({link.spoken.rsplit(" ", 1)[-1] for link in day.slots}) > 1:
            day.slots = [
                SlotLink(link.start, f"{link.label} {link.spoken.rsplit(' ', 1)[-1]}", link.spoken, link.url)
                for link in day.slots
            ]
    first, last = bounds
    return Week(
        monday=monday,
        title=_title(monday),
        days=days,
        slot_count=sum(len(d.slots) for d in days),
        prev_monday=monday - timedelta(days=7) if monday > first else None,
        next_monday=monday + timedelta(days=7) if monday < last else None,
    )
