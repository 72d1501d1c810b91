"""Reads for the scheduling domain. Nothing here writes."""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from django.db.models import QuerySet
from django.utils import timezone

from scheduling import availability
from scheduling.availability import Interval, ProviderSpec, RuleSpec, Slot
from scheduling.models import AvailabilityRule, Booking, Provider


def provider_spec(provider: Provider) -> ProviderSpec:
    return ProviderSpec(
        timezone=provider.timezone,
        slot_minutes=provider.slot_minutes,
        step_minutes=provider.step_minutes,
        buffer_before_minutes=provider.buffer_before_minutes,
        buffer_after_minutes=provider.buffer_after_minutes,
        min_notice_minutes=provider.min_notice_minutes,
        max_advance_days=provider.max_advance_days,
    )


def rule_spec(rule: AvailabilityRule) -> RuleSpec:
    return RuleSpec(
        kind=rule.kind,
        rrule=rule.rrule,
        starts_on=rule.starts_on,
        ends_on=rule.ends_on,
        start_time=rule.start_time,
        end_time=rule.end_time,
    )


def provider_rules(*, provider: Provider) -> list[RuleSpec]:
    fields = ("kind", "rrule", "starts_on", "ends_on", "start_time", "end_time")
    return [RuleSpec(*row) for row in AvailabilityRule.objects.filter(provider=provider).values_list(*fields)]


def provider_busy(*, provider: Provider, window: Interval, exclude_booking_id: int | None = None) -> list[Interval]:
    """Buffered spans of live bookings that could collide with a slot starting in `window`."""
    reach = _reach(provider)
    bookings = Booking.objects.live().filter(provider=provider).overlapping(window[0] - reach, window[1] + reach)
    if exclude_booking_id is not None:
        bookings = bookings.exclude(pk=exclude_booking_id)
    return list(bookings.values_list("blocked_from", "blocked_until"))


def provider_blocked(*, provider: Provider, window: Interval) -> list[Interval]:
    reach = _reach(provider)
    spans = provider.blocked_times.filter(start_at__lt=window[1] + reach, end_at__gt=window[0] - reach)
    return list(spans.values_list("start_at", "end_at"))


def _reach(provider: Provider) -> timedelta:
    # A slot starting inside the window can stretch past it by its length plus buffers.
    return timedelta(minutes=provider.slot_minutes + provider.buffer_before_minutes + provider.buffer_after_minutes)


def provider_slots(
    *,
    provider: Provider,
    first: date,
    last: date,
    viewer_tz: ZoneInfo | None = None,
    now: datetime | None = None,
) -> list[Slot]:
    """Free slots starting on local dates [first, last] in `viewer_tz` (default: the provider's).

    Three queries whatever the range: rules, live bookings, blocked times.
    """
    viewer_tz = viewer_tz or provider.timezone
    window = availability.local_dates_window(first, last, viewer_tz)
    return availability.slots_between(
        provider_spec(provider),
        provider_rules(provider=provider),
        busy=provider_busy(provider=provider, window=window),
        blocked=provider_blocked(provider=provider, window=window),
        window=window,
        now=now or timezone.now(),
    )


def live_booking_overlapping(*, provider_id: int, blocked_from: datetime, blocked_until: datetime) -> Booking | None:
    """The live booking whose buffered span meets [blocked_from, blocked_until), if any."""
    return (
        Booking.objects.live()
        .filter(provider_id=provider_id)
        .overlapping(blocked_from, blocked_until)
        .order_by("start_at")
        .first()
    )


def providers_for_user(*, user) -> QuerySet[Provider]:
    """Providers a user may manage: all for a superuser, those listing them in `staff` otherwise."""
    if not user or not user.is_authenticated:
        return Provider.objects.none()
    if user.is_superuser:
        return Provider.objects.all()
    return Provider.objects.filter(staff=user)


def bookings_for_user(*, user) -> QuerySet[Booking]:
    """Bookings of the providers a user may manage."""
    if not user or not user.is_authenticated:
        return Booking.objects.none()
    if user.is_superuser:
        return Booking.objects.all()
    return Booking.objects.filter(provider__staff=user)
