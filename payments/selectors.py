"""Reads of a booking's payments for the customer pages and messages; nothing here changes a row."""

from decimal import Decimal

from django.db.models import Sum

from payments import ledger
from payments.models import Payment
from scheduling.models import Booking


def checkout_charge_due(*, booking: Booking) -> Payment | None:
    """The online charge a held booking's checkout is for (started at the gateway or not yet), as
    payments.services.checkout_charge picks it; None when the booking owes nothing online."""
    return (
        Payment.objects.filter(booking=booking, kind=Payment.Kind.CHARGE, gateway=Payment.Gateway.STRIPE)
        .exclude(status=Payment.Status.CANCELLED)
        .order_by("-created_at", "-id")
        .first()
    )


def refund_preview(*, booking: Booking, fee: Decimal) -> Decimal:
    """What cancelling now would refund, as payments.ledger.booking_cancelled settles it: what was
    paid less `fee`, never below zero (zero when nothing was paid)."""
    return max(ledger.ZERO, ledger.paid(booking=booking) - fee)


def late_payment_refunded(*, booking: Booking) -> Decimal:
    """What was refunded (or is owed back) because a payment arrived after the booking's hold ran out
    and its time was gone."""
    total = (
        Payment.objects.filter(
            booking=booking,
            kind=Payment.Kind.REFUND,
            reason=Payment.Reason.LATE_PAYMENT,
            status__in=ledger.REFUND_COUNTS,
        )
        .aggregate(total=Sum("amount"))
        .get("total")
    )
    return total or ledger.ZERO
