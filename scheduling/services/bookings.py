"""Booking lifecycle services (docs/architecture.md §4).

Lock order, everywhere: the provider row first (one at a time), then booking rows. `booking_create` and
`booking_reschedule` take the provider lock; the other transitions lock only the booking row, so no
two services can wait on each other in a cycle.

Create (confirmed at once, or a request left pending), confirm, cancel, reschedule and hold expiry
call `notifications.services` inside their transaction: reminder and outbox rows commit or roll back
with the booking, and the sends are kicked only after the commit.
"""

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from functools import partial
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, OperationalError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext, gettext_lazy, ngettext_lazy
from django_fsm import TransitionNotAllowed, can_proceed

from booking_site.sql import column_list, insert_skipping_conflicts, raw_first
from notifications import services as notifications
from payments import ledger as payments
from scheduling import manage_links, selectors
from scheduling.availability import Verdict
from scheduling.booking_events import BookingEvent, booking_changed, cancellation_event
from scheduling.errors import BookingMoved, InvalidInput, InvalidTransition, SlotNotOffered, SlotUnavailable
from scheduling.formatting import duration
from scheduling.models import Booking, BookingStatus, CancelReason, Customer, Provider, Service
from scheduling.services.inputs import require_aware, require_zone, sole_service
from waitlist import hooks as waitlist

logger = logging.getLogger(__name__)

EXCLUSION_VIOLATION = "23P01"
DEADLOCK_DETECTED = "40P01"
NO_OVERLAP_CONSTRAINT = "booking_no_overlap"


@dataclass(frozen=True)
class CustomerData:
    name: str
    email: str
    phone: str = ""
    timezone: str = "UTC"


# --- customers ----------------------------------------------------------------------------------


def customer_get_or_create(*, data: CustomerData) -> Customer:
    """The customer with this email (case-insensitive), or a new one made from `data`.

    The customer is an identity, matched by email to recognise a returning customer. An existing
    one keeps their stored details: a booking form must not be able to rename somebody else's
    record by typing their email (the details typed go on the booking instead). One query for a
    known email, two for a new one.
    """
    return _customer_for(_contact_details(data=data))


def _customer_for(contact: CustomerData) -> Customer:
    existing = _customer_by_email(contact.email)
    if existing:
        return existing
    customer = Customer(
        name=contact.name, email=contact.email, phone=contact.phone, timezone=ZoneInfo(contact.timezone)
    )
    if insert_skipping_conflicts([customer], key="email"):  # no savepoint: a lost race aborts nothing
        return customer
    # Another request created the same email between our read and insert, and has committed.
    return _customer_by_email(contact.email)


def _contact_details(*, data: CustomerData) -> CustomerData:
    """The contact details given with a booking, checked and trimmed: an email, a name, an IANA zone."""
    email = (data.email or "").strip()
    try:
        validate_email(email)
    except ValidationError as exc:
        raise InvalidInput(gettext("Enter a valid email address."), field="customer.email") from exc
    zone = require_zone(data.timezone or "UTC", field="customer.timezone")
    name = (data.name or "").strip()
    if not name:
        raise InvalidInput(gettext("Enter the customer's name."), field="customer.name")
    return CustomerData(name=name, email=email, phone=(data.phone or "").strip(), timezone=zone.key)


def _contact_of(booking_or_customer: Booking | Customer) -> CustomerData:
    if isinstance(booking_or_customer, Customer):
        c = booking_or_customer
        return CustomerData(name=c.name, email=c.email, phone=c.phone, timezone=str(c.timezone))
    b = booking_or_customer
    return CustomerData(
        name=b.customer_name, email=b.customer_email, phone=b.customer_phone, timezone=str(b.customer_timezone)
    )


_CUSTOMER_BY_EMAIL_SQL = (
    f"SELECT {column_list(Customer, 'c')} FROM {Customer._meta.db_table} c WHERE lower(c.email) = lower(%s) LIMIT 1"
)


