"""The availability engine (docs/architecture.md §3) and the `provider_slots` selector.

Most tests here are pure: they call `scheduling.availability` with plain specs and an explicit `now`,
and assert figures computed by hand. The expected UTC instants are written out literally, never derived
with the same zoneinfo arithmetic the engine uses.
"""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError

from scheduling.availability import (
    CLOSED,
    OPEN,
    RuleSpec,
    Slot,
    SlotSpec,
    Verdict,
    slots_between,
    slots_for_local_dates,
    verdict_for_start,
)
from scheduling.models import AvailabilityRule, BookingStatus, Provider
from scheduling.selectors import provider_slots
from scheduling.validators import validate_rrule
from tests.factories import AvailabilityRuleFactory, BlockedTimeFactory, BookingFactory, ProviderFactory, service_of

NEW_YORK = ZoneInfo("America/New_York")
BERLIN = ZoneInfo("Europe/Berlin")
SYDNEY = ZoneInfo("Australia/Sydney")
KOLKATA = ZoneInfo("Asia/Kolkata")
TOKYO = ZoneInfo("Asia/Tokyo")
PHOENIX = ZoneInfo("America/Phoenix")

WEEKDAYS = "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR"
DAILY = "FREQ=DAILY"

# Long before every date used below; with the default horizon of ten years nothing is cut off.
NOW = datetime(2027, 1, 1, tzinfo=UTC)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def provider(tz: ZoneInfo = NEW_YORK, *, slot: int = 30, step: int | None = None, **kwargs) -> SlotSpec:
    return SlotSpec(timezone=tz, slot_minutes=slot, step_minutes=step or slot, **kwargs)


def rule(
    rrule: str = WEEKDAYS,
    start: time = time(9),
    end: time = time(17),
    *,
    kind: str = OPEN,
    starts_on: date = date(2027, 1, 1),
    ends_on: date | None = None,
) -> RuleSpec:
    return RuleSpec(kind=kind, rrule=rrule, starts_on=starts_on, ends_on=ends_on, start_time=start, end_time=end)


def slots(
    spec: SlotSpec,
    rules: list[RuleSpec],
    first: date,
    last: date | None = None,
    *,
    busy: list = (),
    blocked: list = (),
    viewer_tz: ZoneInfo | None = None,
    now: datetime | None = NOW,
) -> list[Slot]:
    return slots_for_local_dates(
        spec,
        rules,
        busy=list(busy),
        blocked=list(blocked),
        first=first,
        last=last or first,
        viewer_tz=viewer_tz or spec.timezone,
        now=now,
    )


def starts(found: list[Slot]) -> list[datetime]:
    return [s.start for s in found]


def wall(found: list[Slot], tz: ZoneInfo) -> list[str]:
    return [s.start.astimezone(tz).strftime("%H:%M") for s in found]


def local_dates(found: list[Slot], tz: ZoneInfo) -> set[date]:
    return {s.start.astimezone(tz).date() for s in found}


def every(first: datetime, last: datetime, minutes: int = 30) -> list[datetime]:
    out, at = [], first
    while at <= last:
        out.append(at)
        at += timedelta(minutes=minutes)
    return out


# --- DST in America/New_York (starts Sun 2027-03-14, ends Sun 2027-11-07) -----------------------


def test_new_york_friday_before_dst_starts_opens_at_14z():
    found = slots(provider(), [rule()], date(2027, 3, 12))
    assert found[0] == Slot(utc(2027, 3, 12, 14, 0), utc(2027, 3, 12, 14, 30))
    assert found[-1].start == utc(2027, 3, 12, 21, 30)
    assert len(found) == 16


def test_new_york_monday_after_dst_starts_opens_at_13z():
    found = slots(provider(), [rule()], date(2027, 3, 15))
    assert found[0].start == utc(2027, 3, 15, 13, 0)
    assert found[-1].start == utc(2027, 3, 15, 20, 30)
    assert len(found) == 16


def test_new_york_monday_after_dst_ends_opens_at_14z():
    found = slots(provider(), [rule()], date(2027, 11, 8))
    assert found[0].start == utc(2027, 11, 8, 14, 0)
    assert len(found) == 16


