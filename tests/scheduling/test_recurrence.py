"""Bounded rule expansion (scheduling.recurrence): same dates as dateutil, at the window's cost.

The reference is plain `rrulestr(...).between(...)`, which walks from DTSTART; cases are kept to rules
whose next occurrence after the window is near, so the reference itself stays quick.
"""

import random
import time as clock
import tracemalloc
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from dateutil.rrule import rrulestr

from scheduling import availability
from scheduling.availability import OPEN, RuleSpec, SlotSpec, rule_dates, slots_between
from scheduling.recurrence import RuleRefused, compile_rule, first_occurrence, occurrences

WEEKDAY_NAMES = ["MO", "TU", "WE", "TH", "FR", "SA", "SU"]


def reference(text: str, starts_on: date, first: date, last: date) -> list[date]:
    rule = rrulestr(text, dtstart=datetime.combine(starts_on, time(0)))
    found = rule.between(datetime.combine(first, time(0)), datetime.combine(last, time(0)), inc=True)
    return [o.date() for o in found]


def random_rule(rnd: random.Random) -> str:
    freq = rnd.choice(["DAILY", "WEEKLY", "MONTHLY", "YEARLY"])
    parts = [f"FREQ={freq}"]
    if rnd.random() < 0.5:
        parts.append(f"INTERVAL={rnd.randint(2, 5)}")
    if rnd.random() < 0.3:
        parts.append(f"WKST={rnd.choice(WEEKDAY_NAMES)}")
    if rnd.random() < 0.4:
        days = rnd.sample(WEEKDAY_NAMES, rnd.randint(1, 3))
        if freq in ("MONTHLY", "YEARLY") and rnd.random() < 0.5:
            days = [f"{rnd.choice([1, 2, 3, -1, -2])}{d}" for d in days]  # e.g. -1FR, the last Friday
        parts.append("BYDAY=" + ",".join(days))
    if freq != "WEEKLY" and rnd.random() < 0.3:
        parts.append("BYMONTHDAY=" + ",".join(str(rnd.choice([1, 15, 28, 29, 30, 31, -1, -2])) for _ in "ab"))
    if rnd.random() < 0.3:
        parts.append("BYMONTH=" + ",".join(str(rnd.randint(1, 12)) for _ in range(rnd.randint(1, 3))))
    if freq == "YEARLY" and rnd.random() < 0.15:
        parts.append(f"BYWEEKNO={rnd.choice([1, 10, 52, 53, -1])}")
    if freq == "YEARLY" and rnd.random() < 0.15:
        parts.append(f"BYYEARDAY={rnd.choice([1, 60, 200, 366, -1])}")
    if rnd.random() < 0.25:
        parts.append("BYSETPOS=" + ",".join(str(rnd.choice([1, 2, 3, -1, -2])) for _ in range(rnd.randint(1, 2))))
    ending = rnd.random()
    if ending < 0.2:
        parts.append(f"COUNT={rnd.randint(1, 60)}")
    elif ending < 0.4:
        parts.append(f"UNTIL={date(2000, 1, 1) + timedelta(days=rnd.randint(0, 12000)):%Y%m%d}")
    return ";".join(parts)


def recurs_soon_after(text: str, starts_on: date, last: date) -> bool:
    """Whether the rule's pattern (without COUNT or UNTIL) recurs within four years after `last`, which
    bounds how far the reference searches before it stops."""
    pattern = ";".join(p for p in text.split(";") if not p.startswith(("COUNT=", "UNTIL=")))
    return bool(occurrences(compile_rule(pattern, starts_on), last + timedelta(days=1), last + timedelta(days=1461)))


@pytest.mark.parametrize("seed", range(6))
def test_expansion_matches_dateutil_for_random_rules_ages_and_windows(seed):
    rnd = random.Random(seed)
    compared = 0
    while compared < 120:
        text = random_rule(rnd)
        starts_on = date(1995, 1, 1) + timedelta(days=rnd.randint(0, 12000))
        # Windows before the start, on it, a few months in, and up to ten years on.
        first = starts_on + timedelta(days=rnd.choice([-40, 0, rnd.randint(1, 400), rnd.randint(400, 3650)]))
        last = first + timedelta(days=rnd.choice([0, 6, 30, 61, rnd.randint(0, 800)]))
        if not recurs_soon_after(text, starts_on, last):
            continue
        assert occurrences(compile_rule(text, starts_on), first, last) == reference(text, starts_on, first, last), (
            text,
            starts_on,
            first,
            last,
        )
        compared += 1