def _customer_by_email(email: str) -> Customer | None:
    # lower() on both sides, so the lookup uses the customer_email_unique_ci index (iexact would not).
    # Raw, kept for speed (compiling the ORM query cost more than running it): A/B-measured, ADR 0007.
    return raw_first(Customer, _CUSTOMER_BY_EMAIL_SQL, [email])


# --- creating -----------------------------------------------------------------------------------


def booking_create(
    *,
    start: datetime,
    customer: CustomerData | Customer,
    service_id: int | None = None,
    provider_id: int | None = None,
    notes: str = "",
    language: str = "",
    hold_minutes: int | None = None,
) -> Booking:
    """Hold a slot of a service for a customer; confirm it at once when the service needs no confirmation.

    `hold_minutes` holds it pending for that long whatever the service says, and tells nobody: a
    waitlist offer (waitlist.services), which the customer accepts or declines.

    Which provider and service (docs/decisions/0011-services.md):
    - `service_id` and `provider_id`: that provider, which must offer that service;
    - `provider_id` alone: the provider's only active service (InvalidInput naming `service` when it
      offers several);
    - `service_id` alone ("any available"): the first free provider in `selectors.assignment_candidates`
      order (the fair rule). Each candidate is tried in a savepoint; losing it to a concurrent booking
      moves on to the next, so a SlotUnavailable comes only when none is left.

    Locks the provider row (SELECT ... FOR UPDATE, in the same statement that reads its rules and
    blocked times), after the customer row is found or made, for the rest of the transaction (one
    provider at a time: a candidate lost is released with its savepoint): concurrent overlapping
    inserts against the GiST exclusion constraint otherwise deadlock (ADR 0002). Overlap with live
    bookings is left to that constraint, which is the only check that cannot race; its violation
    becomes SlotUnavailable naming the booking it collided with (ADR 0006). A deadlock (40P01) is
    retried once when this call owns the transaction.

    The booking keeps the contact details given with it (`CustomerData`); the customer found or
    made by their email is only the identity behind them and is never rewritten. A `Customer`
    itself books with its stored details (for callers that already hold the record).

    The returned booking carries `manage_token`, a signed manage link token (scheduling.manage_links);
    emails make their own from the booking id, so nothing secret is stored.

    `language` is the customer's (a code of settings.LANGUAGES; blank for the site default): their
    messages about the booking are written in it.
    """
    start = require_aware(start, field="start")
    language = booking_language(language)
    if service_id is None and provider_id is None:
        raise InvalidInput(gettext("Say which service to book."), field="service")
    attempts = 1 if connection.in_atomic_block else 2
    for attempt in range(1, attempts + 1):
        try:
            with transaction.atomic():
                # Inside the transaction, so a refused booking leaves no new customer behind.
                if isinstance(customer, Customer):
                    customer_obj, contact = customer, _contact_of(customer)
                else:
                    # The details given with this booking go on it, whatever the customer record
                    # holds from an earlier booking (possibly typed for another provider).
                    contact = _contact_details(data=customer)
                    customer_obj = _customer_for(contact)
                service = _bookable_service(service_id=service_id, provider_id=provider_id)
                # An online payment confirms the booking when it succeeds (payments.services), not now.
                pays_online = service.takes_online_payment
                confirm = not service.requires_confirmation and not pays_online and hold_minutes is None
                new = partial(
                    _book,
                    start=start,
                    customer=customer_obj,
                    contact=contact,
                    notes=notes,
                    confirm=confirm,
                    language=language,
                    hold_minutes=hold_minutes,
                )
                if provider_id is not None:
                    bookable = _lock_provider(provider_id=provider_id, service=service, start=start)
                    booking = new(bookable=bookable)
                else:
                    booking, bookable = _book_any_available(service=service, start=start, book=new)
                payments.booking_created(booking=booking)
                booking_changed(booking=booking, event=BookingEvent.CREATED, followers=bookable.followers)
                if confirm:
                    notifications.booking_confirmed(booking=booking)
                elif not pays_online and hold_minutes is None:
                    # A hold while the customer pays is told nothing: the checkout page shows it, and the
                    # payment's success sends the confirmation.
                    notifications.booking_requested(booking=booking)
                return booking
        except _Overlap as overlap:
            raise overlap.as_conflict() from overlap.__cause__
        except OperationalError as exc:
            if attempt < attempts and _sqlstate(exc) == DEADLOCK_DETECTED:
                logger.warning(
                    "booking_create deadlocked; retrying once (service %s, provider %s)", service_id, provider_id
                )
                continue
            raise
    raise AssertionError("unreachable")


