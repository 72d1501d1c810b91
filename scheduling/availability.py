"""The availability engine: pure computation, no database access (docs/architecture.md §3).

Everything here works on plain values: a `SlotSpec`, `RuleSpec`s, and sorted lists of UTC
intervals. The selector in `scheduling.selectors` loads those in a few queries and calls in.

Time handling, on purpose:
- Rules are wall-clock times in the provider's zone. Each occurrence becomes an absolute interval
  with zoneinfo, using `fold=0`. For an ambiguous time (the repeated hour when DST ends) that is the
  first occurrence. For a nonexistent time (the skipped hour when DST starts) zoneinfo applies the
  offset in force before the gap, which moves the time forward by the gap's length.
- Slots are stepped in absolute time from each open occurrence's start, so a night that gains an hour
  offers its real, longer length and a night that loses one never offers a time that does not exist.
"""

from __future__ import annotations

import enum
import logging
from bisect import bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import NamedTuple
from zoneinfo import ZoneInfo

from scheduling.recurrence import Recurrence, RuleRefused, compile_rule, occurrences

logger = logging.getLogger(__name__)

Interval = tuple[datetime, datetime]

OPEN = "open"
CLOSED = "closed"


@dataclass(frozen=True)
class SlotSpec:
    """What slots are cut by: the provider's zone and a service's length, step, buffers, notice and horizon."""

    timezone: ZoneInfo
    slot_minutes: int
    step_minutes: int
    buffer_before_minutes: int = 0
    buffer_after_minutes: int = 0
    min_notice_minutes: int = 0
    max_advance_days: int = 3650

    @property
    def slot_length(self) -> timedelta:
        return timedelta(minutes=self.slot_minutes)

    @property
    def buffer_before(self) -> timedelta:
        return timedelta(minutes=self.buffer_before_minutes)

    @property
    def buffer_after(self) -> timedelta:
        return timedelta(minutes=self.buffer_after_minutes)

    def padded(self, start: datetime) -> Interval:
        """The span a booking starting at `start` keeps busy, buffers included."""
        return start - self.buffer_before, start + self.slot_length + self.buffer_after


@dataclass(frozen=True)
class RuleSpec:
    kind: str
    rrule: str
    starts_on: date
    ends_on: date | None
    start_time: time
    end_time: time


class Slot(NamedTuple):
    start: datetime
    end: datetime


class Verdict(enum.Enum):
    BOOKABLE = "bookable"
    IN_PAST = "in_past"
    TOO_SOON = "too_soon"
    BEYOND_HORIZON = "beyond_horizon"
    NOT_OFFERED = "not_offered"  # off the grid, outside open time, or in a closed/blocked span
    BUSY = "busy"  # on the grid but its buffered span meets a live booking


# --- wall clock to instants -------------------------------------------------------------------


def local_to_utc(day: date, at: time, tz: ZoneInfo) -> datetime:
    """The instant of a wall-clock time; fold=0 picks the first of a repeated time and shifts a
    skipped time forward by the gap."""
    return datetime.combine(day, at).replace(tzinfo=tz, fold=0).astimezone(UTC)


def local_dates_window(first: date, last: date, tz: ZoneInfo) -> Interval:
    """[first 00:00, last+1 00:00) in `tz`, as UTC instants."""
    return local_to_utc(first, time(0), tz), local_to_utc(last + timedelta(days=1), time(0), tz)


@lru_cache(maxsize=1024)
def _servable_rule(text: str, starts_on: date) -> Recurrence | None:
    """The parsed rule, or None for one the engine refuses to expand (logged once per process).

    Validation refuses these on the way in; this covers rules stored before it did (an INTERVAL=0 rule
    would otherwise hang the worker), so the provider's other rules still answer.
    """
    try:
        return compile_rule(text, starts_on)
    except RuleRefused as exc:
        logger.warning("Skipping availability rule %r starting %s: %s", text, starts_on, exc)
        return None


def rule_dates(rule: RuleSpec, first: date, last: date) -> list[date]:
    """The local dates in [first, last] on which `rule` occurs; costs the window, not the rule's age."""
    if rule.ends_on is not None and rule.ends_on < first:
        return []
    if rule.starts_on > last:
        return []
    compiled = _servable_rule(rule.rrule, rule.starts_on)
    if compiled is None:
        return []
    upto = last if rule.ends_on is None else min(last, rule.ends_on)
    return occurrences(compiled, first, upto)


def rule_windows(rule: RuleSpec, first: date, last: date, tz: ZoneInfo) -> list[Interval]:
    """UTC intervals of a rule's occurrences that start on local dates [first, last].

    An end time at or before the start time ends on the next day (overnight, or 00:00-00:00 for a
    whole day).
    """
    crosses_midnight = rule.end_time <= rule.start_time
    windows = []
    for day in rule_dates(rule, first, last):
        start = local_to_utc(day, rule.start_time, tz)
        end_day = day + timedelta(days=1) if crosses_midnight else day
        end = local_to_utc(end_day, rule.end_time, tz)
        if end > start:
            windows.append((start, end))
    return windows


# --- interval arithmetic on sorted lists ------------------------------------------------------


def merge(intervals: Iterable[Interval]) -> list[Interval]:
    """Sort and merge overlapping or touching intervals."""
    merged: list[Interval] = []
    for start, end in sorted(intervals):
        if merged and start <= merged[-1][1]:
            if end > merged[-1][1]:
                merged[-1] = (merged[-1][0], end)
        else:
            merged.append((start, end))
    return merged


