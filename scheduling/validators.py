"""Validation shared by model forms, the admin and the services."""

from datetime import date, datetime

from dateutil.rrule import rrulestr
from django.core.exceptions import ValidationError

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
    dtstart = datetime.combine(starts_on or date(2000, 1, 1), datetime.min.time())
    try:
        rrulestr(text, dtstart=dtstart)
    except (ValueError, TypeError) as exc:
        raise ValidationError(f"Not a valid RFC 5545 recurrence rule: {exc}", code="rrule_invalid") from exc


def normalise_rrule(value: str) -> str:
    text = (value or "").strip()
    if text.upper().startswith("RRULE:"):
        text = text[6:]
    return text.upper()