def booking_language(code: str) -> str:
    """A language a booking can be made in: one of settings.LANGUAGES, exactly as listed there;
    blank means the site default."""
    if not code:
        return settings.LANGUAGE_CODE
    for listed, _name in settings.LANGUAGES:
        if listed.lower() == code.strip().lower():
            return listed
    choices = ", ".join(listed for listed, _name in settings.LANGUAGES)
    raise InvalidInput(f"Unknown language; use one of: {choices}.", field="language")


def _bookable_service(*, service_id: int | None, provider_id: int | None) -> Service:
    """The active service to book: the one named, or the only active one the provider offers. One
    query, which holds the service row against deletion until the booking commits (FOR KEY SHARE)."""
    if service_id is None:
        try:
            offered = selectors.services_for_booking(provider_id=int(provider_id))
        except (ValueError, TypeError) as exc:
            raise InvalidInput(gettext("No such provider."), field="provider") from exc
        service = sole_service(offered)
        if service is None:  # only on this refusal path: is there such a provider at all?
            known = Provider.objects.filter(pk=int(provider_id)).exists()
            message = gettext("This provider is not taking bookings.") if known else gettext("No such provider.")
            raise InvalidInput(message, field="provider")
        return service
    try:
        service = next(iter(selectors.services_for_booking(service_id=int(service_id))), None)
    except (ValueError, TypeError) as exc:
        raise InvalidInput(gettext("No such service."), field="service") from exc
    if service is None:
        raise InvalidInput(gettext("No such service."), field="service")
    if not service.is_active:
        raise InvalidInput(gettext("This service is not taking bookings."), field="service")
    return service


def _lock_provider(
    *, provider_id: int, service: Service, start: datetime, must_offer: bool = True
) -> selectors.ProviderForBooking:
    try:
        bookable = selectors.provider_for_booking(provider_id=int(provider_id), service=service, start=start)
    except (ValueError, TypeError) as exc:
        raise InvalidInput(gettext("No such provider."), field="provider") from exc
    if bookable is None:
        raise InvalidInput(gettext("No such provider."), field="provider")
    if not bookable.provider.is_active:
        raise InvalidInput(gettext("This provider is not taking bookings."), field="provider")
    if must_offer and not bookable.offers_service:
        raise InvalidInput(gettext("This provider does not offer this service."), field="provider")
    return bookable


def _book_any_available(*, service: Service, start: datetime, book) -> tuple[Booking, selectors.ProviderForBooking]:
    """Book `start` with the first provider of `service` that takes it, in the fair rule's order; returns
    the booking and its provider's lock read.

    Each candidate is tried inside a savepoint, so a candidate lost to a concurrent booking (the
    constraint's verdict), not open at `start`, or deactivated or taken off the service since the
    candidates were read, is rolled back, its row lock released, and the next one tried. When every
    candidate is lost, the last overlap leaves as `_Overlap` (a 409 naming a booking it met); when
    none was even open, the first "not offered" refusal leaves as it is.
    """
    candidates = selectors.assignment_candidates(service=service, start=start)
    if not candidates:
        raise InvalidInput(gettext("No provider offers this service at the moment."), field="service")
    refusal: SlotNotOffered | None = None
    lost: _Overlap | None = None
    for provider_id in candidates:
        try:
            with transaction.atomic():  # a savepoint: losing one candidate must not abort the request
                bookable = _lock_provider(provider_id=provider_id, service=service, start=start)
                return book(bookable=bookable), bookable
        except _Overlap as overlap:
            lost = overlap
        except SlotNotOffered as exc:
            refusal = refusal or exc
        except InvalidInput:
            continue  # this provider stopped offering the service since the candidates were read
    if lost is not None:
        raise lost
    raise refusal or InvalidInput(gettext("No provider offers this service at the moment."), field="service")