def test_night_that_loses_an_hour_offers_eight_slots_and_no_nonexistent_time():
    found = slots(provider(), [rule(DAILY, time(0), time(5))], date(2027, 3, 14))

    assert len(found) == 8
    # 00:00 EST is 05:00Z, 05:00 EDT is 09:00Z: four real hours.
    assert starts(found) == every(utc(2027, 3, 14, 5, 0), utc(2027, 3, 14, 8, 30))
    assert wall(found, NEW_YORK) == ["00:00", "00:30", "01:00", "01:30", "03:00", "03:30", "04:00", "04:30"]
    for slot in found:
        local = slot.start.astimezone(NEW_YORK)
        assert local.hour != 2
        assert local.replace(tzinfo=None).replace(tzinfo=NEW_YORK).astimezone(UTC) == slot.start


def test_night_that_gains_an_hour_offers_twelve_slots_living_one_am_twice():
    found = slots(provider(), [rule(DAILY, time(0), time(5))], date(2027, 11, 7))

    assert len(found) == 12
    # 00:00 EDT is 04:00Z, 05:00 EST is 10:00Z: six real hours.
    assert starts(found) == every(utc(2027, 11, 7, 4, 0), utc(2027, 11, 7, 9, 30))
    one_am = [s.start.astimezone(NEW_YORK) for s in found if s.start.astimezone(NEW_YORK).strftime("%H:%M") == "01:00"]
    assert [t.astimezone(UTC) for t in one_am] == [utc(2027, 11, 7, 5, 0), utc(2027, 11, 7, 6, 0)]
    assert [t.fold for t in one_am] == [0, 1]
    assert [t.utcoffset() for t in one_am] == [timedelta(hours=-4), timedelta(hours=-5)]


def test_opening_at_an_ambiguous_time_takes_its_first_occurrence():
    found = slots(provider(), [rule(DAILY, time(1, 30), time(3))], date(2027, 11, 7))
    # 01:30 is lived twice; the first time is EDT, 05:30Z. 03:00 EST is 08:00Z.
    assert starts(found) == every(utc(2027, 11, 7, 5, 30), utc(2027, 11, 7, 7, 30))


def test_opening_at_a_nonexistent_time_moves_forward_by_the_gap():
    found = slots(provider(), [rule(DAILY, time(2, 30), time(4))], date(2027, 3, 14))
    # 02:30 does not exist; it becomes 03:30 EDT (07:30Z). 04:00 EDT is 08:00Z: one slot.
    assert starts(found) == [utc(2027, 3, 14, 7, 30)]
    assert wall(found, NEW_YORK) == ["03:30"]


# --- other zones --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "first_start"),
    [
        (date(2027, 3, 26), utc(2027, 3, 26, 8, 0)),  # Fri, CET (+1)
        (date(2027, 3, 29), utc(2027, 3, 29, 7, 0)),  # Mon after DST starts on Sun 03-28, CEST (+2)
        (date(2027, 10, 29), utc(2027, 10, 29, 7, 0)),  # Fri, CEST
        (date(2027, 11, 1), utc(2027, 11, 1, 8, 0)),  # Mon after DST ends on Sun 10-31, CET
    ],
)
def test_berlin_weekday_opening_follows_dst(day, first_start):
    found = slots(provider(BERLIN), [rule()], day)
    assert found[0].start == first_start
    assert len(found) == 16


def test_berlin_night_that_loses_an_hour_offers_eight_slots():
    found = slots(provider(BERLIN), [rule(DAILY, time(0), time(5))], date(2027, 3, 28))
    # 00:00 CET is 23:00Z the day before; 05:00 CEST is 03:00Z.
    assert starts(found) == every(utc(2027, 3, 27, 23, 0), utc(2027, 3, 28, 2, 30))
    assert "02:00" not in wall(found, BERLIN)


