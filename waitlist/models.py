"""The waitlist: customers in line for times that are full (docs/decisions/0014-waitlist.md).

An entry wants a service (optionally one provider) within a window of UTC instants, optionally only
between two wall-clock times of day in the customer's zone. When a slot frees inside it, the first
waiting entry in line gets an **offer**: an ordinary pending booking held for it (so the exclusion
constraint gives a freed slot to one entry at a time), which the customer accepts or declines.
"""

from django.contrib.postgres.constraints import ExclusionConstraint
from django.contrib.postgres.fields import RangeBoundary, RangeOperators
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _
from timezone_field import TimeZoneField

from notifications.models import OutboxMessage, OutboxQuerySet
from scheduling.models import Booking, Customer, Provider, Service, TsTzRange


class EntryStatus(models.TextChoices):
    WAITING = "waiting", _("Waiting")
    OFFERED = "offered", _("Offered a time")
    BOOKED = "booked", _("Booked")
    EXPIRED = "expired", _("Expired")
    WITHDRAWN = "withdrawn", _("Withdrawn")


LIVE_ENTRY_STATUSES = (EntryStatus.WAITING, EntryStatus.OFFERED)


class WaitlistEntry(models.Model):
    service = models.ForeignKey(Service, on_delete=models.PROTECT, related_name="waitlist_entries")
    provider = models.ForeignKey(
        Provider, null=True, blank=True, on_delete=models.PROTECT, related_name="waitlist_entries"
    )
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="waitlist_entries")
    # The details given when joining, shown everywhere instead of the shared customer record (ADR 0009).
    customer_name = models.CharField(max_length=200)
    customer_email = models.EmailField()
    customer_phone = models.CharField(max_length=32, blank=True)
    customer_timezone = TimeZoneField()
    language = models.CharField(max_length=16, default="en")
    window_start = models.DateTimeField()
    window_end = models.DateTimeField()
    # Optional wall-clock limits within each day of the window, in customer_timezone.
    day_start = models.TimeField(null=True, blank=True)
    day_end = models.TimeField(null=True, blank=True)
    status = models.CharField(max_length=10, choices=EntryStatus.choices, default=EntryStatus.WAITING)
    offer_booking = models.OneToOneField(
        Booking, null=True, blank=True, on_delete=models.PROTECT, related_name="waitlist_offer"
    )
    offer_expires_at = models.DateTimeField(null=True, blank=True)
    offers_made = models.PositiveIntegerField(default=0)
    manage_secret_version = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name_plural = "waitlist entries"
        constraints = [
            models.CheckConstraint(condition=Q(window_end__gt=F("window_start")), name="waitlist_window_positive"),
            models.CheckConstraint(
                condition=Q(day_start__isnull=True, day_end__isnull=True)
                | Q(day_start__isnull=False, day_end__isnull=False, day_end__gt=F("day_start")),
                name="waitlist_day_range_complete",
            ),
            # An offered entry has its live offer; no other entry has one.
            models.CheckConstraint(
                condition=Q(status="offered", offer_booking__isnull=False, offer_expires_at__isnull=False)
                | ~Q(status="offered"),
                name="waitlist_offered_has_offer",
            ),
            # One live entry per customer and service over any one stretch of time.
            ExclusionConstraint(
                name="waitlist_one_live_entry_per_window",
                expressions=[
                    (TsTzRange("window_start", "window_end", RangeBoundary()), RangeOperators.OVERLAPS),
                    ("customer", RangeOperators.EQUAL),
                    ("service", RangeOperators.EQUAL),
                ],
                condition=Q(status__in=LIVE_ENTRY_STATUSES),
                violation_error_message="You are already on the waitlist for this service at these times.",
            ),
        ]
        indexes = [
            # The offer search: waiting entries of a service, in line order, whose window has not ended.
            models.Index(
                fields=["service", "created_at", "id"], name="waitlist_line_idx", condition=Q(status="waiting")
            ),
            models.Index(fields=["status", "window_end"], name="waitlist_status_end_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.customer_name} waiting for {self.service} ({self.get_status_display()})"

    @property
    def is_live(self) -> bool:
        return self.status in LIVE_ENTRY_STATUSES


class WaitlistMessage(OutboxMessage):
    """The waitlist's outbox: one message about one entry to its customer on one channel, written in the
    transaction of the change and sent by notifications.dispatch like the booking outbox. An entry
    may have no booking (joined, the window passed), so these are not booking notifications."""

    class Kind(models.TextChoices):
        JOINED = "joined", "Joined the waitlist"
        OFFER = "offer", "A time is held for you"
        CLOSED = "closed", "The offer lapsed or was declined"
        BOOKED = "booked", "Booked from the waitlist"
        ENDED = "ended", "The window passed"

    entry = models.ForeignKey(WaitlistEntry, on_delete=models.CASCADE, related_name="messages")
    booking = models.ForeignKey(Booking, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=8, choices=Kind.choices)

    objects = OutboxQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(
                fields=["next_attempt_at", "id"], name="waitlist_message_due_idx", condition=Q(status="pending")
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} to {self.address}"