def _book(
    *,
    bookable: selectors.ProviderForBooking,
    start: datetime,
    customer: Customer,
    contact: CustomerData,
    notes: str,
    rescheduled_from: Booking | None = None,
    new_terms: bool = False,
    confirm: bool = False,
    language: str,
    hold_minutes: int | None = None,
) -> Booking:
    """Validate and insert a booking, pending or (with `confirm`) confirmed. The caller holds the
    provider lock and must let `_Overlap` leave its atomic block (see there).

    The booking starts pending and a confirmation runs the FSM transition in memory before the
    INSERT, so a booking confirmed at once costs one statement, not an INSERT and an UPDATE.
    """
    provider, service = bookable.provider, bookable.service
    now = timezone.now()
    _require_bookable(bookable=bookable, start=start, now=now)
    end = start + timedelta(minutes=service.duration_minutes)
    # The credit and the terms the customer agreed to carry over to a rescheduled time, unless the move
    # is to another service (`new_terms`): that one's price and terms are a new agreement.
    carried = None if new_terms else rescheduled_from
    source = carried or service
    terms = selectors.cancellation_terms_for(service=service, start=start, rescheduling=carried)
    booking = Booking(
        provider=provider,
        service=service,
        customer=customer,
        start_at=start,
        end_at=end,
        blocked_from=start - timedelta(minutes=service.buffer_before_minutes),
        blocked_until=end + timedelta(minutes=service.buffer_after_minutes),
        provider_timezone=provider.timezone,
        customer_name=contact.name,
        customer_email=contact.email,
        customer_phone=contact.phone,
        customer_timezone=ZoneInfo(contact.timezone),
        hold_expires_at=now + timedelta(minutes=hold_minutes or service.hold_minutes),
        price=source.price,
        currency=source.currency,
        late_cancel_fee=terms.late_fee,
        free_cancel_until=terms.free_until,
        notes=notes or "",
        language=language,
        rescheduled_from=rescheduled_from,
    )
    if confirm:
        _apply(booking, "confirm")
    _insert(booking)
    # A booking made just now has no successor; saying so spares the caller a query.
    Booking.rescheduled_to.related.set_cached_value(booking, None)
    booking.manage_token = manage_links.token_for(booking)
    return booking


# Whole sentences, so a translation can place the words its own way (German says "1 Tag Vorlauf",
# not "1 Tag's notice"); lazy because the table is built at import, before any language is active.
_VERDICT_MESSAGES = {
    Verdict.IN_PAST: gettext_lazy("This time is in the past."),
    Verdict.TOO_SOON: gettext_lazy("This service needs at least %(notice)s notice."),
    Verdict.BEYOND_HORIZON: ngettext_lazy(
        "This service takes bookings at most %(horizon)d day ahead.",
        "This service takes bookings at most %(horizon)d days ahead.",
        "horizon",
    ),
    Verdict.NOT_OFFERED: gettext_lazy(
        "No slot starts at this time: it is off the slot grid, outside opening hours, or blocked."
    ),
}


def _require_bookable(*, bookable: selectors.ProviderForBooking, start: datetime, now: datetime) -> None:
    """Re-validate against the rules, not only the constraint: grid, open time, notice, horizon."""
    verdict = bookable.verdict(start=start, now=now)
    if verdict is Verdict.BOOKABLE:
        return
    service = bookable.service
    message = _VERDICT_MESSAGES[verdict] % {
        "notice": duration(service.min_notice_minutes),
        "horizon": service.max_advance_days,
    }
    raise SlotNotOffered(message, field="start")


class _Overlap(Exception):
    """The INSERT broke `booking_no_overlap`. PostgreSQL has aborted the transaction, so the booking
    that won is looked up (`as_conflict`) only once the atomic block has rolled back: no savepoint
    around the INSERT, which would cost two statements on every booking to serve the rare loser."""

    def __init__(self, booking: Booking) -> None:
        super().__init__(NO_OVERLAP_CONSTRAINT)
        self.provider_id = booking.provider_id
        self.blocked_from, self.blocked_until = booking.blocked_from, booking.blocked_until

    def as_conflict(self) -> SlotUnavailable:
        other = selectors.live_booking_overlapping(
            provider_id=self.provider_id, blocked_from=self.blocked_from, blocked_until=self.blocked_until
        )
        return SlotUnavailable(
            "This slot has just been taken." if other else "This slot is no longer available.",
            conflicting_booking_id=other.pk if other else None,
        )


