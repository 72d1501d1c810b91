"""Weekly hours and exceptions through the services: concurrency and validation."""

from datetime import date, time

import pytest

from scheduling.services.hours import weekly_hours_set
from tests.concurrency import run_concurrently
from tests.factories import ProviderFactory

TODAY = date(2026, 12, 3)


def week(day: int) -> dict:
    return {d: [(time(9), time(17))] if d == day else [] for d in range(7)}


@pytest.mark.django_db(transaction=True)
def test_two_editors_saving_at_once_leave_one_week_not_both_merged():
    for _ in range(5):
        provider = ProviderFactory()
        results = run_concurrently(
            [lambda p=provider, day=day: weekly_hours_set(provider=p, hours=week(day), today=TODAY) for day in (1, 2)]
        )
        assert not any(isinstance(r, Exception) for r in results), results
        assert list(provider.rules.values_list("rrule", flat=True)) in (
            ["FREQ=WEEKLY;BYDAY=TU"],
            ["FREQ=WEEKLY;BYDAY=WE"],
        )
