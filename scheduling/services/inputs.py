"""Checks on raw input shared by the services: they turn bad values into InvalidInput (HTTP 400)."""

from collections.abc import Sequence
from datetime import UTC, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext

from scheduling.errors import InvalidInput
from scheduling.models import Service

# in_supported_range is re-exported: input checks live here, the bounds with the rules that share them.
from scheduling.recurrence import EARLIEST_DATE, LATEST_DATE
from scheduling.recurrence import in_supported_range as in_supported_range

# Dates outside EARLIEST_DATE..LATEST_DATE (the rules' bounds too) are typing mistakes or probes, never
# bookings. Bounding them where input is parsed keeps date arithmetic and zone conversion (which overflow
# near years 1 and 9999) safe everywhere.
OUT_OF_RANGE = f"Use a date between {EARLIEST_DATE.year} and {LATEST_DATE.year}."

# IANA names in a geographic area, plus UTC. Fixed offsets (Etc/GMT+5) do not follow daylight saving,
# and the old aliases (US/Eastern, EST5EDT, Canada/Pacific) are kept in tzdata only for backward
# compatibility: an integrator sending one is told to use the canonical name.
ZONE_AREAS = frozenset(
    {"Africa", "America", "Antarctica", "Arctic", "Asia", "Atlantic", "Australia", "Europe", "Indian", "Pacific"}
)


def is_geographic_zone_name(name: str) -> bool:
    return name == "UTC" or ("/" in name and name.split("/", 1)[0] in ZONE_AREAS)


def require_aware(value: datetime, *, field: str) -> datetime:
    """An aware datetime, normalised to UTC. A naive one is refused, never guessed."""
    if not isinstance(value, datetime):
        raise InvalidInput("Enter a date and time in ISO 8601.", field=field)
    if value.tzinfo is None or value.utcoffset() is None:
        raise InvalidInput(
            "This time has no UTC offset. Send ISO 8601 with Z or an offset, e.g. 2027-03-15T13:00:00Z.",
            field=field,
        )
    return value.astimezone(UTC)


def require_zone(value: str | ZoneInfo, *, field: str) -> ZoneInfo:
    """An IANA zone; fixed offsets, old aliases and unknown names are refused."""
    if isinstance(value, ZoneInfo):
        return value
    name = str(value or "").strip()
    if not is_geographic_zone_name(name):
        raise InvalidInput(f"Unknown time zone {name!r}: use an IANA name such as Europe/Berlin.", field=field)
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise InvalidInput(f"Unknown time zone {name!r}: use an IANA name such as Europe/Berlin.", field=field) from exc


def full_clean_or_invalid(instance: models.Model, *, exclude: list[str] | None = None) -> None:
    """Run model validation and report it as InvalidInput with per-field messages."""
    try:
        instance.full_clean(exclude=exclude)
    except ValidationError as exc:
        raise InvalidInput.from_validation_error(exc) from exc


def sole_service(offered: Sequence[Service]) -> Service | None:
    """The service a provider named alone stands for: its only active one (`offered`), or None when it
    offers none. One that offers several is an InvalidInput naming `service` (say which one). The rule
    for every face that takes a provider alone: bookings, and the API's provider slots."""
    if len(offered) > 1:
        raise InvalidInput(gettext("This provider offers several services; say which one to book."), field="service")
    return offered[0] if offered else None