def test_berlin_night_that_gains_an_hour_offers_twelve_slots():
    found = slots(provider(BERLIN), [rule(DAILY, time(0), time(5))], date(2027, 10, 31))
    # 00:00 CEST is 22:00Z the day before; 05:00 CET is 04:00Z.
    assert starts(found) == every(utc(2027, 10, 30, 22, 0), utc(2027, 10, 31, 3, 30))
    assert wall(found, BERLIN).count("02:00") == 2


@pytest.mark.parametrize(
    ("day", "first_start"),
    [
        (date(2027, 4, 2), utc(2027, 4, 1, 22, 0)),  # Fri, AEDT (+11)
        (date(2027, 4, 5), utc(2027, 4, 4, 23, 0)),  # Mon after DST ends on Sun 04-04, AEST (+10)
        (date(2027, 10, 1), utc(2027, 9, 30, 23, 0)),  # Fri, AEST
        (date(2027, 10, 4), utc(2027, 10, 3, 22, 0)),  # Mon after DST starts on Sun 10-03, AEDT
    ],
)
def test_sydney_weekday_opening_follows_southern_hemisphere_dst(day, first_start):
    found = slots(provider(SYDNEY), [rule()], day)
    assert found[0].start == first_start
    assert len(found) == 16


def test_sydney_night_that_gains_an_hour_in_april_offers_twelve_slots():
    found = slots(provider(SYDNEY), [rule(DAILY, time(0), time(5))], date(2027, 4, 4))
    # 00:00 AEDT is 13:00Z the day before; 05:00 AEST is 19:00Z.
    assert starts(found) == every(utc(2027, 4, 3, 13, 0), utc(2027, 4, 3, 18, 30))
    assert wall(found, SYDNEY).count("02:00") == 2


def test_sydney_night_that_loses_an_hour_in_october_offers_eight_slots():
    found = slots(provider(SYDNEY), [rule(DAILY, time(0), time(5))], date(2027, 10, 3))
    # 00:00 AEST is 14:00Z the day before; 05:00 AEDT is 18:00Z.
    assert starts(found) == every(utc(2027, 10, 2, 14, 0), utc(2027, 10, 2, 17, 30))
    assert "02:00" not in wall(found, SYDNEY)


def test_kolkata_half_hour_offset_puts_nine_local_at_0330z():
    found = slots(provider(KOLKATA), [rule()], date(2027, 3, 15))
    assert starts(found) == every(utc(2027, 3, 15, 3, 30), utc(2027, 3, 15, 11, 0))


@pytest.mark.parametrize("day", [date(2027, 3, 12), date(2027, 3, 15), date(2027, 11, 5), date(2027, 11, 8)])
@pytest.mark.parametrize(("tz", "hour_utc"), [(PHOENIX, 16), (TOKYO, 0)])
def test_zone_without_dst_opens_at_the_same_utc_time_across_us_change_dates(day, tz, hour_utc):
    found = slots(provider(tz), [rule()], day)
    assert found[0].start == datetime.combine(day, time(hour_utc), tzinfo=UTC)
    assert len(found) == 16


# --- viewer zone --------------------------------------------------------------------------------


def test_viewer_in_tokyo_gets_the_new_york_slots_whose_tokyo_date_matches():
    spec, rules = provider(), [rule()]
    seen_from_tokyo = slots(spec, rules, date(2027, 3, 16), viewer_tz=TOKYO)

    around = slots(spec, rules, date(2027, 3, 15), date(2027, 3, 17))
    expected = [s for s in around if s.start.astimezone(TOKYO).date() == date(2027, 3, 16)]
    assert seen_from_tokyo == expected
    # Tokyo's 03-16 is [03-15 15:00Z, 03-16 15:00Z): Monday 11:00-16:30 EDT and Tuesday 09:00-10:30 EDT.
    assert starts(seen_from_tokyo) == every(utc(2027, 3, 15, 15, 0), utc(2027, 3, 15, 20, 30)) + every(
        utc(2027, 3, 16, 13, 0), utc(2027, 3, 16, 14, 30)
    )


# --- recurrence rules ---------------------------------------------------------------------------


def test_weekday_rule_opens_monday_to_friday_only():
    found = slots(provider(), [rule(WEEKDAYS)], date(2027, 3, 15), date(2027, 3, 21))
    assert local_dates(found, NEW_YORK) == {date(2027, 3, d) for d in range(15, 20)}
    assert len(found) == 5 * 16


