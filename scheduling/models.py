"""Scheduling domain: providers, the services they offer, availability, customers and bookings.

See docs/architecture.md §1–§2.
"""

import secrets
from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.contrib.postgres.constraints import ExclusionConstraint
from django.contrib.postgres.fields import ArrayField, DateTimeRangeField, RangeBoundary, RangeOperators
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_fsm import ConcurrentTransitionMixin, FSMField, transition
from timezone_field import TimeZoneField

from booking_site import money
from scheduling.validators import validate_rrule, validate_rule_occurs, validate_rule_start


def default_reminder_leads() -> list[int]:
    return [1440, 60, 15]


class TsTzRange(models.Func):
    function = "TSTZRANGE"
    output_field = DateTimeRangeField()


class Provider(models.Model):
    class Kind(models.TextChoices):
        PERSON = "person", _("Person")
        ROOM = "room", _("Room")
        EQUIPMENT = "equipment", _("Equipment")

    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.PERSON)
    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=80, unique=True)
    timezone = TimeZoneField(help_text="IANA zone the availability rules are written in.")
    staff = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="managed_providers")
    is_active = models.BooleanField(default=True)
    # Set only by PostgreSQL triggers (migration 0016), whatever the application writes here: a fresh
    # value from one sequence on every change that can alter this provider's free slots, in the writer's
    # own transaction. It keys the slots cache (scheduling/slot_cache.py).
    availability_version = models.BigIntegerField(default=0, db_default=0, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class PaymentMode(models.TextChoices):
    NONE = "none", _("None (free, or settled outside the system)")
    ONLINE = "online", _("Online, when booking")
    AT_VENUE = "at_venue", _("At the venue (staff record it)")


class Service(models.Model):
    """What a customer books (an "event type"): its length, price and booking rules, offered by one
    or more providers (docs/architecture.md §1, docs/decisions/0011-services.md).

    A booking snapshots what it needs of these (its buffered span, price and cancellation terms), so
    changing a service never changes bookings already made.
    """

    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=80, unique=True)
    description = models.TextField(blank=True)
    providers = models.ManyToManyField(Provider, blank=True, related_name="services")
    duration_minutes = models.PositiveIntegerField(default=30, help_text="Length of one booking.")
    slot_step_minutes = models.PositiveIntegerField(
        null=True, blank=True, help_text="Spacing between possible starts; empty means the length."
    )
    buffer_before_minutes = models.PositiveIntegerField(default=0)
    buffer_after_minutes = models.PositiveIntegerField(default=0)
    min_notice_minutes = models.PositiveIntegerField(default=60)
    max_advance_days = models.PositiveIntegerField(default=90, help_text="Booking horizon.")
    requires_confirmation = models.BooleanField(default=False)
    hold_minutes = models.PositiveIntegerField(default=15, help_text="How long a pending booking holds its slot.")
    waitlist_offer_minutes = models.PositiveIntegerField(
        default=30, db_default=30, help_text="How long a time freed for the first customer on the waitlist is held."
    )
    reminder_lead_minutes = ArrayField(models.PositiveIntegerField(), default=default_reminder_leads, blank=True)
    free_cancel_hours = models.PositiveIntegerField(default=24)
    late_cancel_fee = models.DecimalField(max_digits=10, decimal_places=2, default=Decimal("0.00"))
    price = models.DecimalField(max_digits=10, decimal_places=2, default=Decimal("0.00"))
    currency = models.CharField(max_length=3, default="USD")
    payment_mode = models.CharField(
        max_length=8,
        choices=PaymentMode.choices,
        default=PaymentMode.NONE,
        db_default=PaymentMode.NONE,
        help_text="Online: the booking is held while the customer pays and confirmed once paid.",
    )
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "pk"]
        constraints = [
            models.CheckConstraint(condition=Q(duration_minutes__gt=0), name="service_duration_positive"),
            models.CheckConstraint(
                condition=Q(slot_step_minutes__isnull=True) | Q(slot_step_minutes__gt=0),
                name="service_slot_step_positive",
            ),
            models.CheckConstraint(condition=Q(hold_minutes__gt=0), name="service_hold_minutes_positive"),
            models.CheckConstraint(condition=Q(late_cancel_fee__gte=0), name="service_fee_not_negative"),
            models.CheckConstraint(condition=Q(price__gte=0), name="service_price_not_negative"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def step_minutes(self) -> int:
        return self.slot_step_minutes or self.duration_minutes

    @property
    def reach(self) -> timedelta:
        """How far a slot starting at an instant can reach either way: its length plus both buffers."""
        return timedelta(minutes=self.duration_minutes + self.buffer_before_minutes + self.buffer_after_minutes)

    def clean(self) -> None:
        if self.late_cancel_fee is not None and self.price is not None and self.late_cancel_fee > self.price > 0:
            raise ValidationError({"late_cancel_fee": "The late cancellation fee cannot exceed the price."})
        if any(lead <= 0 for lead in self.reminder_lead_minutes or []):
            raise ValidationError({"reminder_lead_minutes": "Reminder lead times must be positive minutes."})
        if self.currency and (len(self.currency) != 3 or not self.currency.isalpha()):
            raise ValidationError({"currency": "Use a three-letter ISO 4217 code such as USD."})
        if self.payment_mode == PaymentMode.ONLINE and not (self.price and self.price > 0):
            raise ValidationError({"payment_mode": "Online payment needs a price above zero."})
        if self.payment_mode == PaymentMode.ONLINE and self.requires_confirmation:
            # The hold that covers the payment would have to outlast the staff's decision as well.
            raise ValidationError(
                {"payment_mode": "Online payment confirms the booking itself; turn off staff confirmation to use it."}
            )
        if self.currency and len(self.currency) == 3:
            for name in ("price", "late_cancel_fee"):
                amount = getattr(self, name)
                if amount and not money.is_whole_minor_amount(amount, self.currency):
                    unit = money.minor_unit(self.currency)
                    raise ValidationError({name: f"{self.currency.upper()} has no smaller unit than {unit}."})

    @property
    def takes_online_payment(self) -> bool:
        return self.payment_mode == PaymentMode.ONLINE and self.price > 0


class AvailabilityRule(models.Model):
    """A recurring window in the provider's wall-clock time (docs/architecture.md §1)."""

    class Kind(models.TextChoices):
        OPEN = "open", "Open"
        CLOSED = "closed", "Closed (exception)"

    provider = models.ForeignKey(Provider, on_delete=models.CASCADE, related_name="rules")
    kind = models.CharField(max_length=8, choices=Kind.choices, default=Kind.OPEN)
    rrule = models.CharField(max_length=500, help_text="RFC 5545 RRULE, e.g. FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR")
    starts_on = models.DateField(help_text="First date of the recurrence (DTSTART).")
    ends_on = models.DateField(null=True, blank=True, help_text="Last date, inclusive.")
    start_time = models.TimeField()
    end_time = models.TimeField(help_text="At or before the start time means the window ends the next day.")
    label = models.CharField(max_length=100, blank=True)

    class Meta:
        ordering = ["provider_id", "kind", "starts_on", "start_time"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_on__isnull=True) | Q(ends_on__gte=F("starts_on")),
                name="rule_ends_on_after_starts_on",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.rrule} {self.start_time:%H:%M}-{self.end_time:%H:%M}"

    def clean(self) -> None:
        errors = {}
        if self.starts_on:
            try:
                validate_rule_start(self.starts_on)
            except ValidationError as exc:
                errors["starts_on"] = exc.messages
        try:
            validate_rrule(self.rrule, starts_on=self.starts_on if not errors else None)
            if self.starts_on and not errors:
                validate_rule_occurs(self.rrule, starts_on=self.starts_on)
        except ValidationError as exc:
            errors["rrule"] = exc.messages
        if errors:
            raise ValidationError(errors)
        if self.ends_on and self.starts_on and self.ends_on < self.starts_on:
            raise ValidationError({"ends_on": "The last date cannot be before the first date."})


class BlockedTime(models.Model):
    """A one-off busy span; removes availability, never touches existing bookings."""

    class Reason(models.TextChoices):
        VACATION = "vacation", "Vacation"
        BREAK = "break", "Break"
        PERSONAL = "personal", "Personal"
        EXTERNAL = "external", "External calendar"

    # db_index off: the (provider, start_at) index leads with it.
    provider = models.ForeignKey(Provider, on_delete=models.CASCADE, related_name="blocked_times", db_index=False)
    start_at = models.DateTimeField()
    end_at = models.DateTimeField()
    reason = models.CharField(max_length=16, choices=Reason.choices, default=Reason.PERSONAL)
    note = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["start_at"]
        indexes = [models.Index(fields=["provider", "start_at"])]
        constraints = [
            models.CheckConstraint(condition=Q(end_at__gt=F("start_at")), name="blocked_time_end_after_start"),
        ]

    def __str__(self) -> str:
        return f"{self.get_reason_display()} {self.start_at:%Y-%m-%d %H:%M}Z"

    def clean(self) -> None:
        if self.start_at and self.end_at and self.end_at <= self.start_at:
            raise ValidationError({"end_at": "The end must be after the start."})


class Customer(models.Model):
    name = models.CharField(max_length=200)
    email = models.EmailField()
    phone = models.CharField(max_length=32, blank=True)
    timezone = TimeZoneField(default="UTC")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="customers"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(Lower("email"), name="customer_email_unique_ci")]

    def __str__(self) -> str:
        return f"{self.name} <{self.email}>"


class BookingStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    CONFIRMED = "confirmed", _("Confirmed")
    COMPLETED = "completed", _("Completed")
    CANCELLED = "cancelled", _("Cancelled")
    NO_SHOW = "no_show", _("No-show")


LIVE_STATUSES = (BookingStatus.PENDING, BookingStatus.CONFIRMED)


class CancelReason(models.TextChoices):
    CUSTOMER = "customer", _("Cancelled by the customer")
    PROVIDER = "provider", _("Cancelled by the provider")
    EXPIRED = "expired", _("Hold expired")
    PAYMENT_FAILED = "payment_failed", _("Payment failed")
    RESCHEDULED = "rescheduled", _("Rescheduled")
    DECLINED = "declined", _("Waitlist offer declined")


# Cancellations a late successful payment may undo: nobody chose them, time or a refused card did.
REINSTATABLE_REASONS = (CancelReason.EXPIRED, CancelReason.PAYMENT_FAILED)


class BookingQuerySet(models.QuerySet):
    def live(self):
        return self.filter(status__in=LIVE_STATUSES)

    def overlapping(self, start, end):
        """Bookings whose buffered span meets [start, end)."""
        return self.filter(blocked_from__lt=end, blocked_until__gt=start)


def has_started(booking: "Booking") -> bool:
    return timezone.now() >= booking.start_at


