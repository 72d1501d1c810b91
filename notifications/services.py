"""Writes of the notifications domain (docs/architecture.md §5).

The `booking_*` hooks are called by scheduling.services inside the booking's transaction, with the
booking row locked (SELECT ... FOR UPDATE) by the caller: the reminder and outbox rows commit or roll
back with the booking change, and the outbox is woken only after the commit (`transaction.on_commit`,
notifications/wakeup.py). This module imports scheduling models, never scheduling services.

Lock order: these hooks lock reminder rows (cancel, move) after the caller's provider and booking
locks; the dispatcher locks only reminder and notification rows and never a booking. No cycle.
"""

import logging
from collections.abc import Iterator
from datetime import datetime, timedelta

from django.db.models import QuerySet
from django.utils import timezone

from booking_site.sql import insert_ignoring_conflicts, insert_skipping_conflicts
from notifications import content, dispatch, wakeup
from notifications.dispatch import BatchResult
from notifications.models import Channel, Notification, Reminder
from notifications.selectors import (
    RETAINED_ELSEWHERE,
    customer_channels,
    messages_past_retention,
    provider_addresses,
    retention_cutoff,
)
from scheduling.models import Booking, BookingStatus

logger = logging.getLogger(__name__)

BATCH_SIZE = 100
LINKS_WINDOW_SECONDS = 600
PAST_LEAD = "The lead time had already passed when the booking was confirmed."
STARTED = "The appointment had already started; a reminder is never sent late."


# --- hooks called by scheduling.services, inside the booking transaction ------------------------


def booking_confirmed(*, booking: Booking, tell_customer: bool = True) -> None:
    """Schedule the reminders and write the confirmation to the customer and the provider.

    `tell_customer=False` when another message tells the customer (a waitlist offer accepted)."""
    reminders_schedule(booking=booking)
    notifications_enqueue(booking=booking, kind=Notification.Kind.CONFIRMATION, customer=tell_customer)


def booking_cancelled(*, booking: Booking) -> None:
    """Cancel the scheduled reminders and write the cancellation to the customer and the provider."""
    reminders_cancel(booking=booking)
    notifications_enqueue(booking=booking, kind=Notification.Kind.CANCELLATION)


def booking_requested(*, booking: Booking) -> None:
    """A booking left pending for the provider to confirm: "request received" to the customer and
    "new request to confirm" to each staff address. Its reminders wait for the confirmation."""
    notifications_enqueue(booking=booking, kind=Notification.Kind.REQUEST_RECEIVED, provider=False)
    notifications_enqueue(booking=booking, kind=Notification.Kind.CONFIRM_REQUEST, customer=False)


def manage_links_requested(*, bookings: list[Booking], now: datetime | None = None) -> list[Notification]:
    """One email to the customer listing the manage links of `bookings` (their upcoming live ones).

    The row hangs on the soonest booking; the links are made when the worker renders the email, so
    they carry the secret versions current then. The dedup key holds one row per customer per
    LINKS_WINDOW: asking again within it writes nothing, even when the cache throttle is down.
    """
    if not bookings:
        return []
    now = now or timezone.now()
    anchor = bookings[0]
    window = int(now.timestamp()) // LINKS_WINDOW_SECONDS
    row = Notification(
        booking=anchor,
        kind=Notification.Kind.LINKS,
        recipient=Notification.Recipient.CUSTOMER,
        channel=Channel.EMAIL,
        address=anchor.customer_email,
        next_attempt_at=now,
        dedup_key=f"links:{anchor.customer_id}:{window}",
    )
    # No kick: a broker round trip in the request would let its timing tell a known address from an
    # unknown one. The outbox sweep (every minute) sends the row.
    return insert_skipping_conflicts([row], key="dedup_key")


def booking_rescheduled(*, old: Booking, new: Booking) -> None:
    """Move the old booking's scheduled reminders to the new one (when it is confirmed) and write
    the reschedule notice, about the new booking, to the customer and the provider."""
    if new.status == BookingStatus.CONFIRMED:
        reminders_move(old=old, new=new)
    else:
        reminders_cancel(booking=old)
    notifications_enqueue(booking=new, kind=Notification.Kind.RESCHEDULE)


# --- reminders ----------------------------------------------------------------------------------


def reminders_schedule(*, booking: Booking, now: datetime | None = None) -> None:
    """One reminder per lead time (the service's `reminder_lead_minutes`) per customer channel.

    A lead time already in the past is written as `skipped`, so the ledger shows it and nothing
    sends it late. Idempotent: the unique (booking, channel, lead_minutes) key ignores rows that
    exist. One INSERT.
    """
    now = now or timezone.now()
    leads = sorted({lead for lead in booking.service.reminder_lead_minutes or [] if lead > 0}, reverse=True)
    rows = []
    for lead in leads:
        fire_at = booking.start_at - timedelta(minutes=lead)
        for channel in customer_channels(booking):
            past = fire_at <= now
            rows.append(
                Reminder(
                    booking=booking,
                    channel=channel,
                    lead_minutes=lead,
                    fire_at=fire_at,
                    next_attempt_at=fire_at,
                    status=Reminder.Status.SKIPPED if past else Reminder.Status.SCHEDULED,
                    last_error=PAST_LEAD if past else "",
                )
            )
    insert_ignoring_conflicts(rows)


