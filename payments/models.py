"""Payments: charges and refunds of bookings, and the gateway work they owe (docs/decisions/0013-payments.md).

`Payment` is the ledger: one row per charge and per refund, in the booking's currency, never deleted.
`GatewayCall` is the outbox of gateway calls that follow a state change (a refund on cancel, cancelling
a charge whose hold ran out): written in the same transaction as that change, carried out by a worker,
retried until done, with the row's id in the gateway's idempotency key. `GatewayEvent` is the ledger of
webhook events already processed, so an event delivered twice is processed once.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from scheduling.models import Booking


class Payment(models.Model):
    class Kind(models.TextChoices):
        CHARGE = "charge", _("Charge")
        REFUND = "refund", _("Refund")

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        SUCCEEDED = "succeeded", _("Succeeded")
        FAILED = "failed", _("Failed")
        CANCELLED = "cancelled", _("Cancelled")

    class Gateway(models.TextChoices):
        STRIPE = "stripe", "Stripe"
        AT_VENUE = "at_venue", _("At the venue")

    class Reason(models.TextChoices):
        BOOKING = "booking", _("Booking")
        PRICE_DIFFERENCE = "price_difference", _("Price difference")
        CANCELLATION = "cancellation", _("Cancellation")
        LATE_PAYMENT = "late_payment", _("Paid after the hold ran out")
        STAFF = "staff", _("Refunded by staff")

    # A rescheduled booking's payments move to the booking that replaced it (the credit carries over),
    # so a live booking's rows are everything paid for its time.
    # db_index off: the (booking, kind) index leads with it.
    booking = models.ForeignKey(Booking, on_delete=models.PROTECT, related_name="payments", db_index=False)
    kind = models.CharField(max_length=8, choices=Kind.choices)
    amount = models.DecimalField(max_digits=10, decimal_places=2)
    currency = models.CharField(max_length=3)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    gateway = models.CharField(max_length=16, choices=Gateway.choices)
    reference = models.CharField(
        max_length=255, blank=True, help_text="The gateway's id: a PaymentIntent for a charge, a Refund for a refund."
    )
    client_secret = models.CharField(max_length=255, blank=True, editable=False)
    refund_of = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="refunds")
    reason = models.CharField(max_length=20, choices=Reason.choices, default=Reason.BOOKING)
    failure_reason = models.TextField(blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    succeeded_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["gateway", "reference"], condition=~Q(reference=""), name="payment_reference_unique"
            ),
            models.CheckConstraint(condition=Q(amount__gt=0), name="payment_amount_positive"),
            models.CheckConstraint(
                condition=Q(kind="charge", refund_of__isnull=True) | Q(kind="refund", refund_of__isnull=False),
                name="payment_refund_names_its_charge",
            ),
        ]
        indexes = [models.Index(fields=["booking", "kind"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.amount} {self.currency} ({self.get_status_display()})"


class GatewayCall(models.Model):
    """A gateway call owed after a committed state change; a worker makes it until it is done."""

    class Action(models.TextChoices):
        REFUND = "refund", _("Refund")
        CANCEL_CHARGE = "cancel_charge", _("Cancel the charge")

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        DONE = "done", _("Done")

    # db_index off: the unique (payment, action) constraint leads with it.
    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="gateway_calls", db_index=False)
    action = models.CharField(max_length=16, choices=Action.choices)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField()
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    done_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            # One cancellation per charge and one execution per refund row, whoever asks twice.
            models.UniqueConstraint(fields=["payment", "action"], name="gateway_call_once"),
        ]
        indexes = [
            models.Index(fields=["next_attempt_at", "id"], name="gateway_call_due_idx", condition=Q(status="pending"))
        ]

    def __str__(self) -> str:
        return f"{self.get_action_display()} of payment {self.payment_id} ({self.get_status_display()})"

    @property
    def idempotency_key(self) -> str:
        return f"booking-site-gateway-call-{self.pk}"


class GatewayEvent(models.Model):
    """A webhook event processed: written in the transaction that processes it, so it is processed once."""

    gateway = models.CharField(max_length=16)
    event_id = models.CharField(max_length=255)
    type = models.CharField(max_length=100)
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["gateway", "event_id"], name="gateway_event_once")]

    def __str__(self) -> str:
        return f"{self.gateway} {self.type} {self.event_id}"
