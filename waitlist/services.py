"""Waitlist operations (docs/decisions/0014-waitlist.md). Views, the API, the console and tasks call these.

Offers are sequential, never a broadcast race: the first waiting entry in line whose window holds a
free slot gets that slot held for it, as an ordinary pending booking made by `booking_create`, so
the exclusion constraint gives a freed slot to one entry at a time. Offer-making for one service is
serialized by a transaction-level advisory lock, so line order holds between concurrent runs too:
two slots freeing at once go to the first two entries, one each.

Lock order: the service's advisory lock, waiting entry rows (SKIP LOCKED), then what booking_create
takes (customer, provider). Accepting or declining locks the offer's booking, then its entry; the
scheduling hooks (waitlist.hooks) lock an offered entry after its booking. No cycle.
"""

import logging
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext

from booking_site.sql import fetch_value
from notifications import webhook_events
from scheduling import selectors
from scheduling.errors import DomainError, InvalidInput, InvalidTransition, SlotNotOffered, SlotUnavailable
from scheduling.models import Booking, BookingStatus, CancelReason, Provider, Service
from scheduling.services import CustomerData, booking_cancel, booking_confirm, booking_create
from scheduling.services.bookings import _contact_details, _customer_for, booking_language
from scheduling.services.inputs import require_aware
from waitlist import messages
from waitlist.models import EntryStatus, WaitlistEntry

logger = logging.getLogger(__name__)

ADVISORY_NAMESPACE = 1_417  # pg_advisory_xact_lock(namespace, service id): offer-making for one service
LONGEST_WINDOW = timedelta(days=92)
BATCH = 200
OFFERS_PER_RUN = 20


class AlreadyWaiting(DomainError):
    code = "already_waiting"
    http_status = 409


# --- joining and leaving ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Window:
    start: datetime
    end: datetime
    day_start: time | None = None
    day_end: time | None = None


def waitlist_join(
    *,
    service_id: int,
    customer: CustomerData,
    window: Window,
    provider_id: int | None = None,
    language: str = "",
) -> WaitlistEntry:
    """Put a customer in line for a service (optionally one provider) within `window`.

    Refused: a window already over, longer than LONGEST_WINDOW, or with half a time-of-day range; a
    provider that does not offer the service; a second live entry of the same customer for the same
    service over an overlapping window (AlreadyWaiting, 409: the exclusion constraint decides). Joining
    writes the "you are on the list" message and looks for an offer at once after the commit, in
    case a time is free already.
    """
    start = require_aware(window.start, field="window_start")
    end = require_aware(window.end, field="window_end")
    now = timezone.now()
    if end <= start:
        raise InvalidInput(gettext("The window must end after it starts."), field="window_end")
    if end <= now:
        raise InvalidInput(gettext("This window is already over."), field="window_end")
    if end - start > LONGEST_WINDOW:
        raise InvalidInput(gettext("Wait for at most 92 days at a time."), field="window_end")
    if (window.day_start is None) != (window.day_end is None) or (
        window.day_start is not None and window.day_end <= window.day_start
    ):
        raise InvalidInput(gettext("Give both times of day, the second after the first."), field="day_end")
    service = Service.objects.filter(pk=service_id, is_active=True).first()
    if service is None:
        raise InvalidInput(gettext("No such service."), field="service")
    provider = None
    if provider_id is not None:
        provider = Provider.objects.filter(pk=provider_id, is_active=True, services=service).first()
        if provider is None:
            raise InvalidInput(gettext("This provider does not offer this service."), field="provider")
    contact = _contact_details(data=customer)
    try:
        with transaction.atomic():
            entry = WaitlistEntry.objects.create(
                service=service,
                provider=provider,
                customer=_customer_for(contact),
                customer_name=contact.name,
                customer_email=contact.email,
                customer_phone=contact.phone,
                customer_timezone=ZoneInfo(contact.timezone),
                language=booking_language(language),
                window_start=max(start, now),
                window_end=end,
                day_start=window.day_start,
                day_end=window.day_end,
            )
            messages.joined(entry=entry)
            from waitlist import tasks

            transaction.on_commit(lambda: tasks.kick_service_offers(service.pk), robust=True)
    except IntegrityError as exc:
        if "waitlist_one_live_entry_per_window" not in str(exc):
            raise
        raise AlreadyWaiting(gettext("You are already on the waitlist for this service at these times.")) from exc
    return entry


def waitlist_withdraw(*, entry_id: int) -> WaitlistEntry:
    """Leave the line. A live offer is declined with it (its hold released for the next in line).
    Locks the offer's booking (if any), then the entry."""
    _entry(entry_id)
    with transaction.atomic():
        entry = WaitlistEntry.objects.select_for_update().get(pk=entry_id)
        if entry.status == EntryStatus.WAITING:
            entry.status, entry.closed_at = EntryStatus.WITHDRAWN, timezone.now()
            entry.save(update_fields=["status", "closed_at", "updated_at"])
            return entry
        if entry.status != EntryStatus.OFFERED:
            raise InvalidTransition(gettext("This waitlist entry is no longer waiting."))
    # Offered meanwhile (or before): decline it, outside the entry's lock, which declining takes after
    # the booking's.
    return waitlist_decline(entry_id=entry_id)


