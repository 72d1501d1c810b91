"""Weekly opening hours (per weekday, zero or more time ranges) and the rules that hold them.

The weekly-hours editor shows and writes a provider's ordinary open rules of one shape:
`FREQ=WEEKLY;BYDAY=<plain weekdays>`, no last date, already begun, a window within one day (ending at
midnight at the latest). Every other rule (exceptions, monthly rules, overnight windows, raw RRULEs
with more parts) is not the editor's: it lists them and never touches them.

Pure: no Django, no database.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from datetime import date, time

from scheduling.rule_text import MIDNIGHT, WEEKDAY_CODES, RuleLike, parse_parts, weekdays_of

Range = tuple[time, time]
Hours = dict[int, list[Range]]  # weekday (0 = Monday) -> sorted ranges


def weekly_shape(rule: RuleLike, *, today: date) -> tuple[frozenset[int], time, time] | None:
    """(days, start, end) when the editor can show and rewrite this rule, else None."""
    if rule.kind != "open" or rule.ends_on is not None or rule.starts_on > today:
        return None
    parts = parse_parts(rule.rrule)
    if not parts or parts.get("FREQ") != "WEEKLY" or set(parts) != {"FREQ", "BYDAY"}:
        return None
    days = weekdays_of(parts["BYDAY"])
    if not days or not ends_after(rule.start_time, rule.end_time):
        return None
    return days, rule.start_time, rule.end_time


def ends_after(start: time, end: time) -> bool:
    """A range within one day; an end of 00:00 means midnight at the end of the day."""
    return (end == MIDNIGHT and start != MIDNIGHT) or end > start


def split_rules(rules: Iterable, *, today: date) -> tuple[Hours, list, list]:
    """(the weekly hours the editable rules give, those rules, every other rule)."""
    hours: Hours = {day: [] for day in range(7)}
    managed, others = [], []
    for rule in rules:
        shape = weekly_shape(rule, today=today)
        if shape is None:
            others.append(rule)
            continue
        managed.append(rule)
        days, start, end = shape
        for day in days:
            hours[day].append((start, end))
    return {day: sorted(set(ranges), key=sort_key) for day, ranges in hours.items()}, managed, others


def _minutes(value: time) -> int:
    return value.hour * 60 + value.minute


def sort_key(window: Range) -> tuple[int, int]:
    start, end = window
    return _minutes(start), 24 * 60 if end == MIDNIGHT else _minutes(end)


def overlapping(ranges: list[Range]) -> Range | None:
    """The first range that starts before the one before it ends (touching end to start is fine)."""
    ordered = sorted(ranges, key=sort_key)
    for before, after in itertools.pairwise(ordered):
        if sort_key(after)[0] < sort_key(before)[1]:
            return after
    return None


def grouped(hours: Hours) -> list[tuple[frozenset[int], time, time]]:
    """One (days, start, end) per distinct range: the days sharing a range become one rule."""
    days_by_range: dict[Range, set[int]] = {}
    for day, ranges in hours.items():
        for window in ranges:
            days_by_range.setdefault(window, set()).add(day)
    return [(frozenset(days_by_range[w]), *w) for w in sorted(days_by_range, key=sort_key)]


def byday_rrule(days: Iterable[int]) -> str:
    return f"FREQ=WEEKLY;BYDAY={','.join(WEEKDAY_CODES[d] for d in sorted(days))}"
