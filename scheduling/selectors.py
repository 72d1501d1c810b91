"""Reads for the scheduling domain. Nothing here writes."""

import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from functools import cache
from zoneinfo import ZoneInfo

from django.db.models import F, OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce, Lower
from django.utils import timezone

from booking_site.sql import column_list, raw_first
from scheduling import availability, manage_links
from scheduling.availability import Interval, ProviderSpec, RuleSpec, Slot, Verdict
from scheduling.models import AvailabilityRule, BlockedTime, Booking, BookingStatus, Customer, Provider


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
    exclude_booking_id: int | None = None,
) -> list[Slot]:
    """Free slots starting on local dates [first, last] in `viewer_tz` (default: the provider's).

    Three queries whatever the range: rules, live bookings, blocked times. `exclude_booking_id`
    ignores one booking, as rescheduling it would (it is cancelled before the new time is held).
    """
    viewer_tz = viewer_tz or provider.timezone
    window = availability.local_dates_window(first, last, viewer_tz)
    return _free_slots(provider, window, now=now or timezone.now(), exclude_booking_id=exclude_booking_id)


def _free_slots(
    provider: Provider,
    window: Interval,
    *,
    now: datetime,
    exclude_booking_id: int | None = None,
    spec: ProviderSpec | None = None,
    rules: list[RuleSpec] | None = None,
) -> list[Slot]:
    """The engine over `window` with this provider's busy and blocked spans (plus rules and spec,
    unless the caller already has them): two or three queries."""
    return availability.slots_between(
        spec or provider_spec(provider),
        rules if rules is not None else provider_rules(provider=provider),
        busy=provider_busy(provider=provider, window=window, exclude_booking_id=exclude_booking_id),
        blocked=provider_blocked(provider=provider, window=window),
        window=window,
        now=now,
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


def customers_to_book_again(*, user) -> QuerySet[Customer]:
    """Customers who have booked one of the user's providers, each with the contact details given with
    the latest such booking: `booked_name`, `booked_email`, `booked_phone`, `booked_timezone`.

    A provider's staff never see the shared customer record (ADR 0009), which may hold what was typed
    for another provider; they are offered what was typed for a booking they manage. A superuser gets
    every customer, those who never booked with the record's own details.
    """
    scope = bookings_for_user(user=user)
    latest = scope.filter(customer=OuterRef("pk")).order_by("-created_at", "-pk")

    def booked(field: str):
        given = Subquery(latest.values(f"customer_{field}")[:1])
        return Coalesce(given, F(field)) if user.is_superuser else given

    customers = Customer.objects.annotate(**{f"booked_{f}": booked(f) for f in ("name", "email", "phone", "timezone")})
    if not user.is_superuser:
        customers = customers.filter(pk__in=scope.values("customer_id"))
    return customers.order_by("booked_name", "pk")


# --- customer pages ---------------------------------------------------------------------------


def active_providers() -> QuerySet[Provider]:
    return Provider.objects.filter(is_active=True).order_by("name")


def active_provider_by_slug(*, slug: str) -> Provider | None:
    return Provider.objects.filter(slug=slug, is_active=True).first()


def slot_verdict(
    *, provider: Provider, start: datetime, now: datetime | None = None, exclude_booking_id: int | None = None
) -> Verdict:
    """Whether `start` can be booked now, and if not why: the checks `booking_create` makes."""
    window = (start, start + timedelta(microseconds=1))
    return availability.verdict_for_start(
        provider_spec(provider),
        provider_rules(provider=provider),
        busy=provider_busy(provider=provider, window=window, exclude_booking_id=exclude_booking_id),
        blocked=provider_blocked(provider=provider, window=window),
        start=start,
        now=now or timezone.now(),
    )


@dataclass(frozen=True)
class ProviderForBooking:
    """A provider row, locked, with what a start's verdict needs from the database besides live bookings."""

    provider: Provider
    rules: list[RuleSpec]
    blocked: list[Interval]

    def verdict(self, *, start: datetime, now: datetime) -> Verdict:
        """Every check `slot_verdict` makes except overlap with live bookings: the caller's INSERT
        meets the `booking_no_overlap` constraint, which makes that check anyway and names the winner.
        Busy is the engine's last check, so skipping it changes no other verdict."""
        spec = provider_spec(self.provider)
        return availability.verdict_for_start(spec, self.rules, busy=(), blocked=self.blocked, start=start, now=now)


_PROVIDER_FOR_BOOKING_SQL = """
    SELECT {provider_columns},
        (SELECT coalesce(json_agg(json_build_array(
                    r.kind, r.rrule, r.starts_on, r.ends_on, r.start_time, r.end_time) ORDER BY r.id), '[]')
           FROM {rules} r WHERE r.provider_id = p.id) AS rules_json,
        (SELECT coalesce(json_agg(json_build_array(b.start_at, b.end_at) ORDER BY b.start_at), '[]')
           FROM {blocked} b
          WHERE b.provider_id = p.id
            AND b.start_at < %(start)s + make_interval(mins => p.slot_minutes + p.buffer_before_minutes
                                                                + p.buffer_after_minutes)
            AND b.end_at > %(start)s - make_interval(mins => p.slot_minutes + p.buffer_before_minutes
                                                              + p.buffer_after_minutes)) AS blocked_json
      FROM {providers} p
     WHERE p.id = %(provider_id)s
       FOR UPDATE OF p
"""


def provider_for_booking(*, provider_id: int, start: datetime) -> ProviderForBooking | None:
    """Lock the provider row (SELECT ... FOR UPDATE) and read its rules and the blocked times near
    `start`, in one statement: the booking path's only read before its INSERT.

    The blocked times are those `provider_blocked` would return for a window at `start`. None when
    there is no such provider. The caller must be inside a transaction.
    """
    provider = raw_first(Provider, _provider_for_booking_sql(), {"provider_id": provider_id, "start": start})
    if provider is None:
        return None
    rules = [
        RuleSpec(
            kind,
            rrule,
            date.fromisoformat(starts_on),
            date.fromisoformat(ends_on) if ends_on else None,
            time.fromisoformat(start_time),
            time.fromisoformat(end_time),
        )
        for kind, rrule, starts_on, ends_on, start_time, end_time in _json(provider.rules_json)
    ]
    blocked = [(datetime.fromisoformat(a), datetime.fromisoformat(b)) for a, b in _json(provider.blocked_json)]
    del provider.rules_json, provider.blocked_json
    return ProviderForBooking(provider=provider, rules=rules, blocked=blocked)


@cache
def _provider_for_booking_sql() -> str:
    return _PROVIDER_FOR_BOOKING_SQL.format(
        provider_columns=column_list(Provider, "p"),
        providers=Provider._meta.db_table,
        rules=AvailabilityRule._meta.db_table,
        blocked=BlockedTime._meta.db_table,
    )


def _json(value):
    # psycopg parses `json` columns itself; a driver set up to return text would hand over a string.
    return json.loads(value) if isinstance(value, str) else value


_SEARCH_SPANS = (timedelta(days=14), timedelta(days=60), timedelta(days=180), timedelta(days=400))


def provider_first_free_slot(
    *, provider: Provider, after: datetime, now: datetime | None = None, exclude_booking_id: int | None = None
) -> Slot | None:
    """The earliest free slot starting at or after `after`, within the booking horizon.

    Searches in widening windows: the usual case (a free slot within two weeks) is three queries.
    """
    now = now or timezone.now()
    spec, rules = provider_spec(provider), provider_rules(provider=provider)
    horizon_end = now + timedelta(days=provider.max_advance_days, microseconds=1)
    cursor, step = max(after, now), 0
    while cursor < horizon_end:
        window = (cursor, min(cursor + _SEARCH_SPANS[step], horizon_end))
        found = _free_slots(provider, window, now=now, exclude_booking_id=exclude_booking_id, spec=spec, rules=rules)
        if found:
            return found[0]
        cursor, step = window[1], min(step + 1, len(_SEARCH_SPANS) - 1)
    return None


def provider_nearest_slots(
    *,
    provider: Provider,
    around: datetime,
    count: int = 3,
    now: datetime | None = None,
    exclude_booking_id: int | None = None,
) -> list[Slot]:
    """Up to `count` free slots closest in time to `around`, either side, in time order.

    For "that time was just taken" offers. Looks two days back and a week ahead, then further ahead.
    """
    now = now or timezone.now()
    window = (around - timedelta(days=2), around + timedelta(days=7))
    found = [
        slot
        for slot in _free_slots(provider, window, now=now, exclude_booking_id=exclude_booking_id)
        if slot.start != around
    ]
    if not found:
        later = provider_first_free_slot(
            provider=provider, after=window[1], now=now, exclude_booking_id=exclude_booking_id
        )
        return [later] if later else []
    return sorted(sorted(found, key=lambda slot: abs(slot.start - around))[:count])


@dataclass(frozen=True)
class CancellationTerms:
    free_until: datetime  # a customer may cancel free of charge until this instant
    late_fee: Decimal  # what a customer's own cancellation costs after it


def cancellation_terms_for(
    *, provider: Provider, start: datetime, rescheduling: Booking | None = None
) -> CancellationTerms:
    """The terms `booking_create` (or `booking_reschedule`, which carries the old terms over) would snapshot."""
    if rescheduling is None:
        free_until = start - timedelta(hours=provider.free_cancel_hours)
        fee, price = provider.late_cancel_fee, provider.price
    else:
        free_until = start - (rescheduling.start_at - rescheduling.free_cancel_until)
        fee, price = rescheduling.late_cancel_fee, rescheduling.price
    return CancellationTerms(free_until=free_until, late_fee=min(fee, price))


def booking_cancellation_fee(*, booking: Booking, now: datetime | None = None) -> Decimal:
    """What the customer cancelling at `now` pays under the booking's policy snapshot (as `booking_cancel` charges)."""
    if (now or timezone.now()) <= booking.free_cancel_until:
        return Decimal("0.00")
    return min(booking.late_cancel_fee, booking.price)


_NO_SUCH_HASH = hashlib.sha256(b"no such booking").hexdigest()


def booking_by_manage_token(*, reference: str, token: str) -> Booking | None:
    """The booking this private manage link opens, or None.

    Two forms (docs/decisions/0010-manage-links.md): a signed token, valid while the booking's
    `manage_secret_version` is the one it was made with, and the random token of a booking made
    before signed links, compared as a hash with `hmac.compare_digest`. An unknown reference and a
    wrong token look the same to the caller.
    """
    reference = (reference or "").strip().upper()
    token = token or ""
    booking = None
    if 0 < len(reference) <= 16 and len(token) <= 256:
        booking = Booking.objects.select_related("provider").filter(reference=reference).first()
    if manage_links.is_signed(token):
        signed = manage_links.unsign(token)
        matches = signed is not None and booking is not None and signed == (booking.pk, booking.manage_secret_version)
        return booking if matches else None
    # An empty hash (a booking with signed links only, or old links revoked) matches no token.
    expected = (booking.manage_token_hash if booking is not None else "") or _NO_SUCH_HASH
    matches = hmac.compare_digest(expected, manage_links.hash_old_token(token))
    return booking if booking is not None and booking.manage_token_hash and matches else None


def upcoming_live_bookings_for_email(*, email: str, now: datetime | None = None) -> list[Booking]:
    """The live bookings not yet started of the customer with this email (case-insensitive), soonest first.

    The customer is matched on lower(email), so the lookup uses the customer_email_unique_ci index
    (`iexact` compiles to UPPER() and would scan the customer table on every anonymous request)."""
    customer = Customer.objects.annotate(email_lower=Lower("email")).filter(email_lower=(email or "").strip().lower())
    return list(
        Booking.objects.live()
        .filter(customer__in=customer.values("pk")[:1], start_at__gt=now or timezone.now())
        .select_related("provider", "customer")
        .order_by("start_at", "pk")
    )


def pending_requests_count(*, user) -> int:
    """Pending bookings (requests awaiting confirmation) of the providers a user may manage."""
    return bookings_for_user(user=user).filter(status=BookingStatus.PENDING).count()
