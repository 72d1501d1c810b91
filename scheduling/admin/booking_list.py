"""The bookings list's filters: which bookings (upcoming live ones unless asked otherwise) and which
days (one day or one week at a time, in the list's zone; see `BookingAdmin.changelist_zone`).

Both read the query string through `list_mode` and `chosen_days`, so the list's ordering and its
navigation bar agree with what the filters did.
"""

from dataclasses import dataclass
from datetime import date, timedelta
from zoneinfo import ZoneInfo

from django.contrib import admin
from django.utils import timezone

from calendars.selectors import bookings_overlapping_external_busy
from scheduling.availability import local_dates_window
from scheduling.models import BookingStatus
from scheduling.services.inputs import in_supported_range

UPCOMING, PAST, CANCELLED, ALL = "upcoming", "past", "cancelled", "all"
MODES = {
    UPCOMING: "Upcoming (pending and confirmed)",
    PAST: "Past",
    CANCELLED: "Cancelled",
    ALL: "All",
}
# Another filter narrows the list itself: then the default shows every status, not only upcoming ones.
NARROWING = ("q", "status__exact", "date", "when")


def list_mode(params) -> str:
    """Which bookings the list shows: the `show` asked for; by default the upcoming live ones, or all
    when a search, a status or a date already says what is wanted."""
    asked = params.get("show", "")
    if asked in MODES:
        return asked
    return ALL if any(params.get(name) for name in NARROWING) else UPCOMING


@dataclass(frozen=True)
class Days:
    first: date
    last: date
    span: str  # "day" or "week"

    @property
    def step(self) -> timedelta:
        return timedelta(days=7 if self.span == "week" else 1)


def chosen_days(params) -> Days | None:
    """The day, or the Monday-to-Sunday week around it, the list is narrowed to; None for no date."""
    try:
        day = date.fromisoformat(params.get("date", ""))
    except ValueError:
        return None
    if not in_supported_range(day):
        return None
    if params.get("span") == "week":
        first = day - timedelta(days=day.weekday())
        return Days(first, first + timedelta(days=6), "week")
    return Days(day, day, "day")


class ShowFilter(admin.SimpleListFilter):
    """Upcoming live bookings first; past, cancelled and all one click away (also as tabs above the list)."""

    title = "show"
    parameter_name = "show"

    def __init__(self, request, params, model, model_admin):
        self.mode = list_mode(request.GET)
        super().__init__(request, params, model, model_admin)

    def lookups(self, request, model_admin):
        return list(MODES.items())

    def choices(self, changelist):
        for mode, label in self.lookup_choices:
            yield {
                "selected": self.mode == mode,
                "query_string": changelist.get_query_string({self.parameter_name: mode}),
                "display": label,
            }

    def queryset(self, request, queryset):
        now = timezone.now()
        match self.mode:
            case "upcoming":
                return queryset.live().filter(end_at__gt=now)
            case "past":
                return queryset.filter(end_at__lte=now)
            case "cancelled":
                return queryset.filter(status=BookingStatus.CANCELLED)
        return queryset


class CalendarClashFilter(admin.SimpleListFilter):
    """Upcoming live bookings that an event imported from the provider's own calendar overlaps
    (docs/decisions/0015-calendar-sync.md): the dashboard links here."""

    title = "provider's calendar"
    parameter_name = "calendar"

    def lookups(self, request, model_admin):
        return [("clash", "Overlapped by an event")]

    def queryset(self, request, queryset):
        if self.value() != "clash":
            return queryset
        clashing = bookings_overlapping_external_busy(provider_ids=queryset.values("provider_id"))
        return queryset.filter(pk__in=clashing.values("pk"))


class DaysFilter(admin.ListFilter):
    """`?date=YYYY-MM-DD` (and `&span=week`): the bookings starting on those days in the active zone.
    The navigation bar above the list sets it; the sidebar only says what is chosen."""

    title = "days"
    template = "admin/scheduling/booking/days_filter.html"
    PARAMETERS = ("date", "span")

    def __init__(self, request, params, model, model_admin):
        super().__init__(request, params, model, model_admin)
        for name in self.PARAMETERS:
            if name in params:
                value = params.pop(name)
                self.used_parameters[name] = value[-1] if isinstance(value, list) else value
        self.days = chosen_days(self.used_parameters)

    def has_output(self):
        return True

    def expected_parameters(self):
        return list(self.PARAMETERS)

    def choices(self, changelist):
        if self.days is None:
            return []
        label = f"{self.days.first:%a %d %b %Y}" + (
            f" – {self.days.last:%a %d %b %Y}" if self.days.span == "week" else ""
        )
        return [
            {"selected": True, "display": label, "query_string": changelist.get_query_string()},
            {
                "selected": False,
                "display": "Any date",
                "query_string": changelist.get_query_string(remove=["date", "span"]),
            },
        ]

    def queryset(self, request, queryset):
        if self.days is None:
            return queryset
        lo, hi = local_dates_window(self.days.first, self.days.last, timezone.get_current_timezone())
        return queryset.filter(start_at__gte=lo, start_at__lt=hi)


def _query(request, **changes) -> str:
    """The list's current query string with some parameters set (or dropped when None), page reset."""
    query = request.GET.copy()
    for name in ("p", "e", *changes):
        query.pop(name, None)
    for name, value in changes.items():
        if value is not None:
            query[name] = value
    return f"?{query.urlencode()}"


def show_tabs(request) -> list[dict]:
    mode = list_mode(request.GET)
    return [
        {"label": label, "url": _query(request, show=name), "current": name == mode} for name, label in MODES.items()
    ]


def date_navigation(request, zone: ZoneInfo) -> dict:
    """Previous/next day or week, today, and a jump to any date: days in `zone`."""
    days = chosen_days(request.GET)
    today = timezone.now().astimezone(zone).date()
    span = days.span if days else "day"
    step = timedelta(days=7 if span == "week" else 1)
    anchor = days.first if days else today
    label = None
    if days is not None:
        label = f"{days.first:%a %d %b %Y}" + (f" – {days.last:%a %d %b %Y}" if span == "week" else "")
    return {
        "label": label,
        "span": span,
        "day": anchor,
        "previous_url": _query(request, date=str(anchor - step), span=span),
        "next_url": _query(request, date=str(anchor + step), span=span),
        "today_url": _query(request, date=str(today), span=span),
        "day_url": _query(request, date=str(anchor), span="day"),
        "week_url": _query(request, date=str(anchor), span="week"),
        "clear_url": _query(request, date=None, span=None) if days else None,
        "keep": [(k, v) for k, values in request.GET.lists() if k not in ("date", "span", "p", "e") for v in values],
    }
