"""Reads for the provider console's dashboard (the admin index). Nothing here writes.

Every read is scoped to the providers a user manages (`selectors.bookings_for_user`,
`selectors.providers_for_user`) and costs a fixed number of queries whatever the number of bookings.
"""

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from calendars.selectors import bookings_overlapping_external_busy
from scheduling.models import LIVE_STATUSES, Booking, BookingStatus, CancelReason, Provider
from scheduling.selectors import bookings_for_user, providers_for_user

RECENT_CANCELLATIONS_DAYS = 7
RECENT_CANCELLATIONS_LIMIT = 20


@dataclass
class ProviderDays:
    """One provider's bookings on its own today and tomorrow (dates in its zone)."""

    provider: Provider
    today: date
    tomorrow: date
    bookings_today: list[Booking] = field(default_factory=list)
    bookings_tomorrow: list[Booking] = field(default_factory=list)


@dataclass
class Dashboard:
    pending: list[Booking]
    days: list[ProviderDays]
    cancellations: list[Booking]
    cancellations_since: datetime
    calendar_clashes: list[Booking] = field(default_factory=list)


def _with_related(bookings: QuerySet[Booking]) -> QuerySet[Booking]:
    return bookings.select_related("provider", "service")


def pending_requests(*, user) -> list[Booking]:
    """Requests awaiting confirmation, the hold running out first on top. One query."""
    scope = bookings_for_user(user=user).filter(status=BookingStatus.PENDING)
    return list(_with_related(scope).order_by("hold_expires_at", "start_at", "pk"))


def bookings_today_and_tomorrow(*, user, now: datetime | None = None) -> list[ProviderDays]:
    """Each active provider of the user's with its bookings (cancelled ones aside) starting on its
    own local today and tomorrow. Two queries.

    Local days of every zone (UTC-12 to UTC+14) fall inside one UTC window from a day before this
    UTC day to three days after it; each booking is then placed by its provider's date.
    """
    now = now or timezone.now()
    providers = list(providers_for_user(user=user).filter(is_active=True).order_by("name", "pk"))
    days = {}
    for provider in providers:
        today = now.astimezone(provider.timezone).date()
        days[provider.pk] = ProviderDays(provider=provider, today=today, tomorrow=today + timedelta(days=1))
    if not days:
        return []
    utc_day = datetime.combine(now.astimezone(UTC).date(), datetime.min.time(), tzinfo=UTC)
    rows = (
        _with_related(bookings_for_user(user=user))
        .filter(provider_id__in=days.keys(), start_at__gte=utc_day - timedelta(days=1))
        .filter(start_at__lt=utc_day + timedelta(days=3))
        .exclude(status=BookingStatus.CANCELLED)
        .order_by("start_at", "pk")
    )
    for booking in rows:
        entry = days[booking.provider_id]
        local = booking.start_at.astimezone(booking.provider.timezone).date()
        if local == entry.today:
            entry.bookings_today.append(booking)
        elif local == entry.tomorrow:
            entry.bookings_tomorrow.append(booking)
    return [days[p.pk] for p in providers]


def recent_cancellations(
    *, user, now: datetime | None = None, days: int = RECENT_CANCELLATIONS_DAYS, limit: int = RECENT_CANCELLATIONS_LIMIT
) -> list[Booking]:
    """Bookings cancelled in the last `days` days, newest first. One query.

    A booking moved to another time is cancelled with reason "rescheduled"; it is not lost, so it
    is left out.
    """
    since = (now or timezone.now()) - timedelta(days=days)
    scope = (
        bookings_for_user(user=user)
        .filter(status=BookingStatus.CANCELLED, cancelled_at__gte=since)
        .exclude(cancel_reason=CancelReason.RESCHEDULED)
    )
    return list(_with_related(scope).order_by("-cancelled_at", "-pk")[:limit])


CALENDAR_CLASHES_LIMIT = 20


def calendar_clashes(*, user, now: datetime | None = None, limit: int = CALENDAR_CLASHES_LIMIT) -> list[Booking]:
    """Upcoming live bookings that an event imported from the provider's own calendar overlaps,
    soonest first (docs/decisions/0015-calendar-sync.md: imported busy time never cancels a booking,
    so staff must see them). One query."""
    scope = bookings_overlapping_external_busy(provider_ids=providers_for_user(user=user).values("pk"), now=now)
    return list(_with_related(scope)[:limit])


def console_dashboard(*, user, now: datetime | None = None) -> Dashboard:
    """What needs this user now: six queries whatever the number of bookings."""
    now = now or timezone.now()
    return Dashboard(
        pending=pending_requests(user=user),
        days=bookings_today_and_tomorrow(user=user, now=now),
        cancellations=recent_cancellations(user=user, now=now),
        cancellations_since=now - timedelta(days=RECENT_CANCELLATIONS_DAYS),
        calendar_clashes=calendar_clashes(user=user, now=now),
    )


def transitions_available(*, user, now: datetime | None = None) -> set[str]:
    """Which transitions some booking of the user's could take now: "confirm" (pending, hold
    running), "cancel" (live), "complete" and "no_show" (confirmed and started). One query."""
    now = now or timezone.now()
    counts = bookings_for_user(user=user).aggregate(
        confirm=Count("pk", filter=Q(status=BookingStatus.PENDING, hold_expires_at__gt=now)),
        cancel=Count("pk", filter=Q(status__in=LIVE_STATUSES)),
        complete=Count("pk", filter=Q(status=BookingStatus.CONFIRMED, start_at__lte=now)),
    )
    available = {name for name, count in counts.items() if count}
    return available | ({"no_show"} if "complete" in available else set())
