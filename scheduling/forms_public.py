"""Forms and input parsing for the customer pages (the admin has its own forms)."""

from datetime import UTC, datetime
from functools import lru_cache
from urllib.parse import unquote
from zoneinfo import available_timezones

from django import forms
from django.utils.translation import gettext_lazy as _

from scheduling.services.inputs import in_supported_range, is_geographic_zone_name

# As the API's booking `notes` (scheduling/api/serializers.py).
NOTES_MAX_LENGTH = 2000

# Zones most visitors are in, offered first; every other IANA zone follows alphabetically.
COMMON_ZONES = (
    "UTC",
    "America/New_York",
    "America/Chicago",
    "America/Denver",
    "America/Los_Angeles",
    "America/Sao_Paulo",
    "Europe/London",
    "Europe/Paris",
    "Europe/Berlin",
    "Africa/Lagos",
    "Africa/Johannesburg",
    "Asia/Dubai",
    "Asia/Kolkata",
    "Asia/Singapore",
    "Asia/Shanghai",
    "Asia/Tokyo",
    "Australia/Sydney",
    "Pacific/Auckland",
)


@lru_cache(maxsize=1)
def known_zones() -> frozenset[str]:
    """The zones the booking services accept (no fixed offsets, no old aliases such as US/Eastern)."""
    return frozenset(z for z in available_timezones() if is_geographic_zone_name(z))


def is_known_zone(name: str | None) -> bool:
    return bool(name) and name in known_zones()


def zone_from_cookie(raw: str | None) -> str | None:
    """The zone a `tz` cookie names (the browser percent-encodes the slash), if it is one we offer."""
    if not raw:
        return None
    name = unquote(raw.strip().strip('"'))
    return name if is_known_zone(name) else None


def _label(zone: str) -> str:
    return zone.replace("_", " ")


@lru_cache(maxsize=1)
def zone_choices() -> tuple:
    """Grouped choices for a <select>: common zones, then all of them sorted."""
    common = [(z, _label(z)) for z in COMMON_ZONES if z in known_zones()]
    everything = [(z, _label(z)) for z in sorted(known_zones())]
    return ((_("Common time zones"), common), (_("All time zones"), everything))


def parse_start(raw: str | None) -> datetime | None:
    """A `start` query value as an aware UTC datetime; None when it is not an ISO 8601 instant.

    A naive time is refused rather than guessed, and so is a year outside the supported range (near
    years 1 and 9999 the zone conversions overflow). A '+' that a query string turned into a space is put back.
    """
    if not raw or len(raw) > 64:
        return None
    text = raw.strip().replace(" ", "+")
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        return None
    if value.tzinfo is None or value.utcoffset() is None or not in_supported_range(value):
        return None
    return value.astimezone(UTC)


def utc_iso(value: datetime) -> str:
    """The wire form of an instant in links: 2027-03-15T13:00:00Z."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class BookingForm(forms.Form):
    name = forms.CharField(label=_("Your name"), max_length=200, widget=forms.TextInput(attrs={"autocomplete": "name"}))
    email = forms.EmailField(
        label=_("Email"),
        max_length=254,
        help_text=_("We send the confirmation and your private manage link here."),
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    phone = forms.CharField(
        label=_("Phone (optional)"),
        max_length=32,
        required=False,
        help_text=_("Only for reminders by text message."),
        widget=forms.TextInput(attrs={"autocomplete": "tel", "inputmode": "tel", "type": "tel"}),
    )
    timezone = forms.ChoiceField(
        label=_("Your time zone"),
        choices=zone_choices,
        help_text=_("Reminders and emails show times in this zone."),
    )
    notes = forms.CharField(
        label=_("Notes for the provider (optional)"),
        max_length=NOTES_MAX_LENGTH,
        required=False,
        help_text=_("Anything they should know beforehand."),
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)

    def clean_name(self) -> str:
        name = " ".join(self.cleaned_data["name"].split())
        if not name:
            raise forms.ValidationError(_("Enter your name."))
        return name

    def clean_phone(self) -> str:
        phone = self.cleaned_data["phone"].strip()
        if phone and not all(ch.isdigit() or ch in "+-(). " for ch in phone):
            raise forms.ValidationError(_("Use digits, spaces and + - ( ) only."))
        if phone and sum(ch.isdigit() for ch in phone) < 5:
            raise forms.ValidationError(_("This phone number looks too short."))
        return phone


class ZoneForm(forms.Form):
    tz = forms.ChoiceField(label=_("Time zone"), choices=zone_choices)


class CancelForm(forms.Form):
    note = forms.CharField(
        label=_("Reason for cancelling (optional)"),
        max_length=500,
        required=False,
        help_text=_("The provider sees this with your cancellation."),
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)

    def clean_note(self) -> str:
        return self.cleaned_data["note"].strip()


class LinksRequestForm(forms.Form):
    email = forms.EmailField(
        label=_("Your email address"),
        max_length=254,
        help_text=_("The address you booked with."),
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
