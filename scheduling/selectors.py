"""Reads for the scheduling domain. Nothing here writes."""

import hashlib
import hmac
import json
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from functools import cache
from typing import NamedTuple
from zoneinfo import ZoneInfo

from django.db import DEFAULT_DB_ALIAS
from django.db.models import Count, Exists, F, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce, Lower
from django.utils import timezone

from booking_site.sql import column_list, raw_first, raw_rows
from scheduling import availability, booking_events, manage_links, slot_cache
from scheduling.availability import Interval, RuleSpec, Slot, SlotSpec, Verdict
from scheduling.models import AvailabilityRule, BlockedTime, Booking, BookingStatus, Customer, Provider, Service


def slot_spec(*, provider: Provider, service: Service) -> SlotSpec:
    """The engine's view of one provider offering one service: the provider's zone, the service's rules."""
    return SlotSpec(
        timezone=provider.timezone,
        slot_minutes=service.duration_minutes,
        step_minutes=service.step_minutes,
        buffer_before_minutes=service.buffer_before_minutes,
        buffer_after_minutes=service.buffer_after_minutes,
        min_notice_minutes=service.min_notice_minutes,
        max_advance_days=service.max_advance_days,
    )


RULE_COLUMNS = ("kind", "rrule", "starts_on", "ends_on", "start_time", "end_time")


def provider_rules(*, provider: Provider) -> list[RuleSpec]:
    return [RuleSpec(*row) for row in AvailabilityRule.objects.filter(provider=provider).values_list(*RULE_COLUMNS)]


def provider_busy(
    *, provider: Provider, service: Service, window: Interval, exclude_booking_id: int | None = None
) -> list[Interval]:
    """Buffered spans of the provider's live bookings, of any service, that could collide with a
    slot of `service` starting in `window`."""
    return _busy_by_provider([provider.pk], service, window, exclude_booking_id=exclude_booking_id).get(provider.pk, [])


def provider_blocked(*, provider: Provider, service: Service, window: Interval) -> list[Interval]:
    return _blocked_by_provider([provider.pk], service, window).get(provider.pk, [])


def _busy_by_provider(
    provider_ids: list[int],
    service: Service,
    window: Interval,
    *,
    exclude_booking_id: int | None = None,
    using: str = DEFAULT_DB_ALIAS,
) -> dict[int, list[Interval]]:
    # A slot starting inside the window can stretch past it by its length plus buffers.
    reach = service.reach
    bookings = (
        Booking.objects.using(using)
        .live()
        .filter(provider_id__in=provider_ids)
        .overlapping(window[0] - reach, window[1] + reach)
    )
    if exclude_booking_id is not None:
        bookings = bookings.exclude(pk=exclude_booking_id)
    spans: dict[int, list[Interval]] = defaultdict(list)
    for provider_id, start, end in bookings.values_list("provider_id", "blocked_from", "blocked_until"):
        spans[provider_id].append((start, end))
    return spans


def _blocked_by_provider(
    provider_ids: list[int], service: Service, window: Interval, *, using: str = DEFAULT_DB_ALIAS
) -> dict[int, list[Interval]]:
    reach = service.reach
    rows = (
        BlockedTime.objects.using(using)
        .filter(provider_id__in=provider_ids, start_at__lt=window[1] + reach, end_at__gt=window[0] - reach)
        .values_list("provider_id", "start_at", "end_at")
    )
    spans: dict[int, list[Interval]] = defaultdict(list)
    for provider_id, start, end in rows:
        spans[provider_id].append((start, end))
    return spans


def _rules_by_provider(provider_ids: list[int], *, using: str = DEFAULT_DB_ALIAS) -> dict[int, list[RuleSpec]]:
    rules: dict[int, list[RuleSpec]] = defaultdict(list)
    rows = (
        AvailabilityRule.objects.using(using)
        .filter(provider_id__in=provider_ids)
        .values_list("provider_id", *RULE_COLUMNS)
    )
    for provider_id, *columns in rows:
        rules[provider_id].append(RuleSpec(*columns))
    return rules