def new_reference() -> str:
    alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O or 1/I: references are read aloud
    return "".join(secrets.choice(alphabet) for _ in range(10))


class Booking(ConcurrentTransitionMixin, models.Model):
    """A booking (the seeds' "appointment").

    `blocked_from`/`blocked_until` are the start and end padded by the service's buffers, snapshotted
    at booking time: the exclusion constraint works on them, per provider, so two services of one
    provider never overlap, and a later change of a service's buffers never invalidates bookings
    already made. See docs/decisions/0002-slot-conflict-detection.md.
    """

    # db_index off: the (provider, start_at) and (service, start_at) indexes lead with them.
    provider = models.ForeignKey(Provider, on_delete=models.PROTECT, related_name="bookings", db_index=False)
    service = models.ForeignKey(Service, on_delete=models.PROTECT, related_name="bookings", db_index=False)
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="bookings")
    start_at = models.DateTimeField()
    end_at = models.DateTimeField()
    blocked_from = models.DateTimeField(editable=False)
    blocked_until = models.DateTimeField(editable=False)
    status = FSMField(default=BookingStatus.PENDING, choices=BookingStatus.choices, protected=True)
    provider_timezone = TimeZoneField()
    # The contact details given with this booking, kept like the zone beside them: every page, message
    # and API answer about the booking shows these. `customer` is only the identity behind them
    # (matched by email to recognise a returning customer); its stored record is never shown to a
    # provider's staff, since it holds what was typed for other providers (ADR 0009).
    customer_name = models.CharField(max_length=200)
    customer_email = models.EmailField()
    customer_phone = models.CharField(max_length=32, blank=True)
    customer_timezone = TimeZoneField()
    hold_expires_at = models.DateTimeField(null=True, blank=True)

    price = models.DecimalField(max_digits=10, decimal_places=2, default=Decimal("0.00"))
    currency = models.CharField(max_length=3, default="USD")
    free_cancel_until = models.DateTimeField()
    late_cancel_fee = models.DecimalField(max_digits=10, decimal_places=2, default=Decimal("0.00"))
    cancel_reason = models.CharField(max_length=16, choices=CancelReason.choices, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    cancellation_fee = models.DecimalField(max_digits=10, decimal_places=2, null=True, blank=True)
    refund_amount = models.DecimalField(max_digits=10, decimal_places=2, null=True, blank=True)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    rescheduled_from = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="rescheduled_to"
    )

    reference = models.CharField(max_length=16, unique=True, default=new_reference, editable=False)
    # Links made before signed links (docs/decisions/0010-manage-links.md): the SHA-256 of a random token,
    # blank for newer bookings and once the customer revokes their old links.
    manage_token_hash = models.CharField(max_length=64, editable=False, blank=True)
    # Signed manage links carry this number; bumping it revokes every link made before.
    manage_secret_version = models.PositiveIntegerField(default=0, db_default=0, editable=False)
    notes = models.TextField(blank=True)
    # The language the customer booked in (a code of settings.LANGUAGES): every message to them about
    # this booking is written in it, and its clock and date order (scheduling/formatting.py).
    language = models.CharField(max_length=16, default="en", db_default="en")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = BookingQuerySet.as_manager()

    class Meta:
        ordering = ["start_at"]
        indexes = [
            models.Index(fields=["provider", "start_at"]),
            models.Index(fields=["service", "start_at"]),
            models.Index(fields=["status", "hold_expires_at"]),
            # The busy-time reads (availability, the booking's re-check) ask for a provider's live bookings
            # whose buffered span ends after a window starts: bounded by the provider's future bookings,
            # where (provider, start_at) read the provider's whole history (bench/growth.py, ADR 0007).
            models.Index(
                fields=["provider", "blocked_until"],
                name="booking_live_until_idx",
                condition=Q(status__in=LIVE_STATUSES),
            ),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(end_at__gt=F("start_at")), name="booking_end_after_start"),
            models.CheckConstraint(
                condition=Q(blocked_from__lte=F("start_at")) & Q(blocked_until__gte=F("end_at")),
                name="booking_buffers_cover_booking",
            ),
            models.CheckConstraint(
                condition=~Q(status=BookingStatus.PENDING) | Q(hold_expires_at__isnull=False),
                name="booking_pending_has_hold",
            ),
            ExclusionConstraint(
                name="booking_no_overlap",
                expressions=[
                    (TsTzRange("blocked_from", "blocked_until", RangeBoundary()), RangeOperators.OVERLAPS),
                    ("provider", RangeOperators.EQUAL),
                ],
                condition=Q(status__in=LIVE_STATUSES),
                violation_error_message="This time overlaps another live booking of this provider, buffers included.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.reference} {self.start_at:%Y-%m-%d %H:%M}Z"

    @property
    def is_live(self) -> bool:
        return self.status in LIVE_STATUSES

    @property
    def duration(self) -> timedelta:
        return self.end_at - self.start_at

    def validate(self) -> None:
        """Model validation that works with the protected status field.

        `full_clean()` re-assigns every field, which a protected FSMField refuses; excluding
        `status` instead makes Django fail on the exclusion constraint's `status IN (...)`
        condition. So: clean the other fields, then check every constraint with status included.
        """
        self.full_clean(exclude=["status"], validate_constraints=False)
        self.validate_constraints()

    # django-fsm transitions only change state and check conditions; side effects live in services.

    @transition(field=status, source=BookingStatus.PENDING, target=BookingStatus.CONFIRMED)
    def confirm(self) -> None:
        self.hold_expires_at = None
        self.confirmed_at = timezone.now()

    @transition(field=status, source=list(LIVE_STATUSES), target=BookingStatus.CANCELLED)
    def cancel(self, *, reason: str) -> None:
        self.cancel_reason = reason
        self.cancelled_at = timezone.now()
        self.hold_expires_at = None

    @transition(
        field=status,
        source=BookingStatus.CANCELLED,
        target=BookingStatus.CONFIRMED,
        conditions=[lambda booking: booking.cancel_reason in REINSTATABLE_REASONS],
    )
    def reinstate(self) -> None:
        """A payment that succeeded after its hold was released takes the slot back (if still free)."""
        self.cancel_reason = ""
        self.cancelled_at = None
        self.cancellation_fee = None
        self.refund_amount = None
        self.confirmed_at = timezone.now()

    @transition(field=status, source=BookingStatus.CONFIRMED, target=BookingStatus.COMPLETED, conditions=[has_started])
    def complete(self) -> None:
        pass

    @transition(field=status, source=BookingStatus.CONFIRMED, target=BookingStatus.NO_SHOW, conditions=[has_started])
    def mark_no_show(self) -> None:
        pass


class IdempotencyRecord(models.Model):
    """The first response to an `Idempotency-Key` request, replayed to retries for 24 hours.

    Unique per (client, key): a concurrent retry blocks on the unique index until the first request
    commits, then replays its response, so one key can never create two bookings.
    """

    # db_index off: the unique (user, key) index leads with it.
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", db_index=False)
    key = models.CharField(max_length=255)
    fingerprint = models.CharField(max_length=64, help_text="SHA-256 of method, path and body.")
    status_code = models.PositiveSmallIntegerField()
    response_body = models.JSONField()
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "key"], name="idempotency_unique_per_client")]

    def __str__(self) -> str:
        return f"{self.key} ({self.status_code})"
