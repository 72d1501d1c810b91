"""The agenda's time grid: hours down the side, one column per day, bookings and blocked times as
blocks of their length, opening hours shaded and the free gaps inside them labelled.

Positions are wall-clock minutes in the provider's zone, so a column reads like a paper diary (on a
day the clocks change, the repeated or skipped hour is drawn once). Pure: the agenda view passes the
day items it already has and the provider's open hours (`selectors.provider_open_hours`).
"""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from scheduling.admin.display import clock
from scheduling.availability import Interval, local_dates_window, merge, subtract

PX_PER_MINUTE = 0.8  # an hour is 48 px: a 30-minute booking still has room for its time and name
SHORTEST_GAP = timedelta(minutes=5)
DEFAULT_HOURS = (8, 18)  # shown even on an empty day, so a grid always looks like a working day


def _minute(value: datetime, zone: ZoneInfo, day: date) -> int:
    """Wall-clock minutes since the start of `day` (1440 for the next midnight)."""
    local = value.astimezone(zone)
    return 1440 if local.date() > day else local.hour * 60 + local.minute


def agenda_grid(*, days: list[dict], open_hours: list[Interval], zone: ZoneInfo) -> dict:
    """`days` as the agenda builds them (date, items with start, end, kind, dimmed, ...)."""
    columns = []
    for d in days:
        lo, hi = local_dates_window(d["date"], d["date"], zone)
        opened = [(max(a, lo), min(b, hi)) for a, b in open_hours if a < hi and b > lo]
        busy = merge(
            (max(i["start"], lo), min(i["end"], hi))
            for i in d["items"]
            if not i["dimmed"] and i["start"] < hi and i["end"] > lo
        )
        free = [(a, b) for a, b in subtract(opened, busy) if b - a >= SHORTEST_GAP]
        columns.append(
            {
                "day": d,
                "open": [(_minute(a, zone, d["date"]), _minute(b, zone, d["date"])) for a, b in opened],
                "free": [
                    (_minute(a, zone, d["date"]), _minute(b, zone, d["date"]), f"{clock(a, zone)}–{clock(b, zone)}")
                    for a, b in free
                ],
                "blocks": [
                    (_minute(max(i["start"], lo), zone, d["date"]), _minute(min(i["end"], hi), zone, d["date"]), i)
                    for i in d["items"]
                ],
            }
        )
    marks = [m for c in columns for span in (c["open"], c["blocks"]) for a, b, *_ in span for m in (a, b)]
    first_hour = min([DEFAULT_HOURS[0], *(m // 60 for m in marks)])
    last_hour = max([DEFAULT_HOURS[1], *(-(-m // 60) for m in marks)])
    top = first_hour * 60

    def box(a: int, b: int, minimum: int = 0) -> str:
        return f"top:{(a - top) * PX_PER_MINUTE:.0f}px;height:{max((b - a) * PX_PER_MINUTE, minimum):.0f}px"

    return {
        "height": f"{(last_hour - first_hour) * 60 * PX_PER_MINUTE:.0f}px",
        "hours": [{"label": f"{h:02d}:00", "style": box(h * 60, h * 60)} for h in range(first_hour, last_hour)],
        "columns": [
            {
                "day": c["day"],
                "open": [box(a, b) for a, b in c["open"]],
                "free": [{"label": label, "style": box(a, b)} for a, b, label in c["free"]],
                "blocks": [{"item": item, "style": box(a, b, 18)} for a, b, item in c["blocks"]],
            }
            for c in columns
        ],
    }