def provider_open_hours(*, provider: Provider, first: date, last: date) -> list[availability.Interval]:
    """When the provider is open on its local dates [first, last]: open rules minus closed ones,
    merged and clipped to those days (bookings and blocked times not taken out). One query."""
    tz = provider.timezone
    lo, hi = availability.local_dates_window(first, last, tz)
    opened: list[availability.Interval] = []
    closed: list[availability.Interval] = []
    for rule in provider_rules(provider=provider):
        # From the day before: an occurrence that starts then may run past midnight into `first`.
        windows = availability.rule_windows(rule, first - timedelta(days=1), last, tz)
        (opened if rule.kind == availability.OPEN else closed).extend(windows)
    hours = availability.subtract(availability.merge(opened), closed)
    return [(max(a, lo), min(b, hi)) for a, b in hours if a < hi and b > lo]


def provider_slots(
    *,
    provider: Provider,
    service: Service,
    first: date,
    last: date,
    viewer_tz: ZoneInfo | None = None,
    now: datetime | None = None,
    exclude_booking_id: int | None = None,
    using: str = DEFAULT_DB_ALIAS,
    provider_is_fresh: bool = False,
) -> list[Slot]:
    """Free slots of `service` with `provider`, starting on local dates [first, last] in `viewer_tz`
    (default: the provider's).

    Three queries whatever the range: rules, live bookings (of every service of the provider), blocked
    times. `exclude_booking_id` ignores one booking, as rescheduling it would (it is cancelled before
    the new time is held). `using`: the database to read them from (`db_router.replica_for_reads()` for
    a listing that may lag; the booking itself re-checks on the primary).

    Served from the slots cache when the provider's availability version has not moved: then one
    query for that version, none when `provider_is_fresh` (the caller read the provider row from
    `using` in this request, after any change it made; scheduling/slot_cache.py).
    """
    window = availability.local_dates_window(first, last, viewer_tz or provider.timezone)
    found = _free_starts(
        service,
        [provider],
        window,
        now=now or timezone.now(),
        exclude_booking_id=exclude_booking_id,
        using=using,
        cached=True,
        providers_are_fresh=provider_is_fresh,
    )
    return [Slot(s.start, s.end) for s in found]


class ServiceSlot(NamedTuple):
    """A free start of a service, with the providers free at it (their ids, in the service's order)."""

    start: datetime
    end: datetime
    provider_ids: tuple[int, ...]


def service_providers(*, service: Service) -> list[Provider]:
    """The active providers offering `service`, by name."""
    return list(service.providers.filter(is_active=True).order_by("name", "pk"))


def service_slots(
    *,
    service: Service,
    first: date,
    last: date,
    viewer_tz: ZoneInfo,
    providers: list[Provider] | None = None,
    now: datetime | None = None,
    exclude_booking_id: int | None = None,
    using: str = DEFAULT_DB_ALIAS,
    providers_are_fresh: bool = False,
) -> list[ServiceSlot]:
    """Free starts of `service` on local dates [first, last] in `viewer_tz`: the union over its active
    providers (or over `providers`, when given), each start naming who is free at it.

    Four queries whatever the range and however many providers: the providers, then the rules, live
    bookings and blocked times of all of them at once. The engine then runs once per provider.
    `exclude_booking_id` ignores one booking, as rescheduling it would. `using` as for `provider_slots`.
    Each provider's list is cached as `provider_slots` caches it (`providers_are_fresh` likewise; the
    providers read here are).
    """
    if providers is None:
        providers, providers_are_fresh = service_providers(service=service), using == DEFAULT_DB_ALIAS
    window = availability.local_dates_window(first, last, viewer_tz)
    return _free_starts(
        service,
        providers,
        window,
        now=now or timezone.now(),
        exclude_booking_id=exclude_booking_id,
        using=using,
        cached=True,
        providers_are_fresh=providers_are_fresh,
    )


