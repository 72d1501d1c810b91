"""The join form of the customer pages: who, which days (and hours) in the visitor's zone, which provider."""

from datetime import date, timedelta
from zoneinfo import ZoneInfo

from django import forms
from django.utils.translation import gettext_lazy as _

from scheduling.availability import local_dates_window
from scheduling.forms_public import BookingForm
from waitlist.services import LONGEST_WINDOW, Window

ANY = ""


class JoinForm(forms.Form):
    name = BookingForm.base_fields["name"]
    email = forms.EmailField(
        label=_("Email"),
        max_length=254,
        help_text=_("We email you here when a time is held for you."),
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    phone = BookingForm.base_fields["phone"]
    first = forms.DateField(label=_("From day"), widget=forms.DateInput(attrs={"type": "date"}))
    last = forms.DateField(
        label=_("To day (optional)"),
        required=False,
        help_text=_("Leave empty to wait for one day only."),
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    from_time = forms.TimeField(
        label=_("Not before (optional)"), required=False, widget=forms.TimeInput(attrs={"type": "time"})
    )
    to_time = forms.TimeField(
        label=_("Not after (optional)"), required=False, widget=forms.TimeInput(attrs={"type": "time"})
    )
    provider = forms.ChoiceField(label=_("With"), required=False)
    timezone = BookingForm.base_fields["timezone"]

    clean_name = BookingForm.clean_name
    clean_phone = BookingForm.clean_phone

    def __init__(self, *args, providers=(), **kwargs) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        self.providers = {p.slug: p for p in providers}
        if len(self.providers) > 1:
            self.fields["provider"].choices = [(ANY, _("Any available")), *((p.slug, p.name) for p in providers)]
        else:
            del self.fields["provider"]

    def clean(self):
        data = super().clean()
        first, last = data.get("first"), data.get("last") or data.get("first")
        if first and last:
            if last < first:
                self.add_error("last", _("The last day must not be before the first."))
            elif (last - first) + timedelta(days=1) > LONGEST_WINDOW:
                self.add_error("last", _("Wait for at most 92 days at a time."))
            data["last"] = last
        start, end = data.get("from_time"), data.get("to_time")
        if (start is None) != (end is None):
            self.add_error("to_time", _("Give both times of day, or neither."))
        elif start is not None and end <= start:
            self.add_error("to_time", _("The second time must be after the first."))
        return data

    def chosen_provider(self):
        return self.providers.get(self.cleaned_data.get("provider") or ANY)

    def window(self) -> Window:
        """The days asked for, from local midnight of the first to local midnight after the last, in
        the visitor's zone, as UTC instants (zoneinfo: a day is 23 or 25 hours across a DST change)."""
        data = self.cleaned_data
        start, end = local_dates_window(data["first"], data["last"], ZoneInfo(data["timezone"]))
        return Window(start=start, end=end, day_start=data.get("from_time"), day_end=data.get("to_time"))


def initial_days(query, *, today: date) -> dict:
    """`?first=` and `?last=` from a week page's link, not before today."""

    def parsed(name: str) -> date | None:
        try:
            return max(date.fromisoformat(query.get(name, "")), today)
        except ValueError:
            return None

    first = parsed("first") or today
    last = parsed("last")
    return {"first": first, "last": last if last and last > first else None}
