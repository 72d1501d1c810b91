"""Payment rows written inside a booking's transaction (docs/decisions/0013-payments.md).

scheduling.services calls these hooks with the booking row locked (SELECT ... FOR UPDATE), so the charge,
the refund rows and the gateway calls they owe commit or roll back with the booking change. Like
notifications.services, this module imports scheduling models, never scheduling services.

Lock order: provider, booking (the caller's), then payment rows. Nothing locks a payment row and then a
booking.
"""

from datetime import timedelta
from decimal import ROUND_DOWN, Decimal

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from booking_site import money
from notifications import webhook_events
from payments.models import GatewayCall, Payment
from scheduling.models import Booking, CancelReason, PaymentMode

ZERO = Decimal("0.00")
CHARGE, REFUND = Payment.Kind.CHARGE, Payment.Kind.REFUND
# A refund is owed or made once its row exists, whether the gateway has answered yet or not.
REFUND_COUNTS = (Payment.Status.PENDING, Payment.Status.SUCCEEDED)


def gateway_for_mode(mode: str) -> str | None:
    return {PaymentMode.ONLINE: Payment.Gateway.STRIPE, PaymentMode.AT_VENUE: Payment.Gateway.AT_VENUE}.get(mode)


def booking_created(*, booking: Booking) -> Payment | None:
    """The charge a new booking owes: for an online service the customer pays it now, before the
    booking is confirmed; at the venue, staff mark it paid later. Free and `none` services owe none."""
    gateway = gateway_for_mode(booking.service.payment_mode)
    if gateway is None or booking.price <= 0:
        # The new booking has no payment rows: left on the instance as a prefetch would leave them, so the
        # API's answer about it reads none (payments.selectors.booking_payments). Set directly: Django's
        # prefetch_related_objects of an empty queryset costs more CPU than the query it saves.
        booking._prefetched_objects_cache = {
            **getattr(booking, "_prefetched_objects_cache", {}),
            "payments": Payment.objects.none(),
        }
        return None
    return Payment.objects.create(
        booking=booking, kind=CHARGE, amount=booking.price, currency=booking.currency, gateway=gateway
    )


def awaits_online_payment(*, booking: Booking) -> bool:
    """A pending booking held while its customer pays online (not waiting for staff to confirm)."""
    return Payment.objects.filter(
        booking=booking,
        kind=CHARGE,
        gateway=Payment.Gateway.STRIPE,
        status__in=(Payment.Status.PENDING, Payment.Status.FAILED),
    ).exists()


def paid(*, booking: Booking) -> Decimal:
    """What the customer has paid for this booking and not been refunded (refunds owed count as made)."""
    charged = _sum(Payment.objects.filter(booking=booking, kind=CHARGE, status=Payment.Status.SUCCEEDED))
    refunded = _sum(Payment.objects.filter(booking=booking, kind=REFUND, status__in=REFUND_COUNTS))
    return charged - refunded


def _sum(queryset) -> Decimal:
    return queryset.aggregate(total=Sum("amount"))["total"] or ZERO


def hold_expiry_reason(*, booking: Booking) -> str:
    """A hold that ran out after a refused payment was cancelled by that refusal, not by time alone."""
    latest = Payment.objects.filter(booking=booking, kind=CHARGE).order_by("-created_at", "-id").first()
    if latest is not None and latest.status == Payment.Status.FAILED:
        return CancelReason.PAYMENT_FAILED
    return CancelReason.EXPIRED


def booking_cancelled(*, booking: Booking, reason: str, fee: Decimal) -> Decimal:
    """Settle a cancelled booking's unpaid charges; return what is to be refunded, which the caller
    records on the booking and then refunds with `refund_cancellation` (so the cancellation is told,
    with its refund amount, before the refund).

    Charges not paid are cancelled (at the gateway by a worker, for an online one). What was paid is
    refunded by the booking's policy snapshot: `fee` (the late fee, only for a customer's own late
    cancellation) is kept, the rest goes back; a provider cancelling, a hold expiring or a failed
    payment refunds everything. A rescheduled booking refunds nothing here: its payments move to the
    booking that replaces it (`booking_rescheduled`).
    """
    if reason == CancelReason.RESCHEDULED:
        return ZERO
    cancel_unpaid_charges(booking=booking)
    return max(ZERO, paid(booking=booking) - _whole_minor(fee, booking.currency))


def refund_cancellation(*, booking: Booking) -> None:
    """Write the refund `booking_cancelled` decided (`booking.refund_amount`), if any."""
    refund(booking=booking, amount=booking.refund_amount or ZERO, reason=Payment.Reason.CANCELLATION)


def _whole_minor(amount: Decimal, currency: str) -> Decimal:
    """Down to the currency's smallest unit, so a refund is an amount the gateway can pay (a fee of
    100.50 JPY keeps 100 yen)."""
    return amount.quantize(money.minor_unit(currency), rounding=ROUND_DOWN)