def _insert(booking: Booking) -> None:
    try:
        booking.save(force_insert=True)
    except IntegrityError as exc:
        if _sqlstate(exc) != EXCLUSION_VIOLATION or _constraint_name(exc) != NO_OVERLAP_CONSTRAINT:
            raise
        raise _Overlap(booking) from exc


def _sqlstate(exc: Exception) -> str | None:
    return getattr(exc.__cause__, "sqlstate", None)


def _constraint_name(exc: Exception) -> str | None:
    diag = getattr(exc.__cause__, "diag", None)
    return getattr(diag, "constraint_name", None)


# --- transitions --------------------------------------------------------------------------------

_REFUSALS = {
    "confirm": "Only a pending booking can be confirmed; this one is {status}.",
    "cancel": "Only a pending or confirmed booking can be cancelled; this one is {status}.",
    "complete": "Only a confirmed booking can be completed; this one is {status}.",
    "mark_no_show": "Only a confirmed booking can be marked as a no-show; this one is {status}.",
    "reinstate": "Only a cancelled booking can be reinstated; this one is {status}.",
}
_CONDITION_REFUSALS = {
    "complete": "A booking cannot be completed before it starts.",
    "mark_no_show": "A booking cannot be marked as a no-show before it starts.",
    "reinstate": "Only a booking cancelled by its hold running out or its payment failing can be reinstated.",
}


def _apply(booking: Booking, name: str, **kwargs) -> None:
    """Run one FSM transition, turning a refusal into InvalidTransition (HTTP 409)."""
    method = getattr(booking, name)
    if not can_proceed(method, check_conditions=False):
        raise InvalidTransition(_REFUSALS[name].format(status=booking.get_status_display().lower()))
    if not can_proceed(method):
        raise InvalidTransition(_CONDITION_REFUSALS[name])
    try:
        method(**kwargs)
    except TransitionNotAllowed as exc:  # a condition flipped between the check and the call
        raise InvalidTransition(str(exc)) from exc


def _lock_booking(booking_id: int) -> Booking:
    try:
        # Only the booking row: locking the joined provider, service and customer rows too would take
        # them in the opposite order to booking_create (service FOR KEY SHARE, then provider FOR UPDATE),
        # so a cancellation racing a new booking of the same provider deadlocked.
        return (
            Booking.objects.select_for_update(of=("self",))
            .select_related("provider", "service", "customer")
            .get(pk=booking_id)
        )
    except (Booking.DoesNotExist, ValueError, TypeError) as exc:
        raise InvalidInput(gettext("No such booking."), field="booking") from exc


def booking_confirm(*, booking_id: int) -> Booking:
    """Confirm a pending booking. Locks the booking row. An expired hold cannot be confirmed."""
    with transaction.atomic():
        booking = _lock_booking(booking_id)
        if booking.status == BookingStatus.PENDING and booking.hold_expires_at <= timezone.now():
            raise InvalidTransition("The hold on this booking has expired; it can no longer be confirmed.")
        _apply(booking, "confirm")
        booking.save()
        booking_changed(booking=booking, event=BookingEvent.CONFIRMED)
        was_offer = waitlist.booking_confirmed(booking=booking)
        notifications.booking_confirmed(booking=booking, tell_customer=not was_offer)
        return booking


CANCELLATION_NOTE_PREFIX = "Cancellation note: "


