"""The availability page: weekly hours and exceptions written as ordinary rules, other rules left alone."""

from datetime import date, time, timedelta

import pytest
from django.utils import timezone

from scheduling.models import AvailabilityRule
from tests.factories import AvailabilityRuleFactory, ProviderFactory

pytestmark = pytest.mark.django_db

WEEKDAYS = range(5)


def editor_url(provider):
    return f"/admin/scheduling/provider/{provider.pk}/availability/"


def weekly_post(ranges_by_day: dict[int, list[tuple[str, str]]], slots: int = 2) -> dict:
    data = {"_weekly": "Save"}
    for day in range(7):
        for n in range(slots):
            start, end = ranges_by_day.get(day, [])[n] if n < len(ranges_by_day.get(day, [])) else ("", "")
            data[f"weekly-d{day}_{n}_start"], data[f"weekly-d{day}_{n}_end"] = start, end
    return data


def rules_of(provider, **filters):
    return sorted(
        (r.kind, r.rrule, r.start_time, r.end_time)
        for r in AvailabilityRule.objects.filter(provider=provider, **filters)
    )


@pytest.fixture
def clinic(db):
    return ProviderFactory(name="Quay Clinic", timezone="Europe/Berlin")


def test_saving_weekly_hours_groups_days_with_the_same_range_into_one_rule(as_superuser, clinic):
    hours = {day: [("09:00", "12:00"), ("13:00", "17:00")] for day in WEEKDAYS} | {5: [("10:00", "12:00")]}
    response = as_superuser.post(editor_url(clinic), weekly_post(hours))
    assert response.status_code == 302
    assert rules_of(clinic) == [
        ("open", "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR", time(9), time(12)),
        ("open", "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR", time(13), time(17)),
        ("open", "FREQ=WEEKLY;BYDAY=SA", time(10), time(12)),
    ]


def test_the_editor_shows_the_current_weekly_hours_from_the_rules(as_superuser, clinic):
    AvailabilityRuleFactory(provider=clinic, rrule="FREQ=WEEKLY;BYDAY=MO,WE", start_time=time(8), end_time=time(12))
    AvailabilityRuleFactory(provider=clinic, rrule="FREQ=WEEKLY;BYDAY=WE", start_time=time(14), end_time=time(18))
    body = as_superuser.get(editor_url(clinic)).content.decode()
    assert 'name="weekly-d0_0_start" value="08:00"' in body and 'name="weekly-d0_0_end" value="12:00"' in body
    assert 'name="weekly-d2_1_start" value="14:00"' in body and 'name="weekly-d2_1_end" value="18:00"' in body
    assert 'name="weekly-d1_0_start" value=' not in body


def test_rules_the_editor_cannot_show_are_listed_as_other_rules_in_plain_words(as_superuser, clinic):
    AvailabilityRuleFactory(provider=clinic, rrule="FREQ=MONTHLY;BYDAY=1SA", start_time=time(10), end_time=time(14))
    AvailabilityRuleFactory(provider=clinic, rrule="FREQ=DAILY", start_time=time(22), end_time=time(6))
    body = as_superuser.get(editor_url(clinic)).content.decode()
    assert "First Saturday of each month, 10:00–14:00" in body
    assert "Daily, 22:00–06:00 (overnight)" in body


def test_saving_weekly_hours_leaves_every_other_rule_alone(as_superuser, clinic):
    monthly = AvailabilityRuleFactory(provider=clinic, rrule="FREQ=MONTHLY;BYDAY=1SA")
    holiday = AvailabilityRuleFactory(
        provider=clinic, kind="closed", rrule="FREQ=DAILY;COUNT=1", starts_on=date(2026, 12, 24),
        start_time=time(0), end_time=time(0),
    )  # fmt: skip
    ending = AvailabilityRuleFactory(provider=clinic, rrule="FREQ=WEEKLY;BYDAY=SU", ends_on=date(2030, 1, 1))
    AvailabilityRuleFactory(provider=clinic, rrule="FREQ=WEEKLY;BYDAY=MO")  # the editor's: replaced
    as_superuser.post(editor_url(clinic), weekly_post({1: [("10:00", "11:00")]}))
    assert set(clinic.rules.values_list("pk", flat=True)) >= {monthly.pk, holiday.pk, ending.pk}
    assert rules_of(clinic, kind="open", ends_on=None, rrule__startswith="FREQ=WEEKLY") == [
        ("open", "FREQ=WEEKLY;BYDAY=TU", time(10), time(11))
    ]


