"""Validation shared by model forms, the admin and the services."""

from datetime import date

from django.core.exceptions import ValidationError

from scheduling.recurrence import (
    EARLIEST_DATE,
    FIRST_OCCURRENCE_YEARS,
    LATEST_DATE,
    RuleRefused,
    compile_rule,
    first_occurrence,
    in_supported_range,
)

# Properties that would fight with the model's own fields (starts_on, start_time) or make the
# expansion depend on something other than the provider's wall clock.
_FORBIDDEN_RRULE_PARTS = (
    "DTSTART",
    "BYHOUR",
    "BYMINUTE",
    "BYSECOND",
    "FREQ=HOURLY",
    "FREQ=MINUTELY",
    "FREQ=SECONDLY",
    "RDATE",
    "EXDATE",
)


def validate_rrule(value: str, *, starts_on: date | None = None) -> None:
    """Reject anything `dateutil.rrule.rrulestr` cannot expand as a day-level recurrence."""
    text = (value or "").strip()
    if not text:
        raise ValidationError(
            "Enter a recurrence rule, for example FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR.", code="rrule_empty"
        )
    if text.upper().startswith("RRULE:"):
        text = text[6:]
    upper = text.upper()
    for part in _FORBIDDEN_RRULE_PARTS:
        if part in upper:
            raise ValidationError(
                f"{part.split('=')[0]} is not allowed in a rule: use starts_on, start_time and end_time instead.",
                code="rrule_forbidden_part",
            )
    if "FREQ=" not in upper:
        raise ValidationError("A recurrence rule needs FREQ, for example FREQ=DAILY.", code="rrule_no_freq")
    try:
        rule = compile_rule(text, starts_on or date(2000, 1, 1))
    except RuleRefused as exc:
        raise ValidationError(str(exc), code=exc.code) from exc
    if rule.until is not None and not EARLIEST_DATE.toordinal() <= rule.until <= LATEST_DATE.toordinal():
        raise ValidationError(
            f"UNTIL must lie between {EARLIEST_DATE.isoformat()} and {LATEST_DATE.isoformat()}.", code="rrule_until"
        )


def validate_rule_start(starts_on: date) -> None:
    """A first date the engine can count from: occurrences are numbered from it (COUNT, INTERVAL)."""
    if not in_supported_range(starts_on):
        raise ValidationError(
            f"The first date must lie between {EARLIEST_DATE.isoformat()} and {LATEST_DATE.isoformat()}.",
            code="starts_on_range",
        )


def validate_rule_occurs(value: str, *, starts_on: date) -> None:
    """Refuse a rule that never occurs in its first ten years (BYMONTH=2;BYMONTHDAY=30, an UNTIL before
    the first match): at best it offers nothing, at worst it is a typo. Call after `validate_rrule`."""
    rule = compile_rule(normalise_rrule(value), starts_on)
    if first_occurrence(rule, within_years=FIRST_OCCURRENCE_YEARS) is None:
        raise ValidationError(
            f"This rule has no occurrence in the {FIRST_OCCURRENCE_YEARS} years from its first date.",
            code="rrule_never_occurs",
        )


def normalise_rrule(value: str) -> str:
    text = (value or "").strip()
    if text.upper().startswith("RRULE:"):
        text = text[6:]
    return text.upper()