def booking_cancel(*, booking_id: int, reason: str = CancelReason.CUSTOMER, note: str = "") -> Booking:
    """Cancel a live booking and record the fee or refund under its policy snapshot.

    Locks the booking row. Only a customer's own late cancellation costs the late fee; the
    provider cancelling, a hold expiring or a failed payment never charges the customer.
    `note`, the canceller's optional reason, is kept in the booking's notes (a line starting
    "Cancellation note: "), where staff already read what the customer wrote; it needs no column.
    """
    if reason not in CancelReason.values:
        raise InvalidInput(f"Unknown reason {reason!r}.", field="reason")
    note = " ".join(note.split())
    with transaction.atomic():
        booking = _lock_booking(booking_id)
        if note:
            line = f"{CANCELLATION_NOTE_PREFIX}{note}"
            booking.notes = f"{booking.notes.rstrip()}\n{line}" if booking.notes.strip() else line
        if not _cancel(booking, reason=reason, now=timezone.now()):
            notifications.booking_cancelled(booking=booking)
        return booking


def _cancel(booking: Booking, *, reason: str, now: datetime) -> bool:
    """Returns whether the booking was a waitlist offer, whose customer hears of it from the waitlist."""
    _apply(booking, "cancel", reason=reason)
    # Only a customer's own late cancellation costs anything; the fee rule lives in one selector. A
    # customer giving up at the checkout of an online payment has agreed to nothing yet.
    gave_up_unpaid = payments.awaits_online_payment(booking=booking) and payments.paid(booking=booking) <= 0
    customer = reason == CancelReason.CUSTOMER and not gave_up_unpaid
    fee = selectors.booking_cancellation_fee(booking=booking, now=now) if customer else Decimal("0.00")
    booking.cancellation_fee = fee
    # What was paid goes back by the policy, and only what was paid: a booking never paid refunds
    # nothing. A rescheduled booking's payments move to the new booking instead (payments.ledger).
    booking.refund_amount = payments.booking_cancelled(booking=booking, reason=reason, fee=fee)
    booking.save()
    if reason != CancelReason.RESCHEDULED:  # a move is one event, told by booking_reschedule
        booking_changed(booking=booking, event=cancellation_event(reason))
    # After the cancellation is told, so its refund event follows it (webhook sequence order).
    payments.refund_cancellation(booking=booking)
    # Its time is free again: the first in line on the waitlist may get it (after the commit).
    return waitlist.booking_cancelled(booking=booking)


def booking_complete(*, booking_id: int) -> Booking:
    """Mark a confirmed booking as completed, once it has started. Locks the booking row."""
    with transaction.atomic():
        booking = _lock_booking(booking_id)
        _apply(booking, "complete")
        booking.save()
        booking_changed(booking=booking, event=BookingEvent.COMPLETED)
        return booking


def booking_mark_no_show(*, booking_id: int) -> Booking:
    """Mark a confirmed booking as a no-show, once it has started. Locks the booking row."""
    with transaction.atomic():
        booking = _lock_booking(booking_id)
        _apply(booking, "mark_no_show")
        booking.save()
        booking_changed(booking=booking, event=BookingEvent.NO_SHOW)
        return booking


def booking_update_notes(*, booking_id: int, notes: str) -> Booking:
    """Replace a booking's staff notes. Locks the booking row.

    Writes only `notes` (and `updated_at`), so a transition made since the caller read the booking
    is never undone by a stale copy of the other fields.
    """
    with transaction.atomic():
        booking = _lock_booking(booking_id)
        booking.notes = notes or ""
        booking.save(update_fields=["notes", "updated_at"])
        return booking