def test_a_rule_already_saying_a_wanted_range_is_kept(as_superuser, clinic):
    kept = AvailabilityRuleFactory(provider=clinic, rrule="FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR")
    hours = {day: [("09:00", "17:00")] for day in WEEKDAYS} | {5: [("09:00", "12:00")]}
    as_superuser.post(editor_url(clinic), weekly_post(hours))
    assert AvailabilityRule.objects.get(pk=kept.pk).rrule == "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR"
    assert clinic.rules.count() == 2


def test_emptying_every_day_deletes_the_weekly_rules(as_superuser, clinic):
    AvailabilityRuleFactory(provider=clinic, rrule="FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR")
    as_superuser.post(editor_url(clinic), weekly_post({}))
    assert clinic.rules.count() == 0


def test_overlapping_ranges_on_a_day_are_refused_and_nothing_changes(as_superuser, clinic):
    AvailabilityRuleFactory(provider=clinic, rrule="FREQ=WEEKLY;BYDAY=MO")
    response = as_superuser.post(editor_url(clinic), weekly_post({2: [("09:00", "12:00"), ("11:00", "13:00")]}))
    assert response.status_code == 200
    assert "Wednesday: 11:00–13:00 overlaps another range." in response.content.decode()
    assert rules_of(clinic) == [("open", "FREQ=WEEKLY;BYDAY=MO", time(9), time(17))]


def test_a_range_ending_before_it_starts_is_refused(as_superuser, clinic):
    response = as_superuser.post(editor_url(clinic), weekly_post({0: [("17:00", "09:00")]}))
    assert "Monday: 17:00–09:00 ends before it starts." in response.content.decode()
    assert clinic.rules.count() == 0


def test_a_range_with_only_a_start_is_refused(as_superuser, clinic):
    response = as_superuser.post(editor_url(clinic), weekly_post({0: [("09:00", "")]}))
    assert "Monday: give both a start and an end, or neither." in response.content.decode()
    assert clinic.rules.count() == 0


def test_a_range_may_end_at_midnight(as_superuser, clinic):
    as_superuser.post(editor_url(clinic), weekly_post({4: [("18:00", "00:00")]}))
    assert rules_of(clinic) == [("open", "FREQ=WEEKLY;BYDAY=FR", time(18), time(0))]


def test_new_weekly_rules_start_today_in_the_provider_zone(as_superuser, clinic):
    as_superuser.post(editor_url(clinic), weekly_post({0: [("09:00", "10:00")]}))
    assert clinic.rules.get().starts_on == timezone.now().astimezone(clinic.timezone).date()


def test_a_holiday_is_a_closed_whole_day_rule(as_superuser, clinic):
    response = as_superuser.post(
        editor_url(clinic), {"_holiday": "1", "holiday-day": "2026-12-24", "holiday-label": ""}
    )
    rule = clinic.rules.get()
    assert (rule.kind, rule.rrule, rule.starts_on, rule.start_time, rule.end_time, rule.label) == (
        "closed", "FREQ=DAILY;COUNT=1", date(2026, 12, 24), time(0), time(0), "Holiday",
    )  # fmt: skip
    assert response.status_code == 302


def test_a_vacation_is_a_closed_run_of_whole_days(as_superuser, clinic):
    as_superuser.post(
        editor_url(clinic), {"_vacation": "1", "vacation-first": "2027-08-01", "vacation-last": "2027-08-14"}
    )
    rule = clinic.rules.get()
    assert (rule.kind, rule.rrule, rule.starts_on, rule.ends_on) == (
        "closed",
        "FREQ=DAILY",
        date(2027, 8, 1),
        date(2027, 8, 14),
    )
    body = as_superuser.get(editor_url(clinic)).content.decode()
    assert "Closed 1–14 Aug 2027" in body


