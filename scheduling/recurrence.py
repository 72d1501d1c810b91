"""Day-level RRULEs expanded at the cost of the window asked for, whatever the rule's age.

`dateutil.rrule` walks a rule period by period from DTSTART and only stops on an occurrence (or at year
9999), so a rule's cost grew with its age and a rule that never matches searched for millennia. Here
dateutil still decides which days a period holds, but only for the periods that meet the window: the
period grid (FREQ and INTERVAL counted from `starts_on`), BYSETPOS, COUNT and UNTIL are applied here,
with dateutil's exact semantics. See docs/decisions/0008-bounded-rule-expansion.md.

Pure: no Django, no database. `tests/scheduling/test_recurrence.py` cross-checks every freq against
plain `rrulestr(...).between(...)`.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time
from functools import lru_cache

from dateutil.rrule import DAILY, MONTHLY, WEEKLY, YEARLY, rrule, rrulestr

# Validation limits (docs/api.md, "Availability rules"). The engine itself enforces only what it needs
# to stay bounded: see `compile_rule`.
EARLIEST_DATE = date(1900, 1, 1)
LATEST_DATE = date(2200, 12, 31)
MAX_COUNT = 1000
FIRST_OCCURRENCE_YEARS = 10

# An interval that sends dateutil past year 9999 right after its first period, so one rrule evaluates
# exactly one period and returns.
_ONE_PERIOD_INTERVAL = {YEARLY: 10_000, MONTHLY: 120_000}
_DAY_FILTERS = ("byweekno", "byyearday", "bymonthday", "byweekday", "byeaster")
_TIME_PARTS = ("byhour", "byminute", "bysecond")
_FREQ_NAMES = {YEARLY: "YEARLY", MONTHLY: "MONTHLY", WEEKLY: "WEEKLY", DAILY: "DAILY"}
_LAST_ORDINAL = date.max.toordinal()


def in_supported_range(value: date | datetime) -> bool:
    """Whether a date (or a datetime's date) falls within EARLIEST_DATE..LATEST_DATE, the bounds of every
    date the site accepts (rules, slots, bookings, blocked times)."""
    day = value.date() if isinstance(value, datetime) else value
    return EARLIEST_DATE <= day <= LATEST_DATE


class RuleRefused(ValueError):
    """A rule the engine will not expand; `field` is the model field to blame."""

    def __init__(self, message: str, *, code: str, field: str = "rrule") -> None:
        super().__init__(message)
        self.code = code
        self.field = field


@dataclass(frozen=True)
class Recurrence:
    """A parsed rule. Dates are proleptic ordinals (`date.toordinal()`)."""

    freq: int
    interval: int
    start: int
    count: int | None
    until: int | None
    wkst: int
    bysetpos: tuple[int, ...] | None
    months: frozenset[int] | None  # BYMONTH: other months hold no day, so they are skipped unevaluated
    # What `_period_days` needs to list one period's (YEARLY, MONTHLY) or one month's (WEEKLY, DAILY) days.
    period_freq: int
    period_parts: tuple


def parse_rule(text: str, starts_on: date) -> rrule:
    """`rrulestr` with the rule's own DTSTART; RuleRefused when it does not parse as one day-level rule."""
    try:
        parsed = rrulestr(text, dtstart=datetime.combine(starts_on, time(0)))
    except (ValueError, TypeError, OverflowError) as exc:
        raise RuleRefused(f"Not a valid RFC 5545 recurrence rule: {exc}", code="rrule_invalid") from exc
    if not isinstance(parsed, rrule):
        raise RuleRefused("Give exactly one recurrence rule.", code="rrule_invalid")
    return parsed


@lru_cache(maxsize=4096)
def compile_rule(text: str, starts_on: date) -> Recurrence:
    """Parse `text` once per process (a bounded cache of small objects, no occurrences).

    Refuses what no window could serve at a bounded cost: INTERVAL below 1 (dateutil never advances),
    COUNT above MAX_COUNT, and a COUNT rule starting before EARLIEST_DATE (COUNT numbers occurrences
    from DTSTART, so it is the one case expanded from the start).
    """
    parsed = parse_rule(text, starts_on)
    if parsed._freq not in _FREQ_NAMES:
        raise RuleRefused("FREQ must be DAILY, WEEKLY, MONTHLY or YEARLY.", code="rrule_forbidden_part")
    original = dict(parsed._original_rule)  # dateutil keeps the parts as given; None marks a default
    if any(original.get(part) is not None for part in _TIME_PARTS):
        raise RuleRefused("BYHOUR, BYMINUTE and BYSECOND are not allowed in a rule.", code="rrule_forbidden_part")
    if parsed._interval < 1:
        raise RuleRefused("INTERVAL must be 1 or more.", code="rrule_interval")
    count = parsed._count
    if count is not None:
        if not 1 <= count <= MAX_COUNT:
            raise RuleRefused(f"COUNT must be between 1 and {MAX_COUNT}.", code="rrule_count")
        if starts_on < EARLIEST_DATE:
            message = f"The first date must be {EARLIEST_DATE.isoformat()} or later."
            raise RuleRefused(message, code="starts_on_range", field="starts_on")
    # dateutil derives missing parts from DTSTART (YEARLY: its month and day, MONTHLY: its day, WEEKLY:
    # its weekday). Periods are evaluated with other DTSTARTs below, so those defaults are made explicit.
    for part, derived in (("bymonth", parsed._bymonth), ("bymonthday", parsed._bymonthday)):
        if part in original and original[part] is None:
            original[part] = derived
    if "byweekday" in original and original["byweekday"] is None:
        original["byweekday"] = parsed._byweekday
    bysetpos = original.pop("bysetpos", None)
    if parsed._freq in (YEARLY, MONTHLY):
        period_freq, parts = parsed._freq, dict(original, bysetpos=bysetpos)
    else:
        # DAILY and WEEKLY apply their filters day by day (an ordinal like 1MO means any Monday), so a
        # year's matching days can be listed with YEARLY; BYSETPOS is applied per period below.
        period_freq, parts = YEARLY, dict(original)
        if parsed._byweekday:
            parts["byweekday"] = tuple(sorted(parsed._byweekday))
        if not any(parts.get(name) for name in _DAY_FILTERS):
            parts["bymonthday"] = tuple(range(1, 32))  # matches every day; stops YEARLY's defaults
    return Recurrence(
        freq=parsed._freq,
        interval=parsed._interval,
        start=starts_on.toordinal(),
        count=count,
        until=parsed._until.toordinal() if parsed._until is not None else None,
        wkst=parsed._wkst,
        bysetpos=tuple(bysetpos) if bysetpos else None,
        months=frozenset(parsed._bymonth) if parsed._bymonth else None,
        period_freq=period_freq,
        period_parts=tuple(sorted((k, v) for k, v in parts.items() if v is not None)),
    )


def occurrences(rule: Recurrence, first: date, last: date) -> list[date]:
    """The rule's occurrences in [first, last]; equal to `rrulestr(...).between(first, last, inc=True)`.

    Costs the periods that meet [first, last], except for a COUNT rule, which is counted from its start
    (at most MAX_COUNT occurrences, and never past `last`).
    """
    lo, hi = max(first.toordinal(), rule.start), last.toordinal()
    if rule.until is not None:
        hi = min(hi, rule.until)
    if lo > hi:
        return []
    if rule.count is None:
        return [date.fromordinal(o) for o in _iter_ordinals(rule, lo, hi)]
    found = []
    for n, o in enumerate(_iter_ordinals(rule, rule.start, hi)):
        if n >= rule.count:
            break
        if o >= lo:
            found.append(date.fromordinal(o))
    return found


def first_occurrence(rule: Recurrence, *, within_years: int) -> date | None:
    """The rule's first occurrence if it falls within `within_years` of its start, else None."""
    first = date.fromordinal(rule.start)
    try:
        last = first.replace(year=first.year + within_years)
    except ValueError:  # 29 February
        last = first.replace(year=first.year + within_years, day=28)
    hi = last.toordinal() - 1
    if rule.until is not None:
        hi = min(hi, rule.until)
    found = next(_iter_ordinals(rule, rule.start, hi), None) if rule.start <= hi else None
    return date.fromordinal(found) if found is not None else None


# --- periods ------------------------------------------------------------------------------------


def _iter_ordinals(rule: Recurrence, lo: int, hi: int) -> Iterator[int]:
    """Occurrences in [lo, hi] in order; `lo` is never before the rule's start."""
    n = rule.interval
    if rule.freq == YEARLY:
        start_year, lo_year, hi_year = (date.fromordinal(o).year for o in (rule.start, lo, hi))
        year = lo_year + (start_year - lo_year) % n  # the first year on the rule's grid
        while year <= hi_year:
            yield from (o for o in _period_days(YEARLY, rule.period_parts, rule.wkst, year, 1) if lo <= o <= hi)
            year += n
    elif rule.freq == MONTHLY:
        start_month, lo_month, hi_month = (_month_index(date.fromordinal(o)) for o in (rule.start, lo, hi))
        month = lo_month + (start_month - lo_month) % n
        while month <= hi_month:
            year, month0 = divmod(month, 12)
            if rule.months is None or month0 + 1 in rule.months:
                days = _period_days(MONTHLY, rule.period_parts, rule.wkst, year, month0 + 1)
                yield from (o for o in days if lo <= o <= hi)
            month += n
    elif rule.freq == WEEKLY:
        # dateutil's first week runs from DTSTART to the day before the next WKST; later ones are whole
        # weeks from WKST, `interval` weeks apart, counted from the week holding DTSTART.
        first_week = _week_start(rule.start, rule.wkst)
        week = _week_start(lo, rule.wkst)
        week += ((first_week - week) // 7 % n) * 7
        while week <= hi:
            days = list(_matching_days(rule, max(week, rule.start), min(week + 6, _LAST_ORDINAL)))
            if rule.bysetpos:
                days = _by_set_pos(days, rule.bysetpos)
            yield from (o for o in days if lo <= o <= hi)
            week += 7 * n
    else:  # DAILY: a period is one day, so BYSETPOS keeps it only at position 1 or -1
        if rule.bysetpos and not _by_set_pos([lo], rule.bysetpos):
            return
        yield from (o for o in _matching_days(rule, lo, hi) if (o - rule.start) % n == 0)


def _matching_days(rule: Recurrence, lo: int, hi: int) -> Iterator[int]:
    """Days in [lo, hi] that pass a DAILY or WEEKLY rule's filters, a year at a time."""
    for year in range(date.fromordinal(lo).year, date.fromordinal(hi).year + 1):
        yield from (o for o in _period_days(YEARLY, rule.period_parts, rule.wkst, year, 1) if lo <= o <= hi)


@lru_cache(maxsize=4096)
def _period_days(freq: int, parts: tuple, wkst: int, year: int, month: int) -> array:
    """The days one YEARLY (a year) or MONTHLY (a month) period holds, as ordinals.

    Keyed by the rule's parts, not its start: rules that share a pattern share entries. An entry is at
    most 366 four-byte ordinals, so the cache stays under a few megabytes.
    """
    if year > 9999:
        return array("i")
    interval = _ONE_PERIOD_INTERVAL[freq]
    period = rrule(freq, dtstart=datetime(year, month, 1), interval=interval, wkst=wkst, **dict(parts))
    return array("i", (o.toordinal() for o in period))


def _by_set_pos(days: list[int], positions: tuple[int, ...]) -> list[int]:
    """dateutil's BYSETPOS over one period's days: 1-based from the start, negative from the end."""
    picked = {days[p - 1 if p > 0 else p] for p in positions if -len(days) <= (p - 1 if p > 0 else p) < len(days)}
    return sorted(picked)


def _week_start(ordinal: int, wkst: int) -> int:
    weekday = (ordinal - 1) % 7  # ordinal 1 (0001-01-01) is a Monday
    return ordinal - (weekday - wkst) % 7


def _month_index(day: date) -> int:
    return day.year * 12 + day.month - 1