def test_tuesday_rule_opens_tuesdays_ten_to_two():
    found = slots(provider(), [rule("FREQ=WEEKLY;BYDAY=TU", time(10), time(14))], date(2027, 3, 15), date(2027, 3, 28))
    assert local_dates(found, NEW_YORK) == {date(2027, 3, 16), date(2027, 3, 23)}
    assert starts(found)[:8] == every(utc(2027, 3, 16, 14, 0), utc(2027, 3, 16, 17, 30))
    assert len(found) == 16


def test_first_saturday_rule_opens_once_a_month():
    found = slots(provider(), [rule("FREQ=MONTHLY;BYDAY=1SA", time(10), time(14))], date(2027, 3, 1), date(2027, 5, 31))
    assert local_dates(found, NEW_YORK) == {date(2027, 3, 6), date(2027, 4, 3), date(2027, 5, 1)}
    assert len(found) == 3 * 8


def test_overnight_rule_runs_past_midnight_into_the_next_date():
    night = rule(DAILY, time(22), time(6), starts_on=date(2027, 5, 1), ends_on=date(2027, 5, 2))
    found = slots(provider(slot=60), [night], date(2027, 5, 1), date(2027, 5, 4))

    # Two nights of eight hours; EDT, so 22:00 local is 02:00Z the next day.
    assert starts(found) == every(utc(2027, 5, 2, 2, 0), utc(2027, 5, 2, 9, 0), 60) + every(
        utc(2027, 5, 3, 2, 0), utc(2027, 5, 3, 9, 0), 60
    )
    assert local_dates(found, NEW_YORK) == {date(2027, 5, 1), date(2027, 5, 2), date(2027, 5, 3)}


def test_overnight_rule_from_the_day_before_shows_when_asking_for_the_next_date_alone():
    night = rule(DAILY, time(22), time(6), starts_on=date(2027, 5, 1), ends_on=date(2027, 5, 2))
    found = slots(provider(slot=60), [night], date(2027, 5, 3))
    assert wall(found, NEW_YORK) == ["00:00", "01:00", "02:00", "03:00", "04:00", "05:00"]


def test_closed_whole_day_holiday_overrides_the_open_rule():
    holiday = rule("FREQ=DAILY;COUNT=1", time(0), time(0), kind=CLOSED, starts_on=date(2027, 3, 17))
    found = slots(provider(), [rule(), holiday], date(2027, 3, 16), date(2027, 3, 18))
    assert local_dates(found, NEW_YORK) == {date(2027, 3, 16), date(2027, 3, 18)}
    assert len(found) == 2 * 16


def test_closed_lunch_break_removes_noon_to_one():
    lunch = rule(WEEKDAYS, time(12), time(13), kind=CLOSED)
    found = slots(provider(), [rule(), lunch], date(2027, 3, 15))
    times = wall(found, NEW_YORK)
    assert len(found) == 14
    assert "12:00" not in times
    assert "12:30" not in times
    assert {"11:30", "13:00"} <= set(times)


def test_ends_on_is_inclusive():
    found = slots(provider(), [rule(ends_on=date(2027, 3, 17))], date(2027, 3, 15), date(2027, 3, 19))
    assert local_dates(found, NEW_YORK) == {date(2027, 3, 15), date(2027, 3, 16), date(2027, 3, 17)}


def test_starts_on_is_respected():
    found = slots(provider(), [rule(starts_on=date(2027, 3, 17))], date(2027, 3, 15), date(2027, 3, 19))
    assert local_dates(found, NEW_YORK) == {date(2027, 3, 17), date(2027, 3, 18), date(2027, 3, 19)}


# --- slot rules ---------------------------------------------------------------------------------

MONDAY = date(2027, 3, 15)  # EDT: local = UTC - 4h


def ny(hour: int, minute: int = 0, day: date = MONDAY) -> datetime:
    """A wall-clock time on an EDT date, written as its UTC instant."""
    return datetime.combine(day, time(hour + 4, minute), tzinfo=UTC)