def booking_reschedule(*, booking_id: int, start: datetime, service_id: int | None = None) -> Booking:
    """Move a live booking: cancel it (reason rescheduled) and book the new start, atomically.

    Locks the provider row, then the booking row, then its payment rows. The new booking is with the
    same provider and of the same service (its current length and buffers), or of `service_id`, another
    service the provider offers in the same currency (a longer session, say), at that service's price
    and terms. If the new start cannot be booked, the whole transaction rolls back and the old booking
    is untouched. The new booking keeps the old one's status (a confirmed booking stays confirmed),
    price, terms and contact details, and its payments carry over (payments.ledger): a higher price
    leaves the new booking pending until the difference is paid online; a lower one is refunded.

    Refused: a booking already moved (BookingMoved, naming the booking that replaced it: the
    customer or integrator holds a stale id), and a live booking's own current time (InvalidInput
    naming `start`: "moving" there would cancel it and book the same time again, re-sending every
    message for nothing).
    """
    start = require_aware(start, field="start")
    try:
        with transaction.atomic():
            current = Booking.objects.select_related("service").filter(pk=booking_id).first()
            if current is None:
                raise InvalidInput(gettext("No such booking."), field="booking")
            service = _service_to_move_to(current, service_id=service_id)
            changes_service = service.pk != current.service_id
            # A booking made may move even if its provider has stopped offering the service since.
            bookable = _lock_provider(
                provider_id=current.provider_id, service=service, start=start, must_offer=changes_service
            )
            old = _lock_booking(booking_id)
            if old.status == BookingStatus.PENDING and waitlist.is_offer(booking=old):
                raise InvalidTransition(
                    gettext("A time held for you from the waitlist cannot be moved; accept or decline it.")
                )
            if not changes_service:
                _refuse_pointless_move(old, start=start)
            price = service.price if changes_service else old.price
            owes = service.takes_online_payment and payments.amount_owed(booking=old, price=price) > 0
            was_confirmed = old.status == BookingStatus.CONFIRMED
            _cancel(old, reason=CancelReason.RESCHEDULED, now=timezone.now())
            new = _book(
                bookable=bookable,
                start=start,
                customer=old.customer,
                contact=_contact_of(old),
                notes=old.notes,
                rescheduled_from=old,
                new_terms=changes_service,
                confirm=was_confirmed and not owes,
                language=old.language,
            )
            # The move is told before the refund of a lower price it causes (webhook sequence order).
            payments.carry_over(old=old, new=new)
            booking_changed(booking=new, event=BookingEvent.RESCHEDULED, previous=old, followers=bookable.followers)
            payments.booking_rescheduled(old=old, new=new)
            notifications.booking_rescheduled(old=old, new=new)
            return new
    except _Overlap as overlap:
        raise overlap.as_conflict() from overlap.__cause__


def _service_to_move_to(booking: Booking, *, service_id: int | None) -> Service:
    if service_id is None or str(service_id) == str(booking.service_id):
        return booking.service
    try:
        service = Service.objects.get(pk=int(service_id), is_active=True)
    except (Service.DoesNotExist, ValueError, TypeError) as exc:
        raise InvalidInput(gettext("No such service."), field="service") from exc
    if service.currency.upper() != booking.currency.upper():
        raise InvalidInput(
            gettext("A booking can move only to a service priced in the same currency."), field="service"
        )
    return service


def _refuse_pointless_move(booking: Booking, *, start: datetime) -> None:
    if booking.cancel_reason == CancelReason.RESCHEDULED:
        successor = Booking.objects.filter(rescheduled_from=booking).values_list("pk", flat=True).first()
        raise BookingMoved(
            gettext("This booking was moved to another time; reschedule the booking that replaced it."),
            rescheduled_to=successor,
        )
    if booking.is_live and start == booking.start_at:
        raise InvalidInput(gettext("That is already this booking's time; pick another."), field="start")


def booking_expire_holds(*, limit: int = 500) -> int:
    """Cancel pending bookings whose hold has run out (reason expired), freeing their slots.

    Claims rows with SELECT ... FOR UPDATE SKIP LOCKED (the booking rows only, not their provider or
    customer), so overlapping runs never fight over a row. Each customer (and the provider's staff)
    is told in the same transaction, through the outbox. Returns how many were expired.
    """
    now = timezone.now()
    with transaction.atomic():
        expired = list(
            Booking.objects.filter(status=BookingStatus.PENDING, hold_expires_at__lte=now)
            .select_related("provider", "service", "customer")
            .select_for_update(skip_locked=True, of=("self",))
            .order_by("hold_expires_at")[:limit]
        )
        for booking in expired:
            if not _cancel(booking, reason=payments.hold_expiry_reason(booking=booking), now=now):
                notifications.booking_cancelled(booking=booking)
    if expired:
        logger.info("Expired %d pending holds", len(expired))
    return len(expired)
