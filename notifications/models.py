"""Reminders and the notification outbox (docs/architecture.md §1, §5).

Both tables are ledgers as much as queues: a row is written in the same transaction as the booking
change that causes it, a worker claims it, sends it once, and records what happened on the row.

Claiming (see notifications/dispatch.py): a row is *due* when its status is the waiting one and
`next_attempt_at <= now`. A claim sets `claimed_at`, counts the attempt and pushes `next_attempt_at`
one lease ahead, so a claim that is never finished (a killed worker) makes the row due again by
itself once the lease runs out. A retry after a failure sets `next_attempt_at` to the backoff time.
"""

import base64
import secrets
import uuid
from datetime import datetime

from django.conf import settings
from django.db import models
from django.db.models import Q

from scheduling.models import Booking, Provider


class Channel(models.TextChoices):
    EMAIL = "email", "Email"
    SMS = "sms", "SMS"
    PUSH = "push", "Push"


class ReminderQuerySet(models.QuerySet):
    def due(self, *, now):
        return self.filter(status=Reminder.Status.SCHEDULED, next_attempt_at__lte=now)


class Reminder(models.Model):
    """One reminder of one booking on one channel at one lead time.

    Unique on (booking, channel, lead_minutes): that key is the dedup ledger. Re-running the
    scheduling code, Beat firing twice or a second worker can never create a second copy, and a
    copy that was sent stays `sent`.
    """

    class Status(models.TextChoices):
        SCHEDULED = "scheduled", "Scheduled"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"
        CANCELLED = "cancelled", "Cancelled"
        SKIPPED = "skipped", "Skipped"

    # db_index off: the unique (booking, channel, lead_minutes) index leads with it.
    booking = models.ForeignKey(Booking, on_delete=models.CASCADE, related_name="reminders", db_index=False)
    channel = models.CharField(max_length=8, choices=Channel.choices)
    lead_minutes = models.PositiveIntegerField()
    fire_at = models.DateTimeField(help_text="When the reminder is due (UTC): the start minus the lead time.")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.SCHEDULED)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    next_attempt_at = models.DateTimeField(
        help_text="Due again from this instant: the fire time, a retry's backoff, or the end of a claim's lease."
    )
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    provider_message_id = models.CharField(max_length=128, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ReminderQuerySet.as_manager()

    WAITING = Status.SCHEDULED

    class Meta:
        ordering = ["fire_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["booking", "channel", "lead_minutes"], name="reminder_dedup"),
        ]
        indexes = [
            # The claim's ORDER BY next_attempt_at, id LIMIT n walks this index and stops after n rows.
            models.Index(fields=["next_attempt_at", "id"], name="reminder_due_idx", condition=Q(status="scheduled")),
        ]

    def __str__(self) -> str:
        return f"{self.get_channel_display()} reminder {self.lead_minutes} min before {self.booking_id}"

    @property
    def dedup_key(self) -> str:
        return f"reminder:{self.booking_id}:{self.channel}:{self.lead_minutes}"


class OutboxStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"
    SKIPPED = "skipped", "Skipped"


# An outbox row in one of these is done with: never sent again (retention may delete it).
OUTBOX_DONE = (OutboxStatus.SENT, OutboxStatus.FAILED, OutboxStatus.SKIPPED)


class OutboxMessage(models.Model):
    """One message to one address on one channel, as `notifications.dispatch` claims, sends and records
    it: the booking outbox (`Notification`) and the waitlist's (`waitlist.WaitlistMessage`)."""

    Status = OutboxStatus

    channel = models.CharField(max_length=8, choices=Channel.choices)
    address = models.CharField(max_length=254, help_text="Email address, phone number or push recipient.")
    status = models.CharField(max_length=16, choices=OutboxStatus.choices, default=OutboxStatus.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    next_attempt_at = models.DateTimeField()
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    provider_message_id = models.CharField(max_length=128, blank=True)
    dedup_key = models.CharField(max_length=200, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    WAITING = OutboxStatus.PENDING

    class Meta:
        abstract = True


class OutboxQuerySet(models.QuerySet):
    def due(self, *, now):
        return self.filter(status=OutboxStatus.PENDING, next_attempt_at__lte=now)


NotificationQuerySet = OutboxQuerySet


class Notification(OutboxMessage):
    """The outbox: one message about one booking event to one address on one channel.

    Written in the booking's transaction, so a rolled-back change sends nothing; dispatched by a
    worker, so a crashed worker loses nothing. `dedup_key` is unique: enqueuing the same event twice
    writes one row.
    """

    class Kind(models.TextChoices):
        CONFIRMATION = "confirmation", "Confirmation"
        CANCELLATION = "cancellation", "Cancellation"
        RESCHEDULE = "reschedule", "Reschedule"
        REQUEST_RECEIVED = "request_received", "Request received"  # to the customer, while pending
        CONFIRM_REQUEST = "confirm_request", "New request to confirm"  # to the provider's staff
        LINKS = "links", "Manage links on request"  # every upcoming booking of one email address
        # To the customer: paid after the hold ran out and the time had been taken, so refunded in full.
        PAYMENT_REFUNDED = "payment_refunded", "Late payment refunded"

    class Recipient(models.TextChoices):
        CUSTOMER = "customer", "Customer"
        PROVIDER = "provider", "Provider"

    booking = models.ForeignKey(Booking, on_delete=models.CASCADE, related_name="notifications")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    recipient = models.CharField(max_length=8, choices=Recipient.choices)

    objects = NotificationQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["next_attempt_at", "id"], name="notification_due_idx", condition=Q(status="pending")),
            models.Index(fields=["status", "channel"]),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} to {self.get_recipient_display().lower()} by {self.channel}"


# --- integrator webhooks (docs/decisions/0016-webhooks.md) ---------------------------------------
# WebhookDelivery is an OutboxMessage, so notifications.dispatch claims, sends and records it like the
# booking and waitlist outboxes; WebhookAttempt keeps every HTTP attempt for the delivery log.

SECRET_PREFIX = "whsec_"


def new_secret() -> str:
    """A Standard Webhooks secret: `whsec_` and the base64 of 32 random bytes."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def new_event_id() -> str:
    return f"evt_{uuid.uuid4().hex}"


def new_message_id() -> str:
    return f"msg_{uuid.uuid4().hex}"


class WebhookEndpoint(models.Model):
    """An integrator's URL. A superuser's endpoint hears every provider; a staff member's only the
    providers they manage. `event_types` empty means every type."""

    url = models.URLField(max_length=2000)
    description = models.CharField(max_length=200, blank=True)
    event_types = models.JSONField(default=list, blank=True)
    is_active = models.BooleanField(default=True)
    secret = models.CharField(max_length=100, default=new_secret, editable=False)
    # A rotation's grace: until `previous_secret_expires_at`, sends carry a signature with the secret
    # before the current one too, so a receiver can switch without refusing a delivery.
    previous_secret = models.CharField(max_length=100, blank=True, editable=False)
    previous_secret_expires_at = models.DateTimeField(null=True, blank=True, editable=False)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="webhook_endpoints")
    failing_since = models.DateTimeField(
        null=True, blank=True, help_text="The first failed attempt since the last success; cleared by a success."
    )
    disabled_at = models.DateTimeField(null=True, blank=True)
    disabled_reason = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.url

    def grace_ends_at(self, *, now: datetime) -> datetime | None:
        """When the running rotation's grace ends (the previous secret stops signing), or None."""
        if self.previous_secret and self.previous_secret_expires_at and now < self.previous_secret_expires_at:
            return self.previous_secret_expires_at
        return None

    def signing_secrets(self, *, now: datetime) -> list[str]:
        """The secrets a send made at `now` is signed with: the current one, and the previous one while a
        rotation's grace lasts."""
        return [self.secret, self.previous_secret] if self.grace_ends_at(now=now) else [self.secret]


class WebhookEvent(models.Model):
    """One thing that happened, rendered once: every delivery of it sends the same payload."""

    id = models.CharField(primary_key=True, max_length=40, default=new_event_id, editable=False)
    type = models.CharField(max_length=40)
    payload = models.JSONField()
    provider = models.ForeignKey(Provider, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    # db_index off: the unique (booking, sequence) index leads with it.
    booking = models.ForeignKey(
        Booking, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )
    sequence = models.PositiveIntegerField(
        null=True, blank=True, help_text="Per booking (and its reschedules), increasing in the order of the changes."
    )
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["booking", "sequence"], name="webhook_event_booking_sequence"),
        ]

    def __str__(self) -> str:
        return f"{self.type} {self.id}"