def test_buffers_around_a_booking_remove_the_neighbouring_slots():
    spec = provider(buffer_before_minutes=15, buffer_after_minutes=15)
    booking = spec.padded(ny(11))  # 10:45-11:45 local
    found = slots(spec, [rule()], MONDAY, busy=[booking])
    times = wall(found, NEW_YORK)
    assert "10:30" not in times
    assert "11:00" not in times
    assert "11:30" not in times
    assert {"10:00", "12:00"} <= set(times)
    assert len(found) == 13


def test_buffers_may_reach_outside_opening_hours():
    spec = provider(buffer_before_minutes=30, buffer_after_minutes=30)
    found = slots(spec, [rule()], MONDAY)
    assert found[0].start == ny(9)
    assert found[-1].start == ny(16, 30)
    assert len(found) == 16


def test_buffers_may_reach_into_blocked_time():
    spec = provider(buffer_before_minutes=15)
    found = slots(spec, [rule()], MONDAY, blocked=[(ny(10), ny(11))])
    times = wall(found, NEW_YORK)
    assert "11:00" in times
    assert "10:30" not in times


def test_minimum_notice_drops_slots_starting_too_soon():
    spec = provider(min_notice_minutes=60)
    found = slots(spec, [rule()], MONDAY, now=ny(10, 10))
    assert found[0].start == ny(11, 30)
    assert len(found) == 11


def test_horizon_drops_slots_starting_after_max_advance_days():
    spec = provider(max_advance_days=2)
    found = slots(spec, [rule()], MONDAY, date(2027, 3, 19), now=ny(9))
    # The horizon is Wednesday 09:00 local exactly: that slot is still offered, the next is not.
    assert found[-1].start == ny(9, day=date(2027, 3, 17))
    assert len(found) == 16 + 16 + 1


def test_step_shorter_than_the_slot_offers_overlapping_starts():
    spec = provider(slot=60, step=15)
    found = slots(spec, [rule()], MONDAY)
    assert starts(found) == every(ny(9), ny(16), 15)
    assert all(s.end - s.start == timedelta(minutes=60) for s in found)
    assert len(found) == 29


def test_step_shorter_than_the_slot_loses_every_start_overlapping_a_booking():
    spec = provider(slot=60, step=15)
    found = slots(spec, [rule()], MONDAY, busy=[(ny(12), ny(13))])
    assert len(found) == 29 - 7
    assert ny(11) in starts(found)
    assert ny(13) in starts(found)


def test_blocked_time_removes_the_slots_it_touches():
    found = slots(provider(), [rule()], MONDAY, blocked=[(ny(10), ny(11, 15))])
    times = wall(found, NEW_YORK)
    assert [t for t in ["09:30", "10:00", "10:30", "11:00", "11:30"] if t in times] == ["09:30", "11:30"]
    assert len(found) == 13


def test_back_to_back_bookings_leave_the_exact_gap_bookable():
    busy = [(ny(10), ny(10, 30)), (ny(11), ny(11, 30))]
    found = slots(provider(), [rule()], MONDAY, busy=busy)
    times = wall(found, NEW_YORK)
    assert {"09:30", "10:30", "11:30"} <= set(times)
    assert len(found) == 14


def test_a_booking_padded_by_buffers_fits_right_after_another_padded_span():
    spec = provider(buffer_after_minutes=30)
    found = slots(spec, [rule()], MONDAY, busy=[spec.padded(ny(10))])  # busy 10:00-11:00 local
    times = wall(found, NEW_YORK)
    assert "10:30" not in times
    assert "11:00" in times
    assert "09:30" not in times  # its own buffer_after would reach into the booking


# --- verdict_for_start --------------------------------------------------------------------------

VERDICT_SPEC = provider(min_notice_minutes=60, max_advance_days=30)
VERDICT_RULES = [rule(), rule(WEEKDAYS, time(12), time(13), kind=CLOSED)]
VERDICT_NOW = ny(9)  # Monday 2027-03-15 09:00 local
TUESDAY = date(2027, 3, 16)