def reminders_cancel(*, booking: Booking) -> int:
    """Cancel the booking's scheduled reminders. Sent, failed and skipped ones stay as they are."""
    return booking.reminders.filter(status=Reminder.Status.SCHEDULED).update(
        status=Reminder.Status.CANCELLED, claimed_at=None, updated_at=timezone.now()
    )


def reminders_move(*, old: Booking, new: Booking, now: datetime | None = None) -> None:
    """Re-point the old booking's scheduled reminders at the new booking, firing at the same lead
    before the new start (skipped if that is already past), then add any lead time or channel the
    old booking no longer had scheduled (sent, skipped). A claim in flight on a moved row loses its
    guard, so its outcome is not recorded over the moved row."""
    now = now or timezone.now()
    for reminder in old.reminders.filter(status=Reminder.Status.SCHEDULED):
        fire_at = new.start_at - timedelta(minutes=reminder.lead_minutes)
        past = fire_at <= now
        reminder.booking = new
        reminder.fire_at = reminder.next_attempt_at = fire_at
        reminder.status = Reminder.Status.SKIPPED if past else Reminder.Status.SCHEDULED
        reminder.last_error = PAST_LEAD if past else ""
        reminder.attempts, reminder.claimed_at = 0, None
        reminder.save()
    reminders_schedule(booking=new, now=now)


# --- the outbox ---------------------------------------------------------------------------------


def notifications_enqueue(
    *, booking: Booking, kind: str, customer: bool = True, provider: bool = True
) -> list[Notification]:
    """Write one outbox row per recipient address and channel; their sends start after the commit.

    Customer (unless `customer=False`): every channel they can receive. Provider (unless
    `provider=False`): email to each staff address. The unique
    `dedup_key` (kind, booking, channel, address) makes a repeated call write nothing new. One
    INSERT ... ON CONFLICT DO NOTHING RETURNING; returns the rows this call wrote, and wakes the outbox
    after the commit if there are any.
    """
    now = timezone.now()
    targets = []
    if customer:
        targets += [
            (Notification.Recipient.CUSTOMER, channel, content.customer_address(booking, channel))
            for channel in customer_channels(booking)
        ]
    if provider:
        targets += [(Notification.Recipient.PROVIDER, Channel.EMAIL, email) for email in provider_addresses(booking)]
    rows = {
        f"{kind}:{booking.pk}:{channel}:{address.lower()}"[:200]: Notification(
            booking=booking, kind=kind, recipient=recipient, channel=channel, address=address, next_attempt_at=now
        )
        for recipient, channel, address in targets
        if address
    }
    for key, row in rows.items():
        row.dedup_key = key
    written = insert_skipping_conflicts(list(rows.values()), key="dedup_key")
    if written:
        wakeup.wake_on_commit("notifications")
    return written


# --- dispatch -----------------------------------------------------------------------------------


def _reminder_triage(reminder: Reminder, now: datetime) -> tuple[str, str] | None:
    booking = reminder.booking
    if booking.start_at <= now:
        return Reminder.Status.SKIPPED, STARTED
    if booking.status != BookingStatus.CONFIRMED:
        return Reminder.Status.CANCELLED, f"The booking is {booking.get_status_display().lower()}."
    return None


_WHILE_PENDING = (Notification.Kind.REQUEST_RECEIVED, Notification.Kind.CONFIRM_REQUEST)


def _notification_triage(notification: Notification, now: datetime) -> tuple[str, str] | None:
    status = notification.booking.status
    if notification.kind in _WHILE_PENDING and status != BookingStatus.PENDING:
        return Notification.Status.SKIPPED, f"The request is no longer pending ({status})."
    if notification.kind == Notification.Kind.LINKS and not content.links_bookings(notification, now=now):
        return Notification.Status.SKIPPED, "No upcoming live booking is left to send a link for."
    if notification.kind == Notification.Kind.CONFIRMATION and status != BookingStatus.CONFIRMED:
        return Notification.Status.SKIPPED, f"The booking is no longer confirmed ({status})."
    if notification.kind == Notification.Kind.RESCHEDULE and status not in (
        BookingStatus.PENDING,
        BookingStatus.CONFIRMED,
    ):
        return Notification.Status.SKIPPED, f"The rescheduled booking is no longer live ({status})."
    return None


def reminders_dispatch(*, limit: int = BATCH_SIZE, now: datetime | None = None) -> BatchResult:
    """Send one batch of due reminders. See notifications/dispatch.py for claiming and duplicates."""
    return dispatch.dispatch_batch(
        Reminder,
        limit=limit,
        now=now,
        triage=_reminder_triage,
        render=lambda row, at: content.reminder_message(row, now=at),
        select_related=("booking__customer", "booking__provider", "booking__service"),
    )