# --- offers ----------------------------------------------------------------------------------------


def waitlist_accept(*, entry_id: int) -> Booking:
    """Take the offered time: the held booking is confirmed, or, for a service paid online, stays held
    for the customer to pay within the offer (the payment's success confirms it and books the entry).
    Refused once the offer has lapsed or been declined. Locks the booking, then the entry."""
    entry = _entry(entry_id)
    if entry.status != EntryStatus.OFFERED or entry.offer_booking_id is None:
        raise InvalidTransition(gettext("There is no open offer on this waitlist entry."))
    booking = entry.offer_booking
    if booking.status != BookingStatus.PENDING or booking.hold_expires_at <= timezone.now():
        raise InvalidTransition(gettext("This offer has expired."))
    if booking.service.takes_online_payment:
        return booking  # confirmed by its payment (payments.services), within the hold
    return booking_confirm(booking_id=booking.pk)  # books the entry (waitlist.hooks.booking_confirmed)


def waitlist_decline(*, entry_id: int) -> WaitlistEntry:
    """Turn the offered time down: the hold is released (cancel reason declined) and the slot offered
    to the next in line; the entry is closed (withdrawn)."""
    entry = _entry(entry_id)
    if entry.status != EntryStatus.OFFERED or entry.offer_booking_id is None:
        raise InvalidTransition(gettext("There is no open offer on this waitlist entry."))
    with transaction.atomic():
        # The booking, then the entry (the hooks' order), and both checked again under the locks: an
        # offer accepted or paid a moment ago must not be cancelled by a stale decline.
        booking = Booking.objects.select_for_update(of=("self",)).get(pk=entry.offer_booking_id)
        entry = WaitlistEntry.objects.select_for_update().get(pk=entry_id)
        if (
            entry.status != EntryStatus.OFFERED
            or entry.offer_booking_id != booking.pk
            or booking.status != BookingStatus.PENDING
        ):
            raise InvalidTransition(gettext("There is no open offer on this waitlist entry."))
        booking_cancel(booking_id=booking.pk, reason=CancelReason.DECLINED)
    entry.refresh_from_db()
    return entry


def _entry(entry_id: int) -> WaitlistEntry:
    entry = WaitlistEntry.objects.select_related("offer_booking__service").filter(pk=entry_id).first()
    if entry is None:
        raise InvalidInput(gettext("No such waitlist entry."), field="entry")
    return entry


def offers_make(
    *,
    service_id: int,
    now: datetime | None = None,
    limit: int = BATCH,
    freed: tuple[datetime, datetime] | None = None,
) -> int:
    """Offer free slots of a service to its waiting entries, first in line first; return how many.

    One transaction holding the service's advisory lock. Each entry in line order (up to `limit`)
    whose window holds a free slot gets the earliest one held for it, through booking_create in a
    savepoint; a slot lost to a concurrent booking (the constraint's verdict) is skipped and the next
    free one tried. An entry with nothing free keeps its place.

    `freed`, the span a change just freed (a cancelled booking's buffered span), narrows the search
    to the slots that could meet it and the entries whose window overlaps them: whatever was free
    before the change was offered already, or is left to the sweep, which searches everything.
    """
    now = now or timezone.now()
    made = 0
    with transaction.atomic():
        # Raw: advisory locks are functions the ORM has no call for.
        fetch_value("SELECT pg_advisory_xact_lock(%s, %s)", [ADVISORY_NAMESPACE, int(service_id)])
        service = Service.objects.filter(pk=service_id).first()
        if service is None or not service.is_active:
            return 0  # deleted or retired since the task was sent: nobody to offer it to
        waiting = WaitlistEntry.objects.filter(service_id=service_id, status=EntryStatus.WAITING, window_end__gt=now)
        around = None
        if freed is not None:
            around = _slots_meeting(service, freed)
            waiting = waiting.filter(window_start__lt=around[1] + service_length(service), window_end__gt=around[0])
        entries = list(waiting.select_for_update(skip_locked=True).order_by("created_at", "id")[:limit])
        if not entries:
            return 0
        providers = selectors.service_providers(service=service)
        span = (max(now, min(e.window_start for e in entries)), max(e.window_end for e in entries))
        if around is not None:
            span = (max(span[0], around[0]), min(span[1], around[1]))
            if span[1] <= span[0]:
                return 0
        free = selectors.free_starts_between(service=service, providers=providers, start=span[0], end=span[1], now=now)
        taken: set[tuple[datetime, int]] = set()
        for entry in entries:
            if _offer(entry, service=service, free=free, taken=taken, now=now):
                made += 1
                if made >= OFFERS_PER_RUN:
                    # Each offer keeps its provider's row locked until this transaction ends; a run that
                    # found many free times commits now and hands the rest of the line to the next run.
                    from waitlist import tasks

                    transaction.on_commit(lambda: tasks.kick_service_offers(service_id), robust=True)
                    break
    if made:
        logger.info("Made %d waitlist offers for service %s", made, service_id)
    return made


