"""How instants are shown to people: always in a named zone, never bare UTC."""

from datetime import datetime
from zoneinfo import ZoneInfo


def local_time(value: datetime, tz: ZoneInfo | str, *, with_date: bool = True) -> str:
    """e.g. "Mon 15 Mar 2027, 09:00 EDT (America/New_York)"."""
    zone = ZoneInfo(str(tz)) if not isinstance(tz, ZoneInfo) else tz
    local = value.astimezone(zone)
    pattern = "%a %d %b %Y, %H:%M %Z" if with_date else "%H:%M %Z"
    return f"{local.strftime(pattern)} ({zone.key})"
