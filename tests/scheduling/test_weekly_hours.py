"""Which rules the weekly-hours editor owns, and how weekly hours become rules."""

from datetime import date, time
from types import SimpleNamespace

from scheduling.weekly_hours import byday_rrule, grouped, overlapping, split_rules, weekly_shape

TODAY = date(2026, 12, 3)


def rule(
    rrule="FREQ=WEEKLY;BYDAY=MO,TU",
    start=time(9),
    end=time(17),
    *,
    kind="open",
    starts_on=date(2026, 1, 1),
    ends_on=None,
):
    return SimpleNamespace(kind=kind, rrule=rrule, starts_on=starts_on, ends_on=ends_on, start_time=start, end_time=end)


def test_a_plain_weekly_open_rule_is_the_editors():
    assert weekly_shape(rule(), today=TODAY) == (frozenset({0, 1}), time(9), time(17))


def test_a_window_ending_at_midnight_is_the_editors():
    assert weekly_shape(rule(start=time(18), end=time(0)), today=TODAY) is not None


def test_rules_the_editor_cannot_represent_are_not_its_own():
    for other in (
        rule(kind="closed"),
        rule("FREQ=WEEKLY;BYDAY=MO;INTERVAL=2"),
        rule("FREQ=MONTHLY;BYDAY=1SA"),
        rule("FREQ=DAILY"),
        rule(start=time(22), end=time(6)),  # overnight
        rule(ends_on=date(2027, 1, 1)),
        rule(starts_on=date(2027, 1, 4)),  # not begun yet
    ):
        assert weekly_shape(other, today=TODAY) is None, other


def test_split_rules_gives_each_day_its_sorted_ranges():
    hours, managed, others = split_rules(
        [rule(start=time(13), end=time(17)), rule("FREQ=WEEKLY;BYDAY=MO", time(9), time(12)), rule(kind="closed")],
        today=TODAY,
    )
    assert hours[0] == [(time(9), time(12)), (time(13), time(17))]
    assert hours[1] == [(time(13), time(17))]
    assert hours[2] == []
    assert (len(managed), len(others)) == (2, 1)


def test_days_sharing_a_range_become_one_rule():
    hours = {d: [(time(9), time(12)), (time(13), time(17))] for d in range(5)} | {5: [(time(9), time(12))], 6: []}
    assert [(byday_rrule(days), start, end) for days, start, end in grouped(hours)] == [
        ("FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR,SA", time(9), time(12)),
        ("FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR", time(13), time(17)),
    ]


def test_overlapping_ranges_are_found_but_touching_ones_are_fine():
    assert overlapping([(time(9), time(12)), (time(11), time(13))]) == (time(11), time(13))
    assert overlapping([(time(13), time(17)), (time(9), time(13))]) is None
    assert overlapping([(time(18), time(0)), (time(20), time(21))]) == (time(20), time(21))