def _engine_inputs(
    service: Service,
    providers: list[Provider],
    window: Interval,
    *,
    exclude_booking_id: int | None = None,
    using: str = DEFAULT_DB_ALIAS,
):
    """Each provider with what the engine needs for `service` over `window`: (provider, spec, rules,
    busy, blocked). Three queries however many providers, on the database `using`."""
    ids = [p.pk for p in providers]
    rules = _rules_by_provider(ids, using=using)
    busy = _busy_by_provider(ids, service, window, exclude_booking_id=exclude_booking_id, using=using)
    blocked = _blocked_by_provider(ids, service, window, using=using)
    for p in providers:
        yield p, slot_spec(provider=p, service=service), rules.get(p.pk, []), busy.get(p.pk, []), blocked.get(p.pk, [])


def _free_starts(
    service: Service,
    providers: list[Provider],
    window: Interval,
    *,
    now: datetime,
    exclude_booking_id: int | None = None,
    using: str = DEFAULT_DB_ALIAS,
    cached: bool = False,
    providers_are_fresh: bool = False,
) -> list[ServiceSlot]:
    """The union of the providers' free starts of `service` in `window`, each naming who is free.

    `cached`: through the slots cache, for the windows of whole local dates that listings ask for
    (the searches' windows start at `now` and would never be asked for twice)."""
    if not providers:
        return []
    if cached and slot_cache.seconds() > 0:
        return _free_starts_cached(
            service,
            providers,
            window,
            now=now,
            exclude_booking_id=exclude_booking_id,
            using=using,
            fresh=providers_are_fresh,
        )
    free_at: dict[datetime, list[int]] = defaultdict(list)
    for provider, spec, rules, busy, blocked in _engine_inputs(
        service, providers, window, exclude_booking_id=exclude_booking_id, using=using
    ):
        for slot in availability.slots_between(spec, rules, busy=busy, blocked=blocked, window=window, now=now):
            free_at[slot.start].append(provider.pk)
    length = timedelta(minutes=service.duration_minutes)
    return [ServiceSlot(start, start + length, tuple(free_at[start])) for start in sorted(free_at)]


def _free_starts_cached(
    service: Service,
    providers: list[Provider],
    window: Interval,
    *,
    now: datetime,
    exclude_booking_id: int | None,
    using: str,
    fresh: bool,
) -> list[ServiceSlot]:
    """As `_free_starts`, from lists computed without `now` (cached), cut at `now` here: the engine
    keeps a start when now + notice <= start <= now + horizon, and its grid does not depend on `now`."""
    specs = {p.pk: slot_spec(provider=p, service=service) for p in providers}

    def compute(missing: list[Provider]) -> dict[int, list[datetime]]:
        return {
            p.pk: [
                s.start
                for s in availability.slots_between(spec, rules, busy=busy, blocked=blocked, window=window, now=None)
            ]
            for p, spec, rules, busy, blocked in _engine_inputs(
                service, missing, window, exclude_booking_id=exclude_booking_id, using=using
            )
        }

    starts = slot_cache.uncut_starts(
        service_id=service.pk,
        providers=providers,
        specs=specs,
        window=window,
        exclude_booking_id=exclude_booking_id,
        using=using,
        fresh=fresh,
        compute=compute,
    )
    lowest = now + timedelta(minutes=service.min_notice_minutes)
    highest = now + timedelta(days=service.max_advance_days, microseconds=1)
    free_at: dict[datetime, list[int]] = defaultdict(list)
    for provider in providers:
        for start in starts.get(provider.pk, ()):
            if lowest <= start < highest:
                free_at[start].append(provider.pk)
    length = timedelta(minutes=service.duration_minutes)
    return [ServiceSlot(start, start + length, tuple(free_at[start])) for start in sorted(free_at)]


def free_starts_between(
    *, service: Service, providers: list[Provider], start: datetime, end: datetime, now: datetime | None = None
) -> list[ServiceSlot]:
    """Free starts of `service` in [start, end) with any of `providers`, each naming who is free at it
    (the waitlist's offer search). Four queries, like service_slots."""
    return _free_starts(service, providers, (start, end), now=now or timezone.now())


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