def verdict(start: datetime, *, busy: list = (), blocked: list = ()) -> Verdict:
    return verdict_for_start(
        VERDICT_SPEC, VERDICT_RULES, busy=list(busy), blocked=list(blocked), start=start, now=VERDICT_NOW
    )


def test_verdict_bookable_for_a_free_slot_on_the_grid():
    assert verdict(ny(10, day=TUESDAY)) is Verdict.BOOKABLE


def test_verdict_in_past():
    assert verdict(ny(8, 30)) is Verdict.IN_PAST


def test_verdict_too_soon_inside_minimum_notice():
    assert verdict(ny(9, 30)) is Verdict.TOO_SOON


def test_verdict_beyond_horizon():
    assert verdict(ny(9, day=date(2027, 4, 14))) is Verdict.BOOKABLE  # exactly 30 days ahead
    assert verdict(ny(9, 30, day=date(2027, 4, 14))) is Verdict.BEYOND_HORIZON


def test_verdict_not_offered_off_the_grid():
    assert verdict(ny(10, 10, day=TUESDAY)) is Verdict.NOT_OFFERED


def test_verdict_not_offered_outside_open_time():
    assert verdict(ny(17, day=TUESDAY)) is Verdict.NOT_OFFERED
    assert verdict(ny(10, day=date(2027, 3, 20))) is Verdict.NOT_OFFERED  # Saturday


def test_verdict_not_offered_in_a_closed_window_or_blocked_time():
    assert verdict(ny(12, day=TUESDAY)) is Verdict.NOT_OFFERED
    assert verdict(ny(14, day=TUESDAY), blocked=[(ny(14, day=TUESDAY), ny(15, day=TUESDAY))]) is Verdict.NOT_OFFERED


def test_verdict_busy_when_a_live_booking_holds_the_slot():
    taken = (ny(10, day=TUESDAY), ny(10, 30, day=TUESDAY))
    assert verdict(ny(10, day=TUESDAY), busy=[taken]) is Verdict.BUSY
    assert verdict(ny(10, 30, day=TUESDAY), busy=[taken]) is Verdict.BOOKABLE


def test_every_listed_slot_is_bookable_by_verdict():
    found = slots(VERDICT_SPEC, VERDICT_RULES, MONDAY, TUESDAY, now=VERDICT_NOW)
    assert len(found) == 12 + 14  # Monday from 10:00 (notice), both days without lunch
    assert {verdict(s.start) for s in found} == {Verdict.BOOKABLE}


def test_slot_grid_does_not_depend_on_the_range_asked():
    # Open around the clock with 50-minute slots: 1440 is not a multiple of 50, so a grid stepped
    # from wherever the expansion happened to start would shift from one range to another.
    spec = provider(ZoneInfo("UTC"), slot=50)
    always_open = [rule(DAILY, time(0), time(0))]
    day = date(2027, 3, 2)

    alone = slots(spec, always_open, day)
    in_a_longer_range = [s for s in slots(spec, always_open, date(2027, 3, 1), day) if s.start.date() == day]

    assert alone == in_a_longer_range
    assert starts(alone) == every(utc(2027, 3, 2, 0, 0), utc(2027, 3, 2, 23, 20), 50)  # each day's grid from 00:00
    assert {verdict_for_start(spec, always_open, busy=[], blocked=[], start=s.start, now=NOW) for s in alone} == {
        Verdict.BOOKABLE
    }


def _brute_force_slots(spec: SlotSpec, day_opens: list, busy: list, blocked: list) -> list[Slot]:
    """docs/architecture.md §3 step 4, checked slot by slot against every span: no bisecting, no merging."""
    length, step = spec.slot_length, timedelta(minutes=spec.step_minutes)
    found = []
    for open_start, open_end in day_opens:
        start = open_start
        while start < open_end:
            end = start + length
            padded_from, padded_until = spec.padded(start)
            fits = end <= open_end and not any(b0 < end and start < b1 for b0, b1 in blocked)
            clear = not any(b0 < padded_until and padded_from < b1 for b0, b1 in busy)
            if fits and clear:
                found.append(Slot(start, end))
            start += step
    return found


