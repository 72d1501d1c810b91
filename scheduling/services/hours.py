"""Availability without RRULE: weekly hours and the common exceptions, written as ordinary rules.

Everything goes through `availability_rule_create/update/delete`, so these rules validate and store
exactly like the ones typed as raw RRULEs (`scheduling/weekly_hours.py` says which rules the weekly
editor owns).
"""

from datetime import date, time

from django.db import transaction

from scheduling import weekly_hours
from scheduling.errors import InvalidInput
from scheduling.models import AvailabilityRule, Provider
from scheduling.services.providers import availability_rule_create, availability_rule_delete, availability_rule_update
from scheduling.weekly_hours import Hours

ALL_DAY = time(0)
CLOSED = AvailabilityRule.Kind.CLOSED


def weekly_hours_set(*, provider: Provider, hours: Hours, today: date) -> list[AvailabilityRule]:
    """Make the provider's weekly open rules say `hours`; every rule the editor does not own stays.

    One rule per distinct range, for all the days that share it. A rule already saying a wanted range
    is kept as is; others are rewritten in place, deleted, or created starting `today`.

    Locks the provider row (SELECT ... FOR UPDATE) for the transaction: two people saving the editor at
    once would otherwise each keep the rules the other is deleting and leave both weeks merged.
    """
    for day, ranges in hours.items():
        for start, end in ranges:
            if not weekly_hours.ends_after(start, end):
                raise InvalidInput(f"{start:%H:%M}–{end:%H:%M} ends before it starts.", field=f"day_{day}")
        clash = weekly_hours.overlapping(ranges)
        if clash is not None:
            raise InvalidInput(f"{clash[0]:%H:%M}–{clash[1]:%H:%M} overlaps another range.", field=f"day_{day}")
    wanted = weekly_hours.grouped(hours)
    with transaction.atomic():
        Provider.objects.select_for_update().get(pk=provider.pk)
        _, managed, _ = weekly_hours.split_rules(provider.rules.order_by("pk"), today=today)
        kept = []
        for rule in managed:
            shape = weekly_hours.weekly_shape(rule, today=today)
            if shape in wanted:
                wanted.remove(shape)
                kept.append(rule)
        spare = [rule for rule in managed if rule not in kept]
        for rule, (days, start, end) in zip(spare, list(wanted), strict=False):
            availability_rule_update(
                rule=rule, rrule=weekly_hours.byday_rrule(days), start_time=start, end_time=end
            )  # fmt: skip
            kept.append(rule)
        for rule in spare[len(wanted) :]:
            availability_rule_delete(rule=rule)
        for days, start, end in wanted[len(spare) :]:
            kept.append(
                availability_rule_create(
                    provider=provider,
                    rrule=weekly_hours.byday_rrule(days),
                    starts_on=today,
                    start_time=start,
                    end_time=end,
                )
            )
    return kept


def holiday_create(*, provider: Provider, day: date, label: str = "") -> AvailabilityRule:
    """Closed for one whole day."""
    return availability_rule_create(
        provider=provider, kind=CLOSED, rrule="FREQ=DAILY;COUNT=1", starts_on=day,
        start_time=ALL_DAY, end_time=ALL_DAY, label=label or "Holiday",
    )  # fmt: skip


def vacation_create(*, provider: Provider, first: date, last: date, label: str = "") -> AvailabilityRule:
    """Closed for whole days, `first` to `last` inclusive."""
    if last < first:
        raise InvalidInput("The last day cannot be before the first day.", field="last")
    return availability_rule_create(
        provider=provider, kind=CLOSED, rrule="FREQ=DAILY", starts_on=first, ends_on=last,
        start_time=ALL_DAY, end_time=ALL_DAY, label=label or "Vacation",
    )  # fmt: skip


def recurring_break_create(
    *, provider: Provider, days: set[int], start: time, end: time, starts_on: date, label: str = ""
) -> AvailabilityRule:
    """Closed every week on `days` between `start` and `end` (a lunch break)."""
    if not days:
        raise InvalidInput("Choose at least one weekday.", field="days")
    if not weekly_hours.ends_after(start, end):
        raise InvalidInput("The break must end after it starts.", field="end")
    return availability_rule_create(
        provider=provider, kind=CLOSED, rrule=weekly_hours.byday_rrule(days), starts_on=starts_on,
        start_time=start, end_time=end, label=label or "Break",
    )  # fmt: skip