def services_for_user(*, user) -> QuerySet[Service]:
    """Services a user may see in the console and API: all for a superuser; for staff, those offered
    by, or booked with, a provider they manage, and those nobody offers or has booked (a new service
    is everyone's to set up; one whose bookings are another's stays theirs when emptied).

    Whether they may change one is `service_managed_by`: a service shared with a provider they do
    not manage changes for that provider too."""
    if not user or not user.is_authenticated:
        return Service.objects.none()
    if user.is_superuser:
        return Service.objects.all()
    offered = Service.providers.through.objects.filter(service=OuterRef("pk"))
    booked = Booking.objects.filter(service=OuterRef("pk"))
    mine = (
        Q(Exists(offered.filter(provider__staff=user)))
        | Q(Exists(booked.filter(provider__staff=user)))
        | (~Q(Exists(offered)) & ~Q(Exists(booked)))
    )
    return Service.objects.filter(mine)


def service_managed_by(*, service: Service, user) -> bool:
    """Whether `user` may change `service`: a superuser always; staff when every provider offering it,
    and every provider it has been booked with, is one they manage."""
    if not user or not user.is_authenticated:
        return False
    if user.is_superuser:
        return True
    others_offer = service.providers.exclude(staff=user).exists()
    return not others_offer and not service.bookings.exclude(provider__staff=user).exists()


def bookings_for_user(*, user) -> QuerySet[Booking]:
    """Bookings of the providers a user may manage."""
    if not user or not user.is_authenticated:
        return Booking.objects.none()
    if user.is_superuser:
        return Booking.objects.all()
    return Booking.objects.filter(provider__staff=user)