def service_length(service: Service) -> timedelta:
    return timedelta(minutes=service.duration_minutes)


def _slots_meeting(service: Service, freed: tuple[datetime, datetime]) -> tuple[datetime, datetime]:
    """The starts [first, last) of every slot of `service` whose buffered span meets `freed`."""
    before = timedelta(minutes=service.buffer_before_minutes)
    after = timedelta(minutes=service.buffer_after_minutes)
    return freed[0] - after - service_length(service) - before, freed[1] + before


def _fits(entry: WaitlistEntry, slot) -> bool:
    if not (entry.window_start <= slot.start and slot.end <= entry.window_end):
        return False
    if entry.provider_id is not None and entry.provider_id not in slot.provider_ids:
        return False
    if entry.day_start is None:
        return True
    local_start = slot.start.astimezone(entry.customer_timezone)
    local_end = slot.end.astimezone(entry.customer_timezone)
    # The time-of-day range never spans midnight (day_end > day_start), so the slot must not either.
    return local_start.date() == local_end.date() and entry.day_start <= local_start.time() <= local_end.time() <= (
        entry.day_end
    )


# An offer shorter than this is not worth sending: the customer could hardly read the email in time.
SHORTEST_OFFER_MINUTES = 5


def _offer_minutes(service: Service, slot, now: datetime) -> int:
    """The offer's hold: the service's minutes, but ending no later than the slot's booking notice, so
    an offer can never be accepted once its time is too close (or has begun)."""
    until_notice = (slot.start - timedelta(minutes=service.min_notice_minutes) - now).total_seconds() // 60
    return int(min(service.waitlist_offer_minutes, until_notice))


def _offer(entry: WaitlistEntry, *, service: Service, free: list, taken: set, now: datetime) -> bool:
    for slot in free:
        if not _fits(entry, slot):
            continue
        hold_minutes = _offer_minutes(service, slot, now)
        if hold_minutes < SHORTEST_OFFER_MINUTES:
            continue
        candidates = [entry.provider_id] if entry.provider_id else [p for p in slot.provider_ids]
        candidates = [p for p in candidates if (slot.start, p) not in taken]
        if not candidates:
            continue
        try:
            with transaction.atomic():
                booking = booking_create(
                    start=slot.start,
                    customer=CustomerData(
                        name=entry.customer_name,
                        email=entry.customer_email,
                        phone=entry.customer_phone,
                        timezone=str(entry.customer_timezone),
                    ),
                    service_id=service.pk,
                    # One provider free at this start (the usual freed slot): book it by name and skip
                    # the fair-order search among the service's providers, which has nobody to choose.
                    provider_id=entry.provider_id or (candidates[0] if len(candidates) == 1 else None),
                    language=entry.language,
                    hold_minutes=hold_minutes,
                )
        except (SlotUnavailable, SlotNotOffered, InvalidInput):
            for provider_id in candidates:
                taken.add((slot.start, provider_id))
            continue
        taken.add((slot.start, booking.provider_id))
        entry.status = EntryStatus.OFFERED
        entry.offer_booking = booking
        entry.offer_expires_at = booking.hold_expires_at
        entry.offers_made += 1
        entry.save(update_fields=["status", "offer_booking", "offer_expires_at", "offers_made", "updated_at"])
        messages.offered(entry=entry, booking=booking)
        webhook_events.waitlist_event(entry=entry, booking=booking, type_=webhook_events.WAITLIST_OFFERED)
        return True
    return False


def offers_make_for_provider(*, provider_id: int, freed: tuple[datetime, datetime] | None = None) -> int:
    """Offers for every service the provider offers that has someone waiting (near `freed`, if given)."""
    service_ids = (
        WaitlistEntry.objects.filter(status=EntryStatus.WAITING, service__providers=provider_id)
        .order_by()  # the line's default ordering would make DISTINCT per entry, not per service
        .values_list("service_id", flat=True)
        .distinct()
    )
    return sum(offers_make(service_id=service_id, freed=freed) for service_id in list(service_ids))


def waitlist_sweep(*, now: datetime | None = None) -> int:
    """Beat, every minute: close entries whose window has passed (the customer is told), then make every
    offer a lost task or a stopped worker missed. Returns how many offers were made."""
    now = now or timezone.now()
    with transaction.atomic():
        lapsed = list(
            WaitlistEntry.objects.select_for_update(skip_locked=True).filter(
                status=EntryStatus.WAITING, window_end__lte=now
            )[:BATCH]
        )
        for entry in lapsed:
            entry.status, entry.closed_at = EntryStatus.EXPIRED, now
            entry.save(update_fields=["status", "closed_at", "updated_at"])
            messages.window_passed(entry=entry)
    service_ids = (
        WaitlistEntry.objects.filter(status=EntryStatus.WAITING)
        .order_by()  # see offers_make_for_provider
        .values_list("service_id", flat=True)
        .distinct()
    )
    made = 0
    for service_id in list(service_ids):
        try:
            made += offers_make(service_id=service_id, now=now)
        except Exception:  # one service's failure must not stop the line of every other service
            logger.exception("Waitlist sweep: offers for service %s failed", service_id)
    return made