@pytest.mark.parametrize(
    ("text", "starts_on"),
    [
        ("FREQ=MONTHLY;BYMONTHDAY=31", date(2023, 1, 31)),
        ("FREQ=MONTHLY", date(2023, 1, 31)),  # the 31st taken from the start: months without one are skipped
        ("FREQ=MONTHLY;BYDAY=-1FR", date(2023, 3, 3)),
        ("FREQ=MONTHLY;INTERVAL=2;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1", date(2023, 3, 15)),
        ("FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=1,-1;COUNT=17", date(2023, 3, 15)),
        ("FREQ=YEARLY", date(2024, 2, 29)),  # leap days only
        ("FREQ=YEARLY;INTERVAL=3;BYMONTH=2;BYMONTHDAY=-1", date(2023, 2, 10)),
        ("FREQ=YEARLY;BYDAY=20MO", date(2023, 1, 1)),
        ("FREQ=WEEKLY;INTERVAL=3", date(2023, 5, 17)),  # the weekday taken from the start
        ("FREQ=WEEKLY;INTERVAL=2;WKST=SU;BYDAY=SU,SA;BYSETPOS=-1", date(2023, 5, 17)),
        ("FREQ=WEEKLY;BYDAY=MO,FR;UNTIL=20260306", date(2023, 5, 17)),
        ("FREQ=DAILY;INTERVAL=4;BYMONTH=2", date(2023, 1, 30)),
        ("FREQ=DAILY;COUNT=1000", date(2023, 5, 17)),
        ("FREQ=DAILY;BYSETPOS=-1,3", date(2023, 5, 17)),
    ],
)
def test_expansion_matches_dateutil_for_rules_whose_defaults_come_from_the_start(text, starts_on):
    rule = compile_rule(text, starts_on)
    for first in (starts_on - timedelta(days=3), starts_on + timedelta(days=200), starts_on + timedelta(days=1100)):
        last = first + timedelta(days=400)
        assert occurrences(rule, first, last) == reference(text, starts_on, first, last), first


def test_a_daily_rule_has_no_second_day_in_a_period_for_bysetpos_to_pick():
    # dateutil agrees, but only after walking every day to the year 9999.
    assert (
        occurrences(compile_rule("FREQ=DAILY;BYSETPOS=2", date(2023, 5, 17)), date(2023, 5, 1), date(2024, 5, 1)) == []
    )


def test_a_rule_started_a_century_ago_costs_what_a_new_one_costs():
    today = date(2027, 3, 1)
    last = today + timedelta(days=29)

    def cost(starts_on: date) -> float:
        rule = compile_rule("FREQ=WEEKLY;INTERVAL=3;BYDAY=MO,WE;BYMONTH=3,4", starts_on)
        started = clock.perf_counter()
        for _ in range(20):
            occurrences(rule, today, last)
        return clock.perf_counter() - started

    cost(today)  # warm the period cache both calls share
    new, old = cost(today), cost(today.replace(year=1927))
    # Walking the century (what dateutil does) takes tens of milliseconds per call; the window, microseconds.
    assert old < max(3 * new, 0.25)  # the floor absorbs a scheduler pause on a loaded machine


def test_expanding_old_rules_keeps_no_occurrences_in_memory():
    today = date(2027, 3, 1)
    tracemalloc.start()
    try:
        before = tracemalloc.take_snapshot()
        for n in range(50):
            rule = RuleSpec(OPEN, "FREQ=DAILY", date(1927, 1, 1) + timedelta(days=n), None, time(9), time(17))
            assert len(rule_dates(rule, today, today + timedelta(days=29))) == 30
        retained = sum(s.size_diff for s in tracemalloc.take_snapshot().compare_to(before, "filename"))
    finally:
        tracemalloc.stop()
    # A rule's cached dateutil occurrences since 1927 took about 2 MB each; parsed rules take a few KB.
    assert retained < 2_000_000


