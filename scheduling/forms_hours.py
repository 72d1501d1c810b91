"""Forms of the availability editor: weekly hours and the common exceptions, no RRULE typed.

Plain HTML inputs (type=time, type=date, checkboxes): they work without JavaScript and give a phone its
own pickers. The services (`scheduling/services/hours.py`) validate what the forms cannot.
"""

from django import forms

from scheduling.rule_text import WEEKDAY_NAMES, WORKING_DAYS
from scheduling.weekly_hours import Hours

WEEKDAY_CHOICES = [(str(n), name) for n, name in enumerate(WEEKDAY_NAMES)]


def _time_field(label: str) -> forms.TimeField:
    return forms.TimeField(
        label=label, required=False, widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M")
    )  # fmt: skip


def _date_field(label: str) -> forms.DateField:
    return forms.DateField(label=label, widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))


class WeeklyHoursForm(forms.Form):
    """Per weekday, `slots` pairs of From/To; a day with none filled in is closed.

    There is always at least one empty pair per day, so a further range is added by saving and
    filling in the new empty pair (no script needed).
    """

    prefix = "weekly"

    def __init__(self, *args, hours: Hours, **kwargs):
        self.slots = max(2, 1 + max(len(ranges) for ranges in hours.values()))
        initial = {}
        for day, ranges in hours.items():
            for n, (start, end) in enumerate(ranges):
                initial[f"d{day}_{n}_start"], initial[f"d{day}_{n}_end"] = start, end
        super().__init__(*args, initial=initial, **kwargs)
        for day, name in enumerate(WEEKDAY_NAMES):
            for n in range(self.slots):
                self.fields[f"d{day}_{n}_start"] = _time_field(f"{name}, range {n + 1}, from")
                self.fields[f"d{day}_{n}_end"] = _time_field(f"{name}, range {n + 1}, to")

    def days(self) -> list[dict]:
        """The grid, one row per weekday: [{"name", "errors", "ranges": [(from field, to field), ...]}]."""
        return [
            {
                "name": name,
                "key": f"day_{day}",
                "ranges": [(self[f"d{day}_{n}_start"], self[f"d{day}_{n}_end"]) for n in range(self.slots)],
            }
            for day, name in enumerate(WEEKDAY_NAMES)
        ]

    def clean(self):
        cleaned = super().clean()
        hours: Hours = {day: [] for day in range(7)}
        for day, name in enumerate(WEEKDAY_NAMES):
            for n in range(self.slots):
                start, end = cleaned.get(f"d{day}_{n}_start"), cleaned.get(f"d{day}_{n}_end")
                if start is None and end is None:
                    continue
                if start is None or end is None:
                    self.add_error(f"d{day}_{n}_start", f"{name}: give both a start and an end, or neither.")
                    continue
                hours[day].append((start, end))
        cleaned["hours"] = hours
        return cleaned


class HolidayForm(forms.Form):
    prefix = "holiday"
    day = _date_field("Date")
    label = forms.CharField(label="Name", required=False, max_length=100, widget=forms.TextInput({"size": 20}))


class VacationForm(forms.Form):
    prefix = "vacation"
    first = _date_field("From")
    last = _date_field("To (inclusive)")
    label = forms.CharField(label="Name", required=False, max_length=100, widget=forms.TextInput({"size": 20}))


class BreakForm(forms.Form):
    prefix = "break"
    days = forms.TypedMultipleChoiceField(
        label="On",
        choices=WEEKDAY_CHOICES,
        coerce=int,
        initial=[str(d) for d in sorted(WORKING_DAYS)],
        widget=forms.CheckboxSelectMultiple,
    )
    start = forms.TimeField(label="From", widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"))
    end = forms.TimeField(label="To", widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"))
    label = forms.CharField(label="Name", required=False, max_length=100, widget=forms.TextInput({"size": 20}))
