"""Calendar sync: a provider's bookings as a subscription feed, and busy times imported from the
provider's own calendars (docs/decisions/0015-calendar-sync.md)."""

import secrets

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from notifications.models import OutboxMessage, OutboxQuerySet
from scheduling.models import BlockedTime, Booking, Provider


def new_feed_secret() -> str:
    return secrets.token_urlsafe(24)


class ProviderFeed(models.Model):
    """A provider's secret iCal subscription URL: `/calendars/feed/<secret>.ics`. Rotating the secret
    kills every URL handed out before."""

    provider = models.OneToOneField(Provider, on_delete=models.CASCADE, related_name="calendar_feed")
    secret = models.CharField(max_length=64, unique=True, default=new_feed_secret)
    hide_customer_details = models.BooleanField(
        default=False, help_text="Show only the service in the feed, never the customer's name."
    )
    rotated_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"Calendar feed of {self.provider}"


class CalendarConnection(models.Model):
    """An external calendar a provider links: its busy times block availability."""

    class Kind(models.TextChoices):
        ICAL_URL = "ical_url", _("iCal URL")
        CALDAV = "caldav", "CalDAV"
        GOOGLE = "google", "Google Calendar"
        MICROSOFT = "microsoft", "Microsoft 365"

    provider = models.ForeignKey(Provider, on_delete=models.CASCADE, related_name="calendar_connections")
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.ICAL_URL)
    name = models.CharField(max_length=200, blank=True)
    url = models.URLField(max_length=2000, blank=True)
    account = models.CharField(max_length=254, blank=True, help_text="The user or account at the calendar service.")
    # Never shown back, never logged: write-only in the API and the console.
    credentials = models.JSONField(default=dict, blank=True, editable=False)
    is_active = models.BooleanField(default=True)
    sync_every_minutes = models.PositiveIntegerField(default=10)
    next_sync_at = models.DateTimeField(null=True, blank=True)
    last_synced_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    last_error_at = models.DateTimeField(null=True, blank=True)
    # Conditional fetch of an iCal URL.
    etag = models.CharField(max_length=256, blank=True, editable=False)
    last_modified = models.CharField(max_length=64, blank=True, editable=False)
    # The end of the window the last full read expanded (recurrences included): a "not modified" answer
    # says nothing about instances beyond it, so a read whose window passes it fetches unconditionally.
    expanded_until = models.DateTimeField(null=True, blank=True, editable=False)
    # Bumped by every change of what a read depends on (address, account, credentials, switched on or
    # off): a sync whose read began before the change is discarded (calendars.services).
    settings_version = models.PositiveIntegerField(default=0, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["provider", "pk"]

    def __str__(self) -> str:
        return self.name or f"{self.get_kind_display()} of {self.provider}"


class ImportedEvent(models.Model):
    """One busy span imported from a connection: an event instance, as the BlockedTime it became."""

    # db_index off: the (connection, uid) index leads with it.
    connection = models.ForeignKey(
        CalendarConnection, on_delete=models.CASCADE, related_name="imported_events", db_index=False
    )
    uid = models.CharField(max_length=512)
    blocked_time = models.OneToOneField(BlockedTime, on_delete=models.CASCADE, related_name="imported_event")

    class Meta:
        indexes = [models.Index(fields=["connection", "uid"])]

    def __str__(self) -> str:
        return f"{self.uid} from {self.connection}"


def new_push_id() -> str:
    return secrets.token_hex(16)


class PushChannel(models.Model):
    """A Google watch channel or a Microsoft Graph subscription telling us a connection's calendar
    changed (docs/decisions/0015-calendar-sync.md). `channel_id` and `secret` are ours: Google sends
    them back as X-Goog-Channel-ID and X-Goog-Channel-Token, Microsoft sends the secret as clientState
    with the `subscription_id` it chose. Never shown, never logged."""

    connection = models.ForeignKey(CalendarConnection, on_delete=models.CASCADE, related_name="push_channels")
    channel_id = models.CharField(max_length=64, unique=True, default=new_push_id, editable=False)
    secret = models.CharField(max_length=128, default=new_feed_secret, editable=False)
    resource_id = models.CharField(max_length=256, blank=True, editable=False)
    subscription_id = models.CharField(max_length=256, blank=True, db_index=True, editable=False)
    expires_at = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["expires_at"]

    def __str__(self) -> str:
        return f"Push channel of {self.connection} until {self.expires_at:%Y-%m-%d %H:%M}"


class CalendarExport(OutboxMessage):
    """The export outbox: one row per booking change per two-way connection, written in the booking's
    transaction and sent by notifications.dispatch (claim, send, record, retry with backoff). Sending
    reads the booking as it is then, so rows for one booking may go in any order and still leave the
    calendar right (calendars/export_dispatch.py)."""

    # An export goes to a calendar, not to an address on a channel.
    channel = None
    address = None

    connection = models.ForeignKey(CalendarConnection, on_delete=models.CASCADE, related_name="exports")
    booking = models.ForeignKey(Booking, on_delete=models.CASCADE, related_name="calendar_exports")
    uid = models.CharField(max_length=255, help_text="The event's UID in the calendar (the booking's calendar UID).")
    event = models.CharField(max_length=16, help_text="The booking change that queued this export.")

    objects = OutboxQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(
                fields=["next_attempt_at", "id"], name="calendar_export_due_idx", condition=Q(status="pending")
            ),
        ]

    def __str__(self) -> str:
        return f"{self.uid} to {self.connection}"