@pytest.mark.parametrize("seed", range(40))
def test_slots_match_a_brute_force_check_of_every_grid_start(seed):
    import random

    rnd = random.Random(seed)
    spec = provider(
        ZoneInfo("UTC"),
        slot=rnd.choice([15, 30, 45, 60]),
        step=rnd.choice([5, 15, 30, 60]),
        buffer_before_minutes=rnd.choice([0, 0, 5, 10, 30]),
        buffer_after_minutes=rnd.choice([0, 0, 10, 15]),
    )
    first = date(2027, 3, 1)
    days = 5
    opens = [(utc(2027, 3, 1 + d, 8), utc(2027, 3, 1 + d, 18)) for d in range(days)]

    def random_spans(count: int) -> list:
        spans = []
        for _ in range(count):
            start = utc(2027, 3, 1, 7) + timedelta(minutes=rnd.randrange(0, days * 24 * 60, 5))
            spans.append((start, start + timedelta(minutes=rnd.choice([10, 30, 45, 90, 200]))))
        return spans

    busy, blocked = random_spans(rnd.randrange(0, 25)), random_spans(rnd.randrange(0, 6))
    found = slots(
        spec, [rule(DAILY, time(8), time(18))], first, first + timedelta(days=days - 1), busy=busy, blocked=blocked
    )
    assert found == _brute_force_slots(spec, opens, busy, blocked)
    assert found  # the random spans never cover five whole days


# --- the selector, against the database ---------------------------------------------------------

SELECTOR_NOW = utc(2027, 3, 1)


def make_provider_with_calendar() -> Provider:
    provider_row = ProviderFactory(
        timezone="America/New_York", buffer_before_minutes=10, buffer_after_minutes=5, min_notice_minutes=60
    )
    AvailabilityRuleFactory(provider=provider_row)
    AvailabilityRuleFactory(provider=provider_row, kind=CLOSED, start_time=time(12), end_time=time(13))
    AvailabilityRuleFactory(
        provider=provider_row,
        kind=CLOSED,
        rrule="FREQ=DAILY;COUNT=1",
        starts_on=date(2027, 3, 17),
        start_time=time(0),
        end_time=time(0),
    )
    AvailabilityRuleFactory(
        provider=provider_row, rrule="FREQ=MONTHLY;BYDAY=1SA", start_time=time(10), end_time=time(14)
    )
    BookingFactory(provider=provider_row, start_at=ny(10))
    BookingFactory(provider=provider_row, start_at=ny(14, day=TUESDAY), status=BookingStatus.PENDING)
    BookingFactory(provider=provider_row, start_at=ny(15, day=TUESDAY), status=BookingStatus.CANCELLED)
    BlockedTimeFactory(
        provider=provider_row, start_at=ny(9, day=date(2027, 3, 18)), end_at=ny(11, day=date(2027, 3, 18))
    )
    return Provider.objects.get(pk=provider_row.pk)


def engine_view_of(provider_row: Provider) -> tuple[SlotSpec, list[RuleSpec], list, list]:
    spec = SlotSpec(
        timezone=NEW_YORK,
        slot_minutes=30,
        step_minutes=30,
        buffer_before_minutes=10,
        buffer_after_minutes=5,
        min_notice_minutes=60,
        max_advance_days=3650,
    )
    rules = [
        rule(starts_on=date(2026, 1, 1)),
        rule(WEEKDAYS, time(12), time(13), kind=CLOSED, starts_on=date(2026, 1, 1)),
        rule("FREQ=DAILY;COUNT=1", time(0), time(0), kind=CLOSED, starts_on=date(2027, 3, 17)),
        rule("FREQ=MONTHLY;BYDAY=1SA", time(10), time(14), starts_on=date(2026, 1, 1)),
    ]
    busy = [spec.padded(ny(10)), spec.padded(ny(14, day=TUESDAY))]  # the cancelled booking frees its slot
    blocked = [(ny(9, day=date(2027, 3, 18)), ny(11, day=date(2027, 3, 18)))]
    return spec, rules, busy, blocked


