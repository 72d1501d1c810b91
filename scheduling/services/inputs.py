"""Checks on raw input shared by the services: they turn bad values into InvalidInput (HTTP 400)."""

from datetime import UTC, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.core.exceptions import ValidationError
from django.db import models

from scheduling.errors import InvalidInput


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
    """An IANA zone; fixed offsets and unknown names are refused."""
    if isinstance(value, ZoneInfo):
        return value
    name = str(value or "").strip()
    fixed_offset = name.startswith(("Etc/GMT+", "Etc/GMT-")) or ("/" not in name and name != "UTC")
    if not name or fixed_offset:
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
