"""Availability rules in plain words: "Every weekday, 09:00–17:00", "Closed 1–14 Aug 2027".

Pure: takes anything with the rule's fields (kind, rrule, starts_on, ends_on, start_time, end_time) and
returns a sentence. What it cannot say falls back to the RRULE text itself, so nothing is ever hidden.
"""

from __future__ import annotations

from datetime import date, time
from typing import Protocol

WEEKDAY_CODES = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
WEEKDAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
WORKING_DAYS = frozenset(range(5))
WEEKEND = frozenset({5, 6})
ALL_DAYS = frozenset(range(7))
MIDNIGHT = time(0)
_ORDINALS = {1: "First", 2: "Second", 3: "Third", 4: "Fourth", 5: "Fifth", -1: "Last", -2: "Second-to-last"}


class RuleLike(Protocol):
    kind: str
    rrule: str
    starts_on: date
    ends_on: date | None
    start_time: time
    end_time: time


def parse_parts(rrule: str) -> dict[str, str] | None:
    """`FREQ=WEEKLY;BYDAY=MO` as {"FREQ": "WEEKLY", "BYDAY": "MO"}; None when it is not name=value pairs."""
    text = (rrule or "").strip().upper()
    if text.startswith("RRULE:"):
        text = text[6:]
    parts: dict[str, str] = {}
    for chunk in filter(None, text.split(";")):
        name, sep, value = chunk.partition("=")
        if not sep or not value or name in parts:
            return None
        parts[name] = value
    return parts


def weekdays_of(byday: str) -> frozenset[int] | None:
    """BYDAY=MO,WE as {0, 2}; None when any day carries an ordinal (1SA) or is unknown."""
    days = set()
    for code in byday.split(","):
        if code not in WEEKDAY_CODES:
            return None
        days.add(WEEKDAY_CODES.index(code))
    return frozenset(days)


def days_in_words(days: frozenset[int] | set[int]) -> str:
    """ "Every weekday", "Weekends", "Daily", "Mondays and Wednesdays", "Mondays to Thursdays"."""
    days = frozenset(days)
    if days == ALL_DAYS:
        return "Daily"
    if days == WORKING_DAYS:
        return "Every weekday"
    if days == WEEKEND:
        return "Weekends"
    ordered = sorted(days)
    names = [f"{WEEKDAY_NAMES[d]}s" for d in ordered]
    if len(ordered) >= 3 and ordered == list(range(ordered[0], ordered[-1] + 1)):
        return f"{names[0]} to {names[-1]}"
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"


def day_text(day: date) -> str:
    return f"{day.day} {day:%b %Y}"


def span_text(first: date, last: date) -> str:
    """1–14 Aug 2027; 30 Jul – 14 Aug 2027; 30 Dec 2026 – 2 Jan 2027."""
    if first == last:
        return day_text(first)
    if (first.year, first.month) == (last.year, last.month):
        return f"{first.day}–{last.day} {last:%b %Y}"
    if first.year == last.year:
        return f"{first.day} {first:%b} – {day_text(last)}"
    return f"{day_text(first)} – {day_text(last)}"


def window_text(start: time, end: time) -> str:
    if start == end == MIDNIGHT:
        return "all day"
    text = f"{start:%H:%M}–{end:%H:%M}"
    if end <= start and end != MIDNIGHT:
        text += " (overnight)"  # ends the next day; 09:00–00:00 simply ends at midnight
    elif end == start:
        text += " (24 hours)"
    return text


def _pattern(parts: dict[str, str]) -> str | None:
    """The "which days" phrase of a recurrence, or None when this module cannot say it."""
    freq = parts.pop("FREQ", None)
    interval = parts.pop("INTERVAL", "1")
    parts.pop("WKST", None)
    if interval != "1":
        return None
    if freq == "DAILY" and not parts:
        return "Daily"
    if freq == "WEEKLY" and set(parts) == {"BYDAY"}:
        days = weekdays_of(parts["BYDAY"])
        return days_in_words(days) if days else None
    if freq == "MONTHLY" and set(parts) == {"BYDAY"} and "," not in parts["BYDAY"]:
        code, position = parts["BYDAY"][-2:], parts["BYDAY"][:-2].lstrip("+")
        if code in WEEKDAY_CODES and position.lstrip("-").isdigit() and int(position) in _ORDINALS:
            return f"{_ORDINALS[int(position)]} {WEEKDAY_NAMES[WEEKDAY_CODES.index(code)]} of each month"
    if freq == "MONTHLY" and set(parts) == {"BYMONTHDAY"} and parts["BYMONTHDAY"].isdigit():
        day = int(parts["BYMONTHDAY"])
        suffix = "th" if 10 <= day % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(day % 10, "th")
        return f"The {day}{suffix} of each month"
    return None


def _one_off_days(parts: dict[str, str], rule: RuleLike) -> tuple[date, date] | None:
    """The dates of a rule that is a single date or an unbroken run of days, else None."""
    if parts.get("FREQ") != "DAILY" or parts.get("INTERVAL", "1") != "1":
        return None
    rest = set(parts) - {"FREQ", "INTERVAL", "WKST"}
    if rest == {"COUNT"} and parts["COUNT"].isdigit() and int(parts["COUNT"]) >= 1:
        last = date.fromordinal(rule.starts_on.toordinal() + int(parts["COUNT"]) - 1)
        return rule.starts_on, min(last, rule.ends_on) if rule.ends_on else last
    if not rest and rule.ends_on is not None:
        return rule.starts_on, rule.ends_on
    return None


def rule_in_words(rule: RuleLike, *, today: date | None = None) -> str:
    """The rule as a person would say it. With `today`, a rule that has not begun says when it does."""
    closed = rule.kind == "closed"
    window = window_text(rule.start_time, rule.end_time)
    parts = parse_parts(rule.rrule)
    dates = _one_off_days(dict(parts), rule) if parts else None
    if dates is not None:
        first, last = dates
        if first == last:
            on = f"on {day_text(first)}"
        else:
            on = span_text(first, last)
        if window == "all day":
            if closed:  # a run of dates is read as whole days; a single one says so
                return f"Closed {on} (all day)" if first == last else f"Closed {on}"
            return f"Open {on}, all day"
        return f"{'Closed' if closed else 'Open'} {on}, {window}"
    pattern = _pattern(dict(parts)) if parts else None
    if pattern is None:
        text = f"{'Closed' if closed else 'Open'}: {(rule.rrule or '').strip()}, {window}"
    else:
        text = f"{pattern}, {window}"
        if closed:
            # "Closed every weekday, …", but weekday names keep their capital: "Closed Mondays, …".
            text = f"Closed {text}" if pattern.startswith(WEEKDAY_NAMES) else f"Closed {text[0].lower()}{text[1:]}"
    bounds = []
    if today is not None and rule.starts_on > today:
        bounds.append(f"from {day_text(rule.starts_on)}")
    if rule.ends_on is not None:
        bounds.append(f"until {day_text(rule.ends_on)}")
    return f"{text} ({', '.join(bounds)})" if bounds else text
