"""Calendar sync: a provider's bookings as a subscription feed, and busy times imported from the
provider's own calendars (docs/decisions/0015-calendar-sync.md)."""

import secrets

from django.db import models
from django.utils.translation import gettext_lazy as _

from scheduling.models import BlockedTime, Provider


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
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["provider", "pk"]

    def __str__(self) -> str:
        return self.name or f"{self.get_kind_display()} of {self.provider}"


class ImportedEvent(models.Model):
    """One busy span imported from a connection: an event instance, as the BlockedTime it became."""

    connection = models.ForeignKey(CalendarConnection, on_delete=models.CASCADE, related_name="imported_events")
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