def customers_to_book_again(*, user, search: str = "") -> QuerySet[Customer]:
    """Customers who have booked one of the user's providers, each with the contact details given with
    the latest such booking: `booked_name`, `booked_email`, `booked_phone`, `booked_timezone`.
    `search` keeps those whose booked name, email or phone contains it (case-insensitively).

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
    if search := search.strip():
        customers = customers.filter(
            Q(booked_name__icontains=search) | Q(booked_email__icontains=search) | Q(booked_phone__icontains=search)
        )
    return customers.order_by("booked_name", "pk")


# --- customer pages ---------------------------------------------------------------------------


def active_services() -> QuerySet[Service]:
    """Services customers can book: active, offered by at least one active provider."""
    offered = Service.providers.through.objects.filter(service=OuterRef("pk"), provider__is_active=True)
    return Service.objects.filter(is_active=True).filter(Exists(offered)).order_by("name", "pk")


def active_services_with_providers(*, query: str = "", kind: str = "") -> list[Service]:
    """`active_services()`, each with its active providers by name in `offered_by` (two queries),
    narrowed to those whose name, description or providers' names hold every word of `query`, and
    offered by a provider of `kind` when one is given."""
    providers = Prefetch("providers", queryset=active_providers(), to_attr="offered_by")
    return [
        s
        for s in active_services().prefetch_related(providers)
        if (not kind or any(p.kind == kind for p in s.offered_by))
        and _holds_every_word(query, s.name, s.description, *(p.name for p in s.offered_by))
    ]


def active_providers_matching(*, query: str = "", kind: str = "") -> list[Provider]:
    """The active providers whose name holds every word of `query`, of `kind` when one is given."""
    providers = active_providers().filter(kind=kind) if kind else active_providers()
    return [p for p in providers if _holds_every_word(query, p.name)]


def _holds_every_word(query: str, *texts: str) -> bool:
    haystack = " ".join(texts).casefold()
    return all(word in haystack for word in query.casefold().split())


def active_service_by_slug(*, slug: str) -> Service | None:
    return active_services().filter(slug=slug).first()


def services_offered_by(*, provider: Provider) -> list[Service]:
    """The active services `provider` offers, by name."""
    return list(provider.services.filter(is_active=True).order_by("name", "pk"))


# The order a provider's services are listed in, whose first is its default service.
DEFAULT_SERVICE_FIRST = ("-is_active", "pk")


def provider_default_service(*, provider: Provider) -> Service | None:
    """The service the provider's deprecated booking fields in API v1 stand for: the first active one
    it offers (by id), else the first by id. For a provider with one active service that is the one a
    booking by provider alone books; for a provider made before services, or through those fields, it
    is its own (docs/decisions/0011-services.md)."""
    return provider.services.order_by(*DEFAULT_SERVICE_FIRST).first()


# How far either side of a start the assignment rule counts bookings (docs/decisions/0011-services.md).
ASSIGNMENT_PERIOD = timedelta(days=14)


def assignment_candidates(*, service: Service, start: datetime) -> list[int]:
    """The ids of the active providers offering `service`, in the order "any available" tries them.

    The fair rule (ADR 0011): first those with no live booking meeting the slot's buffered span,
    then the fewest bookings of this service (not cancelled) starting within ASSIGNMENT_PERIOD
    either side of `start`, then the one whose latest booking of this service was made longest ago
    (never booked first), then the lowest id. One query. Being free here is only a hint for the
    order: the exclusion constraint decides, and the caller tries the next on losing a race.
    """
    span_from = start - timedelta(minutes=service.buffer_before_minutes)
    span_until = start + timedelta(minutes=service.duration_minutes + service.buffer_after_minutes)
    of_service = Booking.objects.filter(provider=OuterRef("pk"), service=service).exclude(
        status=BookingStatus.CANCELLED
    )
    counted = of_service.filter(start_at__gte=start - ASSIGNMENT_PERIOD, start_at__lt=start + ASSIGNMENT_PERIOD)
    clashing = Booking.objects.live().filter(provider=OuterRef("pk")).overlapping(span_from, span_until)
    rows = (
        service.providers.filter(is_active=True)
        .annotate(
            busy=Exists(clashing),
            nearby=Coalesce(Subquery(counted.values("provider").annotate(n=Count("pk")).values("n")[:1]), 0),
            last_booked=Subquery(of_service.order_by("-created_at").values("created_at")[:1]),
        )
        .order_by("busy", "nearby", F("last_booked").asc(nulls_first=True), "pk")
        .values_list("pk", flat=True)
    )
    return list(rows)


def active_providers() -> QuerySet[Provider]:
    return Provider.objects.filter(is_active=True).order_by("name")


def active_provider_by_slug(*, slug: str) -> Provider | None:
    return Provider.objects.filter(slug=slug, is_active=True).first()


def slot_verdict(
    *,
    service: Service,
    providers: list[Provider],
    start: datetime,
    now: datetime | None = None,
    exclude_booking_id: int | None = None,
) -> Verdict:
    """Whether `start` can be booked now with one of `providers` (one named, or "any available"), and
    if not why: the checks `booking_create` makes. Bookable when one can take it, busy when it is a
    slot of one who is booked, else the first provider's reason (the past, notice and horizon are the
    service's, the same for all). Three queries however many providers."""
    if not providers:
        return Verdict.NOT_OFFERED
    now = now or timezone.now()
    window = (start, start + timedelta(microseconds=1))
    verdicts = [
        availability.verdict_for_start(spec, rules, busy=busy, blocked=blocked, start=start, now=now)
        for _, spec, rules, busy, blocked in _engine_inputs(
            service, providers, window, exclude_booking_id=exclude_booking_id
        )
    ]
    for wanted in (Verdict.BOOKABLE, Verdict.BUSY):
        if wanted in verdicts:
            return wanted
    return verdicts[0]


@dataclass(frozen=True)
class ProviderForBooking:
    """A provider row, locked, with what a start's verdict for `service` needs from the database
    besides live bookings."""

    provider: Provider
    service: Service
    offers_service: bool
    rules: list[RuleSpec]
    blocked: list[Interval]
    # The followers of booking changes present for this provider (scheduling.booking_events.presence_sql).
    followers: frozenset[str] = frozenset()

    def verdict(self, *, start: datetime, now: datetime) -> Verdict:
        """Every check `slot_verdict` makes except overlap with live bookings: the caller's INSERT
        meets the `booking_no_overlap` constraint, which makes that check anyway and names the winner.
        Busy is the engine's last check, so skipping it changes no other verdict."""
        spec = slot_spec(provider=self.provider, service=self.service)
        return availability.verdict_for_start(spec, self.rules, busy=(), blocked=self.blocked, start=start, now=now)


