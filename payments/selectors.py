"""Reads of a booking's payments: the summary the API and the console show, the console's filter, and
what the customer pages and messages state (the charge due, a refund preview, a late-payment refund).

The summary is worked out from the booking's `Payment` rows in Python, so a list that prefetched
them (`with_payments`) pays one query for the whole page, never one per booking.
"""

from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Exists, OuterRef, Prefetch, QuerySet, Sum

from payments import ledger
from payments.ledger import REFUND_COUNTS, ZERO
from payments.models import Payment
from scheduling.models import Booking

# A booking's payment status, as the API and the console name it.
NONE = "none"
AWAITING_PAYMENT = "awaiting_payment"
PAID = "paid"
PARTIALLY_REFUNDED = "partially_refunded"
REFUNDED = "refunded"
FAILED = "failed"
CANCELLED = "cancelled"
PAYMENT_STATUSES = [
    (NONE, "No payment"),
    (AWAITING_PAYMENT, "Awaiting payment"),
    (PAID, "Paid"),
    (PARTIALLY_REFUNDED, "Partially refunded"),
    (REFUNDED, "Refunded"),
    (FAILED, "Payment failed"),
    (CANCELLED, "Payment cancelled"),
]
UNPAID = (Payment.Status.PENDING, Payment.Status.FAILED)


@dataclass(frozen=True)
class PaymentSummary:
    mode: str
    status: str
    amount_due: Decimal
    amount_paid: Decimal
    amount_refunded: Decimal
    currency: str
    gateway: str | None
    reference: str | None
    failure_reason: str | None
    client_secret: str | None  # for the checkout of the charge still owed online; shown to its creator only
    charge: Payment | None  # the latest charge, which the rest describes


def with_payments(bookings: QuerySet[Booking]) -> QuerySet[Booking]:
    """Bookings with their payment rows prefetched: one query for all of them. The summary also reads
    the booking's service (its payment mode): join it where many bookings are read."""
    return bookings.prefetch_related(Prefetch("payments", queryset=Payment.objects.order_by("created_at", "id")))


def booking_payments(booking: Booking) -> list[Payment]:
    """The booking's payment rows, oldest first: the prefetched ones when there are."""
    return sorted(booking.payments.all(), key=lambda p: (p.created_at, p.pk))


def payment_summary(booking: Booking, payments: list[Payment] | None = None) -> PaymentSummary:
    """What the booking owes, has paid and has had refunded, and one status for it.

    Refunds owed count as made (as `payments.ledger.paid` counts them): the money is on its way back
    once the refund row exists, even while the gateway is down. The status, first that applies:
    none (no rows), refunded (everything paid went back), partially_refunded, failed (the latest
    attempt at a charge still owed was refused), awaiting_payment (a charge is owed: online, or at
    the venue), paid, cancelled (every charge was cancelled unpaid).
    """
    rows = booking_payments(booking) if payments is None else payments
    charges = [p for p in rows if p.kind == Payment.Kind.CHARGE]
    paid = sum((p.amount for p in charges if p.status == Payment.Status.SUCCEEDED), ZERO)
    due = sum((p.amount for p in charges if p.status in UNPAID), ZERO)
    refunded = sum((p.amount for p in rows if p.kind == Payment.Kind.REFUND and p.status in REFUND_COUNTS), ZERO)
    latest = charges[-1] if charges else None
    if not rows:
        status = NONE
    elif paid > 0 and refunded >= paid:
        status = REFUNDED
    elif refunded > 0:
        status = PARTIALLY_REFUNDED
    elif due > 0:
        status = FAILED if latest is not None and latest.status == Payment.Status.FAILED else AWAITING_PAYMENT
    elif paid > 0:
        status = PAID
    else:
        status = CANCELLED
    owed_online = next(
        (p for p in reversed(charges) if p.status in UNPAID and p.gateway == Payment.Gateway.STRIPE), None
    )
    return PaymentSummary(
        mode=booking.service.payment_mode,
        status=status,
        amount_due=due,
        amount_paid=paid,
        amount_refunded=refunded,
        currency=booking.currency,
        gateway=latest.gateway if latest else None,
        reference=(latest.reference or None) if latest else None,
        failure_reason=(latest.failure_reason or None) if latest else None,
        client_secret=(owed_online.client_secret or None) if owed_online else None,
        charge=latest,
    )


def refundable_amount(booking: Booking) -> Decimal:
    """Paid and not yet refunded: what a staff refund may give back at most (`payment_refund` decides)."""
    summary = payment_summary(booking)
    return max(ZERO, summary.amount_paid - summary.amount_refunded)


def pending_at_venue_charges(booking: Booking) -> list[Payment]:
    charge, at_venue, pending = Payment.Kind.CHARGE, Payment.Gateway.AT_VENUE, Payment.Status.PENDING
    return [p for p in booking_payments(booking) if (p.kind, p.gateway, p.status) == (charge, at_venue, pending)]


# The console's payment filter: a name -> the bookings it keeps.
def _any(**conditions) -> Exists:
    return Exists(Payment.objects.filter(booking=OuterRef("pk"), **conditions))


def bookings_with_payment_state(bookings: QuerySet[Booking], state: str) -> QuerySet[Booking]:
    """Narrow `bookings` to a payment state: awaiting (an online charge owed), paid (paid, nothing
    refunded), refunded (some or all refunded), at_venue (a charge owed at the venue), none (no rows)."""
    charge, refund = Payment.Kind.CHARGE, Payment.Kind.REFUND
    match state:
        case "awaiting":
            return bookings.filter(_any(kind=charge, gateway=Payment.Gateway.STRIPE, status__in=UNPAID))
        case "paid":
            return bookings.filter(_any(kind=charge, status=Payment.Status.SUCCEEDED)).exclude(
                _any(kind=refund, status__in=REFUND_COUNTS)
            )
        case "refunded":
            return bookings.filter(_any(kind=refund, status__in=REFUND_COUNTS))
        case "at_venue":
            return bookings.filter(_any(kind=charge, gateway=Payment.Gateway.AT_VENUE, status=Payment.Status.PENDING))
        case "none":
            return bookings.exclude(_any())
    return bookings


# --- the customer pages and messages ----------------------------------------------------------


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