@pytest.mark.django_db
@pytest.mark.parametrize("viewer_tz", [None, TOKYO])
def test_provider_slots_returns_what_the_engine_computes(viewer_tz):
    provider_row = make_provider_with_calendar()
    spec, rules, busy, blocked = engine_view_of(provider_row)
    first, last = date(2027, 3, 1), date(2027, 3, 21)

    got = provider_slots(
        provider=provider_row,
        service=service_of(provider_row),
        first=first,
        last=last,
        viewer_tz=viewer_tz,
        now=SELECTOR_NOW,
    )

    expected = slots(spec, rules, first, last, busy=busy, blocked=blocked, viewer_tz=viewer_tz, now=SELECTOR_NOW)
    assert got == expected
    got_starts = starts(got)
    assert ny(10) not in got_starts
    assert ny(14, day=TUESDAY) not in got_starts
    assert ny(15, day=TUESDAY) in got_starts
    assert ny(10, day=date(2027, 3, 18)) not in got_starts
    assert not any(s.start.astimezone(NEW_YORK).date() == date(2027, 3, 17) for s in got)
    assert datetime(2027, 3, 6, 15, 0, tzinfo=UTC) in got_starts  # first Saturday, 10:00 EST


@pytest.mark.django_db
@pytest.mark.parametrize("days", [1, 62])
def test_provider_slots_uses_three_queries_whatever_the_range(days, django_assert_max_num_queries):
    # Read as the slots API reads it (its availability version comes with the row), so a cache miss
    # costs only the engine's three reads.
    provider_row = Provider.objects.get(pk=make_provider_with_calendar().pk)
    first = date(2027, 3, 1)
    service = service_of(provider_row)
    with django_assert_max_num_queries(3):
        found = provider_slots(
            provider=provider_row,
            service=service,
            first=first,
            last=first + timedelta(days=days - 1),
            now=SELECTOR_NOW,
            provider_is_fresh=True,
        )
    assert found


# --- validation ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "FREQ=SOMETIMES",
        "",
        "   ",
        "FREQ=DAILY;BYHOUR=9",
        "DTSTART:20270101T090000\nRRULE:FREQ=DAILY",
        "BYDAY=MO",
        "FREQ=WEEKLY;BYDAY=XX",
        "every tuesday",
    ],
)
def test_validate_rrule_rejects_garbage(text):
    with pytest.raises(ValidationError):
        validate_rrule(text)


@pytest.mark.parametrize("text", [WEEKDAYS, "FREQ=MONTHLY;BYDAY=1SA", "FREQ=DAILY;COUNT=1", "RRULE:FREQ=DAILY"])
def test_validate_rrule_accepts_day_level_rules(text):
    validate_rrule(text)


@pytest.mark.django_db
def test_availability_rule_full_clean_reports_a_bad_rrule_under_its_field():
    bad = AvailabilityRule(
        provider=ProviderFactory(),
        rrule="FREQ=SOMETIMES",
        starts_on=date(2027, 1, 1),
        start_time=time(9),
        end_time=time(17),
    )
    with pytest.raises(ValidationError) as caught:
        bad.full_clean()
    assert "rrule" in caught.value.error_dict


def test_provider_rejects_an_unknown_zone_as_soon_as_it_is_assigned():
    # TimeZoneField's descriptor converts on assignment, so the bad value never reaches full_clean().
    with pytest.raises(ValidationError, match="Mars/Olympus"):
        Provider(name="Nowhere", slug="nowhere", timezone="Mars/Olympus")


@pytest.mark.django_db
def test_provider_full_clean_reports_an_unknown_zone_under_its_field():
    nowhere = ProviderFactory.build()
    nowhere.__dict__["timezone"] = "Mars/Olympus"  # as a raw value that skipped the field's descriptor
    with pytest.raises(ValidationError) as caught:
        nowhere.full_clean()
    assert "timezone" in caught.value.error_dict


def test_slots_between_takes_a_raw_utc_window():
    spec = provider()
    found = slots_between(spec, [rule()], busy=[], blocked=[], window=(ny(10), ny(11)), now=None)
    assert starts(found) == [ny(10), ny(10, 30)]