_PROVIDER_FOR_BOOKING_SQL = """
    SELECT {provider_columns},
        EXISTS (SELECT 1 FROM {offers} o
                 WHERE o.provider_id = p.id AND o.service_id = %(service_id)s) AS offers_service,
        (SELECT coalesce(json_agg(json_build_array(
                    r.kind, r.rrule, r.starts_on, r.ends_on, r.start_time, r.end_time) ORDER BY r.id), '[]')
           FROM {rules} r WHERE r.provider_id = p.id) AS rules_json,
        (SELECT coalesce(json_agg(json_build_array(b.start_at, b.end_at) ORDER BY b.start_at), '[]')
           FROM {blocked} b
          WHERE b.provider_id = p.id
            AND b.start_at < %(start)s + make_interval(mins => %(reach_minutes)s)
            AND b.end_at > %(start)s - make_interval(mins => %(reach_minutes)s)) AS blocked_json{followers}
      FROM {providers} p
     WHERE p.id = %(provider_id)s
       FOR UPDATE OF p
"""


def provider_for_booking(*, provider_id: int, service: Service, start: datetime) -> ProviderForBooking | None:
    """Lock the provider row (SELECT ... FOR UPDATE) and read whether it offers `service`, its rules
    and the blocked times near `start`, in one statement: the booking path's only read of the
    provider before its INSERT.

    The blocked times are those `provider_blocked` would return for a window at `start`. None when
    there is no such provider. The caller must be inside a transaction.
    """
    params = {
        "provider_id": provider_id,
        "service_id": service.pk,
        "start": start,
        "reach_minutes": int(service.reach.total_seconds() // 60),
    }
    # Raw, kept for speed (one statement where the ORM needs several): A/B-measured, ADR 0007.
    provider = raw_first(Provider, _provider_for_booking_sql(), params)
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
    offers = bool(provider.offers_service)
    followers = frozenset(name for name in booking_events.FOLLOWERS if getattr(provider, f"follows_{name}"))
    del provider.rules_json, provider.blocked_json, provider.offers_service
    for name in booking_events.FOLLOWERS:
        delattr(provider, f"follows_{name}")
    return ProviderForBooking(
        provider=provider, service=service, offers_service=offers, rules=rules, blocked=blocked, followers=followers
    )


_SERVICE_BY_ID_SQL = "SELECT {columns} FROM {services} s WHERE s.id = %(service_id)s FOR KEY SHARE"
_SERVICES_OF_PROVIDER_SQL = """
    SELECT {columns} FROM {services} s JOIN {offers} o ON o.service_id = s.id
     WHERE o.provider_id = %(provider_id)s AND s.is_active
     ORDER BY s.id LIMIT 2
       FOR KEY SHARE OF s
"""


def services_for_booking(*, service_id: int | None = None, provider_id: int | None = None) -> list[Service]:
    """The service with `service_id`, or up to two active services `provider_id` offers (two tell
    "several" from "one"), each row held FOR KEY SHARE until the caller's transaction ends.

    The hold is the one the booking's foreign key takes anyway, taken when the service is read
    rather than at commit (the constraint is deferred): a concurrent `service_delete`, which locks
    the row FOR UPDATE, waits for the booking and then sees it, instead of deleting the service
    under it. The caller must be inside a transaction.
    """
    sql = _services_for_booking_sql(by_id=service_id is not None)
    # Raw: the ORM has no FOR KEY SHARE (select_for_update takes FOR UPDATE or FOR NO KEY UPDATE only).
    return raw_rows(Service, sql, {"service_id": service_id, "provider_id": provider_id})


@cache
def _services_for_booking_sql(*, by_id: bool) -> str:
    return (_SERVICE_BY_ID_SQL if by_id else _SERVICES_OF_PROVIDER_SQL).format(
        columns=column_list(Service, "s"),
        services=Service._meta.db_table,
        offers=Service.providers.through._meta.db_table,
    )


@cache
def _provider_for_booking_sql() -> str:
    return _PROVIDER_FOR_BOOKING_SQL.format(
        provider_columns=column_list(Provider, "p"),
        providers=Provider._meta.db_table,
        offers=Service.providers.through._meta.db_table,
        rules=AvailabilityRule._meta.db_table,
        blocked=BlockedTime._meta.db_table,
        followers="".join(
            f",\n        {sql} AS follows_{name}" for name, sql in booking_events.presence_sql("p.id").items()
        ),
    )


def _json(value):
    # psycopg parses `json` columns itself; a driver set up to return text would hand over a string.
    return json.loads(value) if isinstance(value, str) else value


_SEARCH_SPANS = (timedelta(days=14), timedelta(days=60), timedelta(days=180), timedelta(days=400))


def first_free_slot(
    *,
    service: Service,
    providers: list[Provider],
    after: datetime,
    now: datetime | None = None,
    exclude_booking_id: int | None = None,
    using: str = DEFAULT_DB_ALIAS,
) -> Slot | None:
    """The earliest start of `service` at or after `after` that one of `providers` has free (one named,
    or "any available"), within the service's horizon.

    Searches in widening windows: the usual case (a free slot within two weeks) is three queries.
    """
    now = now or timezone.now()
    horizon_end = now + timedelta(days=service.max_advance_days, microseconds=1)
    cursor, step = max(after, now), 0
    while cursor < horizon_end:
        window = (cursor, min(cursor + _SEARCH_SPANS[step], horizon_end))
        found = _free_starts(service, providers, window, now=now, exclude_booking_id=exclude_booking_id, using=using)
        if found:
            return Slot(found[0].start, found[0].end)
        cursor, step = window[1], min(step + 1, len(_SEARCH_SPANS) - 1)
    return None


def nearest_free_slots(
    *,
    service: Service,
    providers: list[Provider],
    around: datetime,
    count: int = 3,
    now: datetime | None = None,
    exclude_booking_id: int | None = None,
    using: str = DEFAULT_DB_ALIAS,
) -> list[Slot]:
    """Up to `count` free starts of `service` with one of `providers`, closest in time to `around`,
    either side, in time order.

    For "that time was just taken" offers. Looks two days back and a week ahead, then further ahead.
    """
    now = now or timezone.now()
    window = (around - timedelta(days=2), around + timedelta(days=7))
    found = [
        Slot(s.start, s.end)
        for s in _free_starts(service, providers, window, now=now, exclude_booking_id=exclude_booking_id, using=using)
        if s.start != around
    ]
    if not found:
        later = first_free_slot(
            service=service,
            providers=providers,
            after=window[1],
            now=now,
            exclude_booking_id=exclude_booking_id,
            using=using,
        )
        return [later] if later else []
    return sorted(sorted(found, key=lambda slot: abs(slot.start - around))[:count])


@dataclass(frozen=True)
class CancellationTerms:
    free_until: datetime  # a customer may cancel free of charge until this instant
    late_fee: Decimal  # what a customer's own cancellation costs after it


def cancellation_terms_for(
    *, service: Service, start: datetime, rescheduling: Booking | None = None
) -> CancellationTerms:
    """The terms `booking_create` (or `booking_reschedule`, which carries the old terms over) would snapshot."""
    if rescheduling is None:
        free_until = start - timedelta(hours=service.free_cancel_hours)
        fee, price = service.late_cancel_fee, service.price
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


def booking_by_signed_token(*, token: str) -> Booking | None:
    """The booking a signed manage token opens, or None (the public API, which has no reference to go
    by). The random tokens of bookings made before signed links are not accepted here: finding one
    would mean a lookup by its hash on every anonymous guess; their manage pages still work."""
    signed = manage_links.unsign(token) if manage_links.is_signed(token or "") else None
    if signed is None:
        return None
    booking_id, version = signed
    return (
        Booking.objects.select_related("provider", "service")
        .filter(pk=booking_id, manage_secret_version=version)
        .first()
    )


def upcoming_live_bookings_for_email(*, email: str, now: datetime | None = None) -> list[Booking]:
    """The live bookings not yet started of the customer with this email (case-insensitive), soonest first.

    The customer is matched on lower(email), so the lookup uses the customer_email_unique_ci index
    (`iexact` compiles to UPPER() and would scan the customer table on every anonymous request)."""
    customer = Customer.objects.annotate(email_lower=Lower("email")).filter(email_lower=(email or "").strip().lower())
    return list(
        Booking.objects.live()
        .filter(customer__in=customer.values("pk")[:1], start_at__gt=now or timezone.now())
        .select_related("provider", "service", "customer")
        .order_by("start_at", "pk")
    )