def subtract(base: Sequence[Interval], cuts: Sequence[Interval]) -> list[Interval]:
    """`base` minus `cuts`; both sorted and merged. Linear in their total length."""
    result: list[Interval] = []
    j = 0
    for start, end in base:
        cursor = start
        while j < len(cuts) and cuts[j][1] <= cursor:
            j += 1
        k = j
        while k < len(cuts) and cuts[k][0] < end:
            cut_start, cut_end = cuts[k]
            if cut_start > cursor:
                result.append((cursor, cut_start))
            cursor = max(cursor, cut_end)
            if cursor >= end:
                break
            k += 1
        if cursor < end:
            result.append((cursor, end))
    return result


# --- slots ------------------------------------------------------------------------------------


def open_time(spec: SlotSpec, rules: Iterable[RuleSpec], window: Interval) -> tuple[list[Interval], list[Interval]]:
    """Open occurrences (sorted, not merged) and merged closed windows that can touch `window`.

    Occurrences stay unmerged because each one anchors its own slot grid: merging a provider open
    around the clock into one long window would make the grid depend on the range asked.
    """
    tz = spec.timezone
    # One day earlier catches occurrences that started the day before and run past midnight.
    first = window[0].astimezone(tz).date() - timedelta(days=1)
    # A slot starting just before the window's end runs on by its length into later occurrences.
    last = (window[1] + spec.slot_length).astimezone(tz).date()
    opened: list[Interval] = []
    closed: list[Interval] = []
    for rule in rules:
        target = opened if rule.kind == OPEN else closed
        target.extend(rule_windows(rule, first, last, tz))
    return sorted(opened), merge(closed)


def slots_between(
    spec: SlotSpec,
    rules: Iterable[RuleSpec],
    *,
    busy: Iterable[Interval],
    blocked: Iterable[Interval],
    window: Interval,
    now: datetime | None,
) -> list[Slot]:
    """Bookable slots whose start lies in `window` (UTC, half-open).

    `busy` are live bookings' buffered spans; `blocked` are blocked times. With `now` None, notice
    and horizon are not applied (the grid check for an existing booking uses that).
    """
    lowest, highest = window
    if now is not None:
        lowest = max(lowest, now + timedelta(minutes=spec.min_notice_minutes))
        horizon = now + timedelta(days=spec.max_advance_days)
        highest = min(highest, horizon + timedelta(microseconds=1))
    if lowest >= highest:
        return []
    # Only what can hold a slot is expanded: a window asked for past the horizon costs nothing.
    opened, closed = open_time(spec, rules, (lowest, highest))
    free = subtract(subtract(merge(opened), closed), merge(blocked))
    free_starts = [s for s, _ in free]
    busy_merged = merge(busy)
    busy_starts = [s for s, _ in busy_merged]

    length, step = spec.slot_length, timedelta(minutes=spec.step_minutes)
    # A slot starting at s keeps [s - reach_before, s + reach_after) busy (`SlotSpec.padded`).
    reach_before, reach_after = spec.buffer_before, length + spec.buffer_after
    last_busy = len(busy_merged) - 1
    starts: set[datetime] = set()
    # Once per candidate start (about a thousand for a month), so the two interval lookups are written
    # out inline: function calls here were half of the engine's time.
    for open_start, open_end in opened:
        if open_end <= lowest or open_start >= highest:
            continue
        start = open_start
        if start < lowest:
            start += ((lowest - open_start + step - timedelta(microseconds=1)) // step) * step
        stop = min(highest, open_end)
        # A slot may run on into an adjoining open occurrence; `free` decides whether it fits.
        while start < stop:
            i = bisect_right(free_starts, start) - 1
            # One free interval holds the whole slot ...
            if i >= 0 and free[i][1] >= start + length:
                lo, hi = start - reach_before, start + reach_after
                j = bisect_right(busy_starts, lo) - 1
                # ... and no busy span meets its padded span.
                if not ((j >= 0 and busy_merged[j][1] > lo) or (j < last_busy and busy_starts[j + 1] < hi)):
                    starts.add(start)
            start += step
    return [Slot(start, start + length) for start in sorted(starts)]


def slots_for_local_dates(
    spec: SlotSpec,
    rules: Iterable[RuleSpec],
    *,
    busy: Iterable[Interval],
    blocked: Iterable[Interval],
    first: date,
    last: date,
    viewer_tz: ZoneInfo,
    now: datetime | None,
) -> list[Slot]:
    """Slots starting on local dates [first, last] as seen in `viewer_tz`."""
    return slots_between(
        spec, rules, busy=busy, blocked=blocked, window=local_dates_window(first, last, viewer_tz), now=now
    )


def verdict_for_start(
    spec: SlotSpec,
    rules: Iterable[RuleSpec],
    *,
    busy: Iterable[Interval],
    blocked: Iterable[Interval],
    start: datetime,
    now: datetime,
) -> Verdict:
    """Why a booking may or may not start at `start`; most specific reason first."""
    if start < now:
        return Verdict.IN_PAST
    if start < now + timedelta(minutes=spec.min_notice_minutes):
        return Verdict.TOO_SOON
    if start > now + timedelta(days=spec.max_advance_days):
        return Verdict.BEYOND_HORIZON
    window = (start, start + timedelta(microseconds=1))
    rules, busy, blocked = list(rules), list(busy), list(blocked)
    if not slots_between(spec, rules, busy=[], blocked=blocked, window=window, now=None):
        return Verdict.NOT_OFFERED
    # With nothing busy (the booking path leaves overlap to the constraint) the answer is known.
    if busy and not slots_between(spec, rules, busy=busy, blocked=blocked, window=window, now=None):
        return Verdict.BUSY
    return Verdict.BOOKABLE
