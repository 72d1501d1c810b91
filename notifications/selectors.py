"""Reads of the notifications domain. Nothing here writes."""

from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone
from django.utils.module_loading import import_string

from notifications.channels import push_configured, sms_configured
from notifications.models import (
    OUTBOX_DONE,
    Channel,
    Notification,
    OutboxStatus,
    Reminder,
    WebhookDelivery,
    WebhookEvent,
)
from scheduling.models import Booking
from scheduling.selectors import bookings_for_user


def customer_channels(booking: Booking) -> list[str]:
    """The channels the customer can receive: email always; SMS when a phone number was given with
    the booking and SMS is configured; push with a user account when push is configured."""
    channels = [Channel.EMAIL]
    if booking.customer_phone and sms_configured():
        channels.append(Channel.SMS)
    if push_configured() and booking.customer.user_id:
        channels.append(Channel.PUSH)
    return channels


def provider_addresses(booking: Booking) -> list[str]:
    """The provider's recipients: its active staff users' emails, lower-cased, without repeats."""
    staff = get_user_model().objects.filter(managed_providers=booking.provider_id, is_active=True).exclude(email="")
    return sorted({email.strip().lower() for email in staff.values_list("email", flat=True) if email.strip()})


def notifications_for_user(*, user) -> QuerySet[Notification]:
    """The outbox rows of the bookings a user may manage (all for a superuser)."""
    return Notification.objects.filter(booking__in=bookings_for_user(user=user))


def reminders_for_user(*, user) -> QuerySet[Reminder]:
    return Reminder.objects.filter(booking__in=bookings_for_user(user=user))


# --- integrator webhooks -------------------------------------------------------------------------


def webhook_endpoints_for_user(*, user) -> QuerySet:
    """A superuser sees every endpoint; anyone else their own."""
    from notifications.models import WebhookEndpoint

    endpoints = WebhookEndpoint.objects.select_related("owner")
    return endpoints if user.is_superuser else endpoints.filter(owner=user)


def webhook_deliveries(*, endpoint_id: int, status: str | None = None, event_type: str | None = None) -> QuerySet:
    """The endpoint's delivery log, newest first, with each event."""
    from notifications.models import WebhookDelivery

    rows = WebhookDelivery.objects.filter(endpoint_id=endpoint_id).select_related("event")
    if status:
        rows = rows.filter(status=status)
    if event_type:
        rows = rows.filter(event__type=event_type)
    return rows.order_by("-created_at", "-id")


def webhook_attempts(*, delivery_id: int) -> QuerySet:
    """Every HTTP attempt of one delivery, oldest first."""
    from notifications.models import WebhookAttempt

    return WebhookAttempt.objects.filter(delivery_id=delivery_id).order_by("started_at", "id")


def webhook_deliveries_for_user(*, user) -> QuerySet:
    """The deliveries of the endpoints a user reaches (webhook_endpoints_for_user), for the console's log."""
    from notifications.models import WebhookDelivery

    endpoints = webhook_endpoints_for_user(user=user)
    return WebhookDelivery.objects.filter(endpoint__in=endpoints.values("pk")).select_related("endpoint", "event")


REMINDER_DONE = (Reminder.Status.SENT, Reminder.Status.FAILED, Reminder.Status.CANCELLED, Reminder.Status.SKIPPED)


def retention_cutoff(*, now: datetime | None = None) -> datetime | None:
    """Messages done with before this instant, of bookings ended by then, may be deleted; None when
    MESSAGE_RETENTION_DAYS is 0 (they are kept)."""
    days = settings.MESSAGE_RETENTION_DAYS
    return (now or timezone.now()) - timedelta(days=days) if days > 0 else None


# The outboxes of apps that build on this one, each the dotted path of its `messages_past_retention`
# (imported when used: those apps import notifications, not the other way round).
RETAINED_ELSEWHERE = {
    "waitlist_messages": "waitlist.selectors.messages_past_retention",
    "calendar_exports": "calendars.selectors.exports_past_retention",
}


def messages_past_retention(*, cutoff: datetime) -> dict[str, QuerySet]:
    """What `services.messages_purge` may delete (it says why these and only these):
    - notifications and reminders in a final state, last changed before `cutoff`, about a booking that
      ended before it;
    - webhook events made before `cutoff` (each with its deliveries and their attempts) whose deliveries
      are all done with and last changed before it, about no booking or one that ended before it, and
      not the latest event of their booking (the next event of a booking is numbered after it);
    - the other apps' outboxes of RETAINED_ELSEWHERE (the waitlist's messages, the calendar exports), by
      their own rule."""
    ended = {"updated_at__lt": cutoff, "booking__end_at__lt": cutoff}
    # One probe of the unique (booking, sequence) index per event.
    later = WebhookEvent.objects.filter(booking_id=OuterRef("booking_id"), sequence__gt=OuterRef("sequence"))
    no_booking_or_over_and_followed = Q(booking__isnull=True) | Q(booking__end_at__lt=cutoff) & Exists(later)
    unfinished = WebhookDelivery.objects.filter(
        Q(status=OutboxStatus.PENDING) | Q(updated_at__gte=cutoff), event_id=OuterRef("pk")
    )
    return {
        "notifications": Notification.objects.filter(status__in=OUTBOX_DONE, **ended),
        "reminders": Reminder.objects.filter(status__in=REMINDER_DONE, **ended),
        "webhook_events": WebhookEvent.objects.filter(
            no_booking_or_over_and_followed, ~Exists(unfinished), created_at__lt=cutoff
        ),
        **{name: import_string(path)(cutoff=cutoff) for name, path in RETAINED_ELSEWHERE.items()},
    }