def test_a_vacation_ending_before_it_starts_is_refused(as_superuser, clinic):
    response = as_superuser.post(
        editor_url(clinic), {"_vacation": "1", "vacation-first": "2027-08-14", "vacation-last": "2027-08-01"}
    )
    assert "The last day cannot be before the first day." in response.content.decode()
    assert clinic.rules.count() == 0


def test_a_recurring_break_is_a_closed_weekly_rule(as_superuser, clinic):
    data = {"_break": "1", "break-days": ["0", "1", "2", "3", "4"], "break-start": "12:00", "break-end": "13:00"}
    as_superuser.post(editor_url(clinic), data)
    assert rules_of(clinic) == [("closed", "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR", time(12), time(13))]
    assert "Closed every weekday, 12:00–13:00" in as_superuser.get(editor_url(clinic)).content.decode()


def test_staff_of_another_provider_get_404(as_staff_b, provider_a):
    assert as_staff_b.get(editor_url(provider_a)).status_code == 404
    assert as_staff_b.post(editor_url(provider_a), weekly_post({})).status_code == 404


def test_the_providers_own_staff_can_save_weekly_hours(as_staff_a, provider_a):
    as_staff_a.post(editor_url(provider_a), weekly_post({0: [("09:00", "10:00")]}))
    assert rules_of(provider_a, rrule__startswith="FREQ=WEEKLY") == [
        ("open", "FREQ=WEEKLY;BYDAY=MO", time(9), time(10))
    ]


def test_the_provider_page_links_the_editor_and_titles_rules_in_plain_words(as_superuser, clinic):
    AvailabilityRuleFactory(provider=clinic, rrule="FREQ=WEEKLY;BYDAY=MO,WE", start_time=time(9), end_time=time(12))
    body = as_superuser.get(f"/admin/scheduling/provider/{clinic.pk}/change/").content.decode()
    assert editor_url(clinic) in body
    assert "Mondays and Wednesdays, 09:00–12:00" in body


def test_the_rule_list_shows_each_rule_in_plain_words(as_superuser, clinic):
    AvailabilityRuleFactory(
        provider=clinic, kind="closed", rrule="FREQ=DAILY", starts_on=date(2027, 8, 1), ends_on=date(2027, 8, 14),
        start_time=time(0), end_time=time(0),
    )  # fmt: skip
    body = as_superuser.get("/admin/scheduling/availabilityrule/").content.decode()
    assert "Closed 1–14 Aug 2027" in body


def test_a_weekly_rule_not_yet_begun_is_not_the_editors(as_superuser, clinic):
    later = timezone.now().date() + timedelta(days=30)
    AvailabilityRuleFactory(provider=clinic, rrule="FREQ=WEEKLY;BYDAY=MO", starts_on=later)
    as_superuser.post(editor_url(clinic), weekly_post({}))
    assert clinic.rules.count() == 1


def test_open_rules_the_grid_cannot_show_are_warned_about_above_it(as_superuser, clinic):
    AvailabilityRuleFactory(provider=clinic, rrule="FREQ=DAILY", start_time=time(9), end_time=time(17))
    AvailabilityRuleFactory(
        provider=clinic, kind="closed", rrule="FREQ=DAILY;COUNT=1", start_time=time(0), end_time=time(0)
    )
    body = as_superuser.get(editor_url(clinic)).content.decode()
    warning = body[body.index('data-testid="other-open-rules"') :]
    warning = warning[: warning.index("</ul>")]
    assert "Daily, 09:00–17:00" in warning
    assert "Closed" not in warning  # closed rules only take hours away: no surprise there


def test_no_warning_when_the_grid_shows_every_open_rule(as_superuser, clinic):
    AvailabilityRuleFactory(provider=clinic, rrule="FREQ=WEEKLY;BYDAY=MO", start_time=time(9), end_time=time(17))
    assert 'data-testid="other-open-rules"' not in as_superuser.get(editor_url(clinic)).content.decode()
