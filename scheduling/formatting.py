"""How instants are shown to people: always in a named zone, never bare UTC, and in the reader's locale.

The locale is the active translation (django.utils.translation.get_language(): the visitor's on the pages,
`Booking.language` inside translation.override for a customer's messages, the site default for staff).
English is the site default and keeps a 24-hour clock and day-month dates ("Mon 15 Mar 2027, 09:00");
en-us reads "Mon, Mar 15, 2027, 9:00 AM"; German "Mo, 15. März 2027, 09:00". The zone's abbreviation and
name follow every time, whatever the language, because the abbreviation alone is ambiguous.
"""

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from django.utils import dateformat, translation
from django.utils.translation import get_language, gettext, ngettext


@dataclass(frozen=True)
class LocaleStyle:
    """Django date-format strings (django.utils.dateformat) for one locale. Names of days and months
    come from Django's own catalogues under the active language."""

    date: str  # with the weekday and year
    short_date: str  # weekday, day and month: day headings in a week
    time: str

    @property
    def twelve_hour(self) -> bool:
        return "A" in self.time or "a" in self.time


_DAY_MONTH = LocaleStyle(date="D j M Y", short_date="D j M", time="H:i")
_STYLES = {
    "en": LocaleStyle(date="D d M Y", short_date="D j M", time="H:i"),
    "en-gb": _DAY_MONTH,
    "en-us": LocaleStyle(date="D, M j, Y", short_date="D, M j", time="g:i A"),
    "de": LocaleStyle(date="D, j. F Y", short_date="D, j. M", time="H:i"),
}


def locale_style(language: str | None = None) -> LocaleStyle:
    """The style of `language` (default: the active one): its exact entry ("en-us"), else its base
    language's ("de-at" -> "de"), else day-month with a 24-hour clock, as most of the world writes."""
    code = (language or get_language() or "en").lower().replace("_", "-")
    return _STYLES.get(code) or _STYLES.get(code.split("-", 1)[0]) or _DAY_MONTH


def uses_12_hour_clock(language: str | None = None) -> bool:
    return locale_style(language).twelve_hour


def as_zone(tz: ZoneInfo | str) -> ZoneInfo:
    return tz if isinstance(tz, ZoneInfo) else ZoneInfo(str(tz))


def _format(value: datetime, pattern: str, language: str | None) -> str:
    # An explicit language names its days and months in that language, not the active one's.
    if language is None:
        return dateformat.format(value, pattern)
    with translation.override(language):
        return dateformat.format(value, pattern)


def clock(value: datetime, tz: ZoneInfo | str, *, language: str | None = None) -> str:
    """The wall-clock time alone, no zone: "09:00", "9:00 AM" (a slot button, a range's end)."""
    return _format(value.astimezone(as_zone(tz)), locale_style(language).time, language)


def local_date(value: datetime, tz: ZoneInfo | str, *, year: bool = True, language: str | None = None) -> str:
    """The day in the zone: "Mon 15 Mar 2027", "Mon, Mar 15" (year=False)."""
    style = locale_style(language)
    return _format(value.astimezone(as_zone(tz)), style.date if year else style.short_date, language)


def local_time(value: datetime, tz: ZoneInfo | str, *, with_date: bool = True, language: str | None = None) -> str:
    """e.g. "Mon 15 Mar 2027, 09:00 EDT (America/New_York)"; "9:00 AM EDT (America/New_York)" without
    the date in en-us."""
    zone = as_zone(tz)
    local = value.astimezone(zone)
    when = clock(local, zone, language=language)
    if with_date:
        when = f"{local_date(local, zone, language=language)}, {when}"
    return f"{when} {local.tzname()} ({zone.key})"


def duration(minutes: int) -> str:
    """A whole number of days, hours or minutes, as a person says it: "1 day", "36 hours", "90 minutes"."""
    if minutes >= 1440 and minutes % 1440 == 0:
        count = minutes // 1440
        return ngettext("%(count)d day", "%(count)d days", count) % {"count": count}
    if minutes >= 60 and minutes % 60 == 0:
        count = minutes // 60
        return ngettext("%(count)d hour", "%(count)d hours", count) % {"count": count}
    return ngettext("%(count)d minute", "%(count)d minutes", minutes) % {"count": minutes}


def service_with_provider(service_name: str, provider_name: str) -> str:
    """What a booking is for, as messages and calendars name it: "Cleaning with Dr Ada".

    A provider's own service is named after it (what every provider made before services got), and
    "Dr Ada with Dr Ada" says nothing more than "Dr Ada".
    """
    if is_own_service(service_name, provider_name):
        return provider_name
    return gettext("%(service)s with %(provider)s") % {"service": service_name, "provider": provider_name}


def is_own_service(service_name: str, provider_name: str) -> bool:
    """Whether a service is named after its provider, as each provider's own service is (the one
    every provider made before services got): then the provider's name alone says what is booked."""
    return service_name.strip().casefold() == provider_name.strip().casefold()
