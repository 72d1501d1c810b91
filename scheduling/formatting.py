"""How instants are shown to people: always in a named zone, never bare UTC."""

from datetime import datetime
from zoneinfo import ZoneInfo


def as_zone(tz: ZoneInfo | str) -> ZoneInfo:
    return tz if isinstance(tz, ZoneInfo) else ZoneInfo(str(tz))


def local_time(value: datetime, tz: ZoneInfo | str, *, with_date: bool = True) -> str:
    """e.g. "Mon 15 Mar 2027, 09:00 EDT (America/New_York)"."""
    zone = as_zone(tz)
    local = value.astimezone(zone)
    pattern = "%a %d %b %Y, %H:%M %Z" if with_date else "%H:%M %Z"
    return f"{local.strftime(pattern)} ({zone.key})"


def duration(minutes: int) -> str:
    """A whole number of days, hours or minutes, as a person says it: "1 day", "36 hours", "90 minutes"."""
    count, unit = minutes, "minute"
    for name, size in (("day", 1440), ("hour", 60)):
        if minutes >= size and minutes % size == 0:
            count, unit = minutes // size, name
            break
    return f"{count} {unit}" if count == 1 else f"{count} {unit}s"


def possessive(phrase: str) -> str:
    """ "1 hour" -> "1 hour's", "36 hours" -> "36 hours'", for "... notice"."""
    return f"{phrase}'" if phrase.endswith("s") else f"{phrase}'s"


def service_with_provider(service_name: str, provider_name: str) -> str:
    """What a booking is for, as messages and calendars name it: "Cleaning with Dr Ada".

    A provider's own service is named after it (what every provider made before services got), and
    "Dr Ada with Dr Ada" says nothing more than "Dr Ada".
    """
    return provider_name if is_own_service(service_name, provider_name) else f"{service_name} with {provider_name}"


def is_own_service(service_name: str, provider_name: str) -> bool:
    """Whether a service is named after its provider, as each provider's own service is (the one
    every provider made before services got): then the provider's name alone says what is booked."""
    return service_name.strip().casefold() == provider_name.strip().casefold()