@pytest.mark.parametrize(
    ("text", "starts_on"),
    [
        ("FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30", date(2027, 1, 1)),
        ("FREQ=DAILY;BYMONTH=2;BYMONTHDAY=29;BYDAY=TU", date(1900, 1, 1)),  # first in 1916
        ("FREQ=WEEKLY;UNTIL=20270103", date(2027, 1, 4)),
    ],
)
def test_a_rule_without_an_occurrence_in_ten_years_is_found_without_walking_to_9999(text, starts_on):
    started = clock.perf_counter()
    assert first_occurrence(compile_rule(text, starts_on), within_years=10) is None
    assert clock.perf_counter() - started < 0.5  # dateutil searched to year 9999: seconds


def test_first_occurrence_finds_a_leap_day_monday_four_years_on():
    rule = compile_rule("FREQ=DAILY;BYMONTH=2;BYMONTHDAY=29;BYDAY=MO", date(1900, 1, 1))
    assert first_occurrence(rule, within_years=10) == date(1904, 2, 29)


@pytest.mark.parametrize(
    ("text", "starts_on", "code"),
    [
        ("FREQ=DAILY;INTERVAL=0", date(2027, 1, 1), "rrule_interval"),
        ("FREQ=WEEKLY;INTERVAL=-2", date(2027, 1, 1), "rrule_interval"),
        ("FREQ=DAILY;COUNT=1001", date(2027, 1, 1), "rrule_count"),
        ("FREQ=DAILY;COUNT=0", date(2027, 1, 1), "rrule_count"),
        ("FREQ=DAILY;COUNT=5", date(1, 1, 1), "starts_on_range"),
        ("FREQ=HOURLY", date(2027, 1, 1), "rrule_forbidden_part"),
        ("FREQ=DAILY;BYHOUR=9", date(2027, 1, 1), "rrule_forbidden_part"),
    ],
)
def test_compile_refuses_rules_it_cannot_expand_at_a_bounded_cost(text, starts_on, code):
    with pytest.raises(RuleRefused) as caught:
        compile_rule(text, starts_on)
    assert caught.value.code == code


def test_a_stored_rule_with_interval_zero_is_skipped_and_the_others_still_answer(caplog):
    spec = SlotSpec(timezone=ZoneInfo("UTC"), slot_minutes=60, step_minutes=60)
    availability._servable_rule.cache_clear()  # the warning is logged once per process and rule
    broken = RuleSpec(OPEN, "FREQ=DAILY;INTERVAL=0", date(2026, 12, 30), None, time(0), time(0))
    mornings = RuleSpec(OPEN, "FREQ=DAILY", date(2027, 1, 1), None, time(9), time(11))
    window = (datetime(2027, 3, 1, tzinfo=UTC), datetime(2027, 3, 2, tzinfo=UTC))
    found = slots_between(spec, [broken, mornings], busy=[], blocked=[], window=window, now=None)
    assert [s.start.hour for s in found] == [9, 10]
    assert "INTERVAL must be 1 or more" in caplog.text


def test_a_stored_rule_from_year_one_is_served_from_the_window():
    rule = RuleSpec(OPEN, "FREQ=DAILY", date(1, 1, 1), None, time(9), time(17))
    started = clock.perf_counter()
    assert len(rule_dates(rule, date(2027, 3, 1), date(2027, 4, 1))) == 32
    assert clock.perf_counter() - started < 0.5  # dateutil walked 2,026 years: over a second


def test_a_window_past_the_horizon_expands_nothing():
    spec = SlotSpec(timezone=ZoneInfo("UTC"), slot_minutes=60, step_minutes=60, max_advance_days=30)
    sparse_count = RuleSpec(
        OPEN, "FREQ=DAILY;COUNT=1000;BYMONTHDAY=29;BYMONTH=2", date(1900, 1, 1), None, time(9), time(17)
    )
    window = (datetime(9000, 1, 1, tzinfo=UTC), datetime(9000, 3, 1, tzinfo=UTC))
    now = datetime(2027, 1, 1, tzinfo=UTC)
    started = clock.perf_counter()
    assert slots_between(spec, [sparse_count], busy=[], blocked=[], window=window, now=now) == []
    assert clock.perf_counter() - started < 0.5  # counting leap days from 1900 to 9000: seconds