class WebhookDelivery(OutboxMessage):
    """One event to one endpoint. `webhook_id` is its `webhook-id` header: the same on every retry and
    replay of this delivery, so a receiver can fold copies."""

    # `channel` and `address` of the outbox: always "webhook", and the URL at the time of queueing.
    channel = models.CharField(max_length=8, default="webhook", editable=False)
    address = models.CharField(max_length=2000)
    # db_index off: the delivery log's (endpoint, created_at) index leads with it.
    endpoint = models.ForeignKey(WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries", db_index=False)
    event = models.ForeignKey(WebhookEvent, on_delete=models.CASCADE, related_name="deliveries")
    webhook_id = models.CharField(max_length=40, unique=True, default=new_message_id, editable=False)
    replayed_at = models.DateTimeField(null=True, blank=True)

    objects = OutboxQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(
                fields=["next_attempt_at", "id"], name="webhook_delivery_due_idx", condition=Q(status="pending")
            ),
            models.Index(fields=["endpoint", "created_at"], name="webhook_delivery_log_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.event_id} to {self.endpoint_id}"


class WebhookAttempt(models.Model):
    """One HTTP attempt of a delivery: when, the answer's status (null when none came) and how long."""

    delivery = models.ForeignKey(WebhookDelivery, on_delete=models.CASCADE, related_name="attempt_log")
    started_at = models.DateTimeField()
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    duration_ms = models.PositiveIntegerField()
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["started_at", "id"]

    def __str__(self) -> str:
        return f"{self.delivery_id} at {self.started_at:%Y-%m-%d %H:%M:%S}: {self.status_code or self.error}"
