"""Rules in plain words, one shape per test, and the RRULE itself for what has no words."""

from datetime import date, time
from types import SimpleNamespace

from scheduling.rule_text import rule_in_words

TODAY = date(2026, 12, 3)


def rule(rrule, start=time(9), end=time(17), *, kind="open", starts_on=date(2026, 1, 1), ends_on=None):
    return SimpleNamespace(
        kind=kind, rrule=rrule, starts_on=starts_on, ends_on=ends_on, start_time=start, end_time=end
    )  # fmt: skip


def test_monday_to_friday_is_every_weekday():
    assert rule_in_words(rule("FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR")) == "Every weekday, 09:00–17:00"


def test_two_weekdays_are_named_with_and():
    assert rule_in_words(rule("FREQ=WEEKLY;BYDAY=MO,WE", end=time(12))) == "Mondays and Wednesdays, 09:00–12:00"


def test_three_scattered_weekdays_are_listed():
    assert rule_in_words(rule("FREQ=WEEKLY;BYDAY=FR,MO,WE")) == "Mondays, Wednesdays and Fridays, 09:00–17:00"


def test_a_run_of_weekdays_reads_as_a_span():
    assert rule_in_words(rule("FREQ=WEEKLY;BYDAY=TU,WE,TH")) == "Tuesdays to Thursdays, 09:00–17:00"


def test_saturday_and_sunday_are_weekends():
    assert rule_in_words(rule("FREQ=WEEKLY;BYDAY=SA,SU")) == "Weekends, 09:00–17:00"


def test_every_day_of_the_week_is_daily():
    assert rule_in_words(rule("FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR,SA,SU")) == "Daily, 09:00–17:00"


def test_first_saturday_of_each_month():
    text = rule_in_words(rule("FREQ=MONTHLY;BYDAY=1SA", time(10), time(14)))
    assert text == "First Saturday of each month, 10:00–14:00"


def test_last_friday_of_each_month():
    assert rule_in_words(rule("FREQ=MONTHLY;BYDAY=-1FR")) == "Last Friday of each month, 09:00–17:00"


def test_a_day_of_the_month():
    assert rule_in_words(rule("FREQ=MONTHLY;BYMONTHDAY=22")) == "The 22nd of each month, 09:00–17:00"


def test_a_closed_single_whole_day():
    text = rule_in_words(rule("FREQ=DAILY;COUNT=1", time(0), time(0), kind="closed", starts_on=date(2026, 12, 24)))
    assert text == "Closed on 24 Dec 2026 (all day)"


def test_a_closed_range_of_whole_days_in_one_month():
    closed = rule("FREQ=DAILY", time(0), time(0), kind="closed", starts_on=date(2027, 8, 1), ends_on=date(2027, 8, 14))
    assert rule_in_words(closed) == "Closed 1–14 Aug 2027"


def test_a_closed_range_across_a_year_end():
    closed = rule("FREQ=DAILY", time(0), time(0), kind="closed", starts_on=date(2026, 12, 30), ends_on=date(2027, 1, 2))
    assert rule_in_words(closed) == "Closed 30 Dec 2026 – 2 Jan 2027"


def test_a_daily_overnight_window():
    assert rule_in_words(rule("FREQ=DAILY", time(22), time(6))) == "Daily, 22:00–06:00 (overnight)"


def test_a_window_ending_at_midnight_is_not_overnight():
    assert rule_in_words(rule("FREQ=DAILY", time(18), time(0))) == "Daily, 18:00–00:00"


def test_open_around_the_clock():
    assert rule_in_words(rule("FREQ=DAILY", time(0), time(0))) == "Daily, all day"


def test_a_recurring_closed_break():
    text = rule_in_words(rule("FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR", time(12), time(13), kind="closed"))
    assert text == "Closed every weekday, 12:00–13:00"


def test_a_closed_weekday_keeps_its_capital():
    assert rule_in_words(rule("FREQ=WEEKLY;BYDAY=MO", kind="closed")) == "Closed Mondays, 09:00–17:00"


def test_a_rule_with_a_last_date_says_until():
    text = rule_in_words(rule("FREQ=WEEKLY;BYDAY=MO", ends_on=date(2027, 3, 31)))
    assert text == "Mondays, 09:00–17:00 (until 31 Mar 2027)"


def test_a_rule_not_yet_begun_says_from_when():
    text = rule_in_words(rule("FREQ=WEEKLY;BYDAY=MO", starts_on=date(2027, 1, 4)), today=TODAY)
    assert text == "Mondays, 09:00–17:00 (from 4 Jan 2027)"


def test_an_open_one_off_date():
    text = rule_in_words(rule("FREQ=DAILY;COUNT=1", time(10), time(14), starts_on=date(2026, 12, 27)))
    assert text == "Open on 27 Dec 2026, 10:00–14:00"


def test_what_has_no_words_falls_back_to_the_rrule():
    text = rule_in_words(rule("FREQ=YEARLY;BYMONTH=12;BYMONTHDAY=24,31"))
    assert text == "Open: FREQ=YEARLY;BYMONTH=12;BYMONTHDAY=24,31, 09:00–17:00"


def test_an_interval_falls_back_to_the_rrule():
    text = rule_in_words(rule("FREQ=WEEKLY;INTERVAL=2;BYDAY=MO", kind="closed"))
    assert text == "Closed: FREQ=WEEKLY;INTERVAL=2;BYDAY=MO, 09:00–17:00"