def notifications_dispatch(
    *, limit: int = BATCH_SIZE, pks: list[int] | None = None, now: datetime | None = None
) -> BatchResult:
    """Send one batch of due outbox rows (or only those of `pks` that are due and unclaimed)."""
    return dispatch.dispatch_batch(
        Notification,
        limit=limit,
        pks=pks,
        now=now,
        triage=_notification_triage,
        render=lambda row, at: content.notification_message(row, now=at),
        select_related=(
            "booking__customer",
            "booking__provider",
            "booking__service",
            # A reschedule's email carries the old booking's .ics too.
            "booking__rescheduled_from__provider",
            "booking__rescheduled_from__service",
        ),
    )


def reminders_drain(*, batch_size: int = BATCH_SIZE, budget_seconds: float = 50) -> BatchResult:
    return dispatch.drain(lambda: reminders_dispatch(limit=batch_size), limit=batch_size, budget_seconds=budget_seconds)


def notifications_drain(*, batch_size: int = BATCH_SIZE, budget_seconds: float = 50) -> BatchResult:
    return dispatch.drain(
        lambda: notifications_dispatch(limit=batch_size), limit=batch_size, budget_seconds=budget_seconds
    )


# --- admin actions ------------------------------------------------------------------------------


def notifications_retry_failed(*, ids: list[int]) -> int:
    """Put failed outbox rows back in the queue, due now, with a fresh attempt count."""
    now = timezone.now()
    return Notification.objects.filter(pk__in=ids, status=Notification.Status.FAILED).update(
        status=Notification.Status.PENDING, attempts=0, next_attempt_at=now, claimed_at=None, updated_at=now
    )


def reminders_retry_failed(*, ids: list[int]) -> int:
    """Put failed reminders back in the queue, due now, unless their appointment has started."""
    now = timezone.now()
    return Reminder.objects.filter(pk__in=ids, status=Reminder.Status.FAILED, booking__start_at__gt=now).update(
        status=Reminder.Status.SCHEDULED, attempts=0, next_attempt_at=now, claimed_at=None, updated_at=now
    )


# --- housekeeping -------------------------------------------------------------------------------


def messages_purge(*, now: datetime | None = None, batch_size: int = 5000, on_batch=None) -> dict[str, int]:
    """Delete the messages that are over and done, MESSAGE_RETENTION_DAYS after both their last change
    and their booking's end (`selectors.messages_past_retention` says which): notifications,
    reminders, webhook events with their deliveries and attempts (the integrators' delivery log), the
    waitlist's messages and the calendar exports.
    They hold the customer's address and the staff's, and nothing reads them once their booking is
    history. MESSAGE_RETENTION_DAYS = 0 keeps them all. Returns how many rows of each were deleted
    (for webhook events, the events).

    The rows are also ledgers, so a row may go only when nothing can need it again:
    - a notification's or reminder's unique key belongs to one event of its booking's life
      (confirmation, cancellation, reschedule, one reminder), and a booking long ended has none left;
    - a webhook event numbers its booking's changes (`sequence`, the next one is the latest plus one),
      so the latest event of every booking is kept, whatever its age: a late change (a refund) is still
      numbered after everything the integrator saw.
    Rows still waiting (a pending message, a pending delivery) are never deleted, whatever their age.

    Deletes in batches of `batch_size` by primary key, each its own short statement, taking no lock
    beyond the rows it deletes; a row put back in the queue meanwhile (staff retrying a failed message,
    an integrator replaying a delivery) is left, because the DELETE checks every condition again.
    `on_batch(name, rows)` is called after each batch (the command's progress).
    """
    cutoff = retention_cutoff(now=now)
    past_retention = messages_past_retention(cutoff=cutoff) if cutoff else {}
    purged = dict.fromkeys(("notifications", "reminders", "webhook_events", *RETAINED_ELSEWHERE), 0)
    for name, old in past_retention.items():
        for part in _in_key_order(old, size=batch_size):
            deleted = part.delete()[1].get(old.model._meta.label, 0)
            purged[name] += deleted
            if on_batch and deleted:
                on_batch(name, deleted)
    return purged


def _in_key_order(rows: QuerySet, *, size: int) -> Iterator[QuerySet]:
    """`rows` cut into parts of `size` rows by primary key ranges, in key order: each part is the rows
    after the last part's upper key, up to the key of its `size`-th row (the last part: all that is left).
    A part carries every condition of `rows`, so deleting it checks them again; and no list of keys goes
    back and forth: reading each batch's 5,000 keys and sending them back cost as much as the deletes
    (bench/message_purge.py, 300,000 messages: 7.3 s that way, 2.9 s this way, against 0.6 s for one
    DELETE per table that would hold every row's lock until the end)."""
    after = None
    while True:
        rest = rows if after is None else rows.filter(pk__gt=after)
        upto = list(rest.order_by("pk").values_list("pk", flat=True)[size - 1 : size])
        if not upto:
            yield rest
            return
        yield rest.filter(pk__lte=upto[0])
        after = upto[0]