def cancel_unpaid_charges(*, booking: Booking, keep: Payment | None = None) -> None:
    unpaid = Payment.objects.select_for_update().filter(
        booking=booking, kind=CHARGE, status__in=(Payment.Status.PENDING, Payment.Status.FAILED)
    )
    for charge in unpaid:
        if keep is not None and charge.pk == keep.pk:
            continue
        charge.status = Payment.Status.CANCELLED
        charge.save(update_fields=["status", "updated_at"])
        if charge.reference:
            owe_call(payment=charge, action=GatewayCall.Action.CANCEL_CHARGE)


def refund(*, booking: Booking, amount: Decimal, reason: str, user=None) -> list[Payment]:
    """Write refund rows for `amount` against the booking's paid charges, newest first, each one owing
    a gateway call. The caller has checked `amount` against what was paid."""
    if amount <= 0:
        return []
    charges = Payment.objects.select_for_update().filter(booking=booking, kind=CHARGE, status=Payment.Status.SUCCEEDED)
    rows = []
    left = amount
    for charge in sorted(charges, key=lambda c: (c.created_at, c.pk), reverse=True):
        refunded = _sum(charge.refunds.filter(status__in=REFUND_COUNTS))
        part = min(left, charge.amount - refunded)
        if part <= 0:
            continue
        row = Payment.objects.create(
            booking=booking,
            kind=REFUND,
            amount=part,
            currency=charge.currency,
            gateway=charge.gateway,
            refund_of=charge,
            reason=reason,
            recorded_by=user,
        )
        owe_call(payment=row, action=GatewayCall.Action.REFUND)
        webhook_events.payment_event(payment=row, booking=booking, type_=webhook_events.PAYMENT_REFUNDED)
        rows.append(row)
        left -= part
        if left <= 0:
            break
    if left > 0:
        raise ValueError(f"Refund of {amount} exceeds what booking {booking.pk} paid by {left}.")
    return rows


def owe_call(*, payment: Payment, action: str) -> GatewayCall:
    call = GatewayCall.objects.create(payment=payment, action=action, next_attempt_at=timezone.now())
    # Imported here: tasks import services, which import this module.
    from payments import tasks

    transaction.on_commit(lambda: tasks.kick_gateway_calls(call.pk))
    return call


def amount_owed(*, booking: Booking, price: Decimal) -> Decimal:
    """What a booking moved to a time costing `price` still owes once its payments carry over
    (negative: what it is owed back). A difference below the smallest charge the gateway takes (0.50 EUR,
    50 JPY) is waived: it could never be paid, and holding the booking for it would only lose it."""
    owed = price - paid(booking=booking)
    if ZERO < owed < money.minimum_charge(booking.currency) and paid(booking=booking) > 0:
        return ZERO
    return owed


def carry_over(*, old: Booking, new: Booking) -> None:
    """Move the old booking's payments to the new one, before the move is told (so its snapshot shows
    what was paid) and before `booking_rescheduled` settles the difference (so a refund follows it)."""
    Payment.objects.filter(booking=old).update(booking=new, updated_at=timezone.now())


def booking_rescheduled(*, old: Booking, new: Booking) -> Payment | None:
    """Settle the difference in price once the old booking's payments are on the new one: the caller
    has called `carry_over` first.

    Returns the charge the new booking still has to pay online (the new booking is then pending), if any.
    """
    gateway = gateway_for_mode(new.service.payment_mode)
    owed = amount_owed(booking=new, price=new.price)
    unpaid = list(
        Payment.objects.select_for_update().filter(
            booking=new, kind=CHARGE, status__in=(Payment.Status.PENDING, Payment.Status.FAILED)
        )
    )
    # An unpaid charge of exactly what is owed (a checkout in progress) stays; any other is replaced.
    keep = next((c for c in unpaid if c.amount == owed and c.gateway == gateway), None)
    cancel_unpaid_charges(booking=new, keep=keep)
    if owed < 0:
        refund(booking=new, amount=-owed, reason=Payment.Reason.PRICE_DIFFERENCE)
        return None
    if owed == 0 or gateway is None:
        return None
    if keep is not None:
        return keep
    return Payment.objects.create(
        booking=new,
        kind=CHARGE,
        amount=owed,
        currency=new.currency,
        gateway=gateway,
        reason=Payment.Reason.PRICE_DIFFERENCE if owed != new.price else Payment.Reason.BOOKING,
    )


def claim_due_calls(*, limit: int, lease: timedelta) -> list[GatewayCall]:
    """Claim due gateway calls (SELECT ... FOR UPDATE SKIP LOCKED), pushing each one lease ahead so a
    worker killed mid-call leaves it due again, never lost."""
    now = timezone.now()
    with transaction.atomic():
        calls = list(
            GatewayCall.objects.select_for_update(skip_locked=True)
            .filter(status=GatewayCall.Status.PENDING, next_attempt_at__lte=now)
            .order_by("next_attempt_at", "id")[:limit]
        )
        for call in calls:
            call.attempts += 1
            call.next_attempt_at = now + lease
            call.save(update_fields=["attempts", "next_attempt_at"])
    return calls
