"""Payment operations (docs/decisions/0013-payments.md). Views, the webhook, the console and tasks call these.

Gateway calls are never made inside a transaction or under a lock: a slow gateway must not hold a
booking's row. The calls that follow a committed state change (a refund on cancel, cancelling a charge
whose hold ran out) are `GatewayCall` rows made by `gateway_calls_run`, retried until done.

Lock order: provider, booking (scheduling.services.payment_outcomes.booking_lock_for_payment), then
payment rows; the gateway-call runner locks call rows, then payment rows, and settles a booking only
in a transaction of its own.
"""

import logging
import uuid
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext

from booking_site import money
from booking_site.sql import insert_ignoring_conflicts
from notifications import services as notifications
from notifications import webhook_events
from notifications.models import Notification
from payments import ledger
from payments.gateways import base, gateway_for
from payments.models import GatewayCall, GatewayEvent, Payment
from scheduling.errors import DomainError, InvalidInput, InvalidTransition, SlotUnavailable
from scheduling.models import REINSTATABLE_REASONS, Booking, BookingStatus
from scheduling.services.payment_outcomes import booking_confirm_paid, booking_lock_for_payment, booking_reinstate
from waitlist import hooks as waitlist_hooks

logger = logging.getLogger(__name__)

BATCH_SIZE = 50


class PaymentDeclined(DomainError):
    """The customer's card was refused; the booking stays held and they may try another."""

    code = "payment_declined"
    http_status = 402


def _charge_key(payment: Payment) -> str:
    return f"booking-site-payment-{payment.pk}"


def _metadata(payment: Payment) -> dict[str, str]:
    return {"payment_id": str(payment.pk), "booking": payment.booking.reference}


# --- the customer's checkout -------------------------------------------------------------------


def checkout_charge(*, booking: Booking) -> Payment | None:
    """The online charge a held booking waits for, started at the gateway if it is not yet: the
    booking is written (and its slot held) before the charge exists, never after. Returns None when
    the booking owes nothing online. A gateway that is down raises GatewayError and leaves the charge
    to be started on the next visit to the checkout; the hold keeps running meanwhile."""
    payment = (
        Payment.objects.select_related("booking")
        .filter(booking=booking, kind=Payment.Kind.CHARGE, gateway=Payment.Gateway.STRIPE)
        .exclude(status=Payment.Status.CANCELLED)
        .order_by("-created_at", "-id")
        .first()
    )
    if payment is None or payment.reference or payment.status == Payment.Status.SUCCEEDED:
        return payment
    state = gateway_for(payment.gateway).start_charge(
        amount=payment.amount,
        currency=payment.currency,
        idempotency_key=_charge_key(payment),
        metadata=_metadata(payment),
    )
    with transaction.atomic():
        payment = Payment.objects.select_for_update().select_related("booking").get(pk=payment.pk)
        if not payment.reference:  # a concurrent visit may have stored the same intent (same idempotency key)
            payment.reference, payment.client_secret = state.reference, state.client_secret
            payment.save(update_fields=["reference", "client_secret", "updated_at"])
            if payment.status == Payment.Status.CANCELLED:
                # Cancelled (the hold ran out, the customer gave up) while the intent was being made: it
                # owes the gateway a cancellation like any other, so nobody can pay it.
                ledger.owe_call(payment=payment, action=GatewayCall.Action.CANCEL_CHARGE)
    return payment


@dataclass(frozen=True)
class PayOutcome:
    payment: Payment
    status: str  # the gateway's, in base's words: succeeded, requires_action, processing, ...
    client_secret: str = ""


def payment_pay(*, payment_id: int, card_token: str) -> PayOutcome:
    """Pay a held booking's charge with a card token from the checkout page (Stripe.js).

    Refused while nothing is owed, or once the hold has run out (the customer is told to book again;
    a payment racing the end of the hold is settled by the late-payment rule in `payment_succeeded`).
    A declined card raises PaymentDeclined and keeps the booking held: the customer may retry.
    """
    payment = Payment.objects.select_related("booking").filter(pk=payment_id, kind=Payment.Kind.CHARGE).first()
    if payment is None:
        raise InvalidInput(gettext("No such payment."), field="payment")
    if payment.status == Payment.Status.SUCCEEDED:
        return PayOutcome(payment=payment, status=base.SUCCEEDED)
    booking = payment.booking
    if payment.status == Payment.Status.CANCELLED or booking.status != BookingStatus.PENDING:
        raise InvalidTransition(gettext("This booking is no longer waiting for a payment."))
    if booking.hold_expires_at <= timezone.now():
        raise InvalidTransition(gettext("The time held for you has run out; please choose a time again."))
    if not card_token:
        raise InvalidInput(gettext("Enter your card details."), field="card")
    payment = checkout_charge(booking=booking)
    gateway = gateway_for(payment.gateway)
    try:
        state = gateway.pay(
            reference=payment.reference,
            card_token=card_token,
            email=booking.customer_email,
            idempotency_key=f"{_charge_key(payment)}-attempt-{uuid.uuid4().hex}",
        )
    except base.CardDeclined as declined:
        payment_attempt_failed(payment_id=payment.pk, failure=declined.message)
        raise PaymentDeclined(declined.message) from declined
    payment = payment_record_state(payment_id=payment.pk, state=state)
    return PayOutcome(payment=payment, status=state.status, client_secret=state.client_secret)


def payment_refresh(*, payment_id: int) -> Payment:
    """Ask the gateway where a charge stands and settle it: the checkout page's return after 3-D Secure,
    which may arrive before the webhook does."""
    payment = Payment.objects.get(pk=payment_id)
    if not payment.reference or payment.status == Payment.Status.SUCCEEDED:
        return payment
    state = gateway_for(payment.gateway).charge_state(reference=payment.reference)
    return payment_record_state(payment_id=payment.pk, state=state)


def payment_record_state(*, payment_id: int, state: base.ChargeState) -> Payment:
    if state.status == base.SUCCEEDED:
        return payment_succeeded(payment_id=payment_id)
    if state.status == base.REQUIRES_PAYMENT and state.failure:
        return payment_attempt_failed(payment_id=payment_id, failure=state.failure)
    return Payment.objects.get(pk=payment_id)


# --- outcomes, from the page, the webhook or the gateway-call runner ----------------------------


def _lock_booking_then_payment(*, payment_id: int, lock_booking) -> tuple:
    """Lock the payment's booking (with `lock_booking`, given the booking's id), then the payment row.

    The booking id is read before its lock, so a reschedule committing in between has moved the
    payment to the new booking (payments.ledger.carry_over) and the lock taken is the old one's: read
    it again under the lock and, if it moved, lock the booking it is on now. Once more is enough in
    practice (a second move in that instant would need the new booking rescheduled too); a third
    read that still differs is refused rather than settled against the wrong booking."""
    for _ in range(3):
        booking_id = Payment.objects.values_list("booking_id", flat=True).get(pk=payment_id)
        booking = lock_booking(booking_id)
        payment = Payment.objects.select_for_update().get(pk=payment_id)
        if payment.booking_id == booking_id:
            return booking, payment
    raise InvalidTransition("The payment's booking keeps changing; try again.")


def payment_succeeded(*, payment_id: int) -> Payment:
    """Record a charge the gateway says succeeded, once, and settle its booking.

    Locks the provider and booking rows (booking_lock_for_payment), then the payment row. The booking:
    - held (pending): confirmed, with its reminders and confirmation, even past its hold, which a
      pending booking never gives up;
    - cancelled by its hold running out or a failed payment: the late-payment rule. The same slot is
      taken back if it is still free (and confirmed); otherwise the payment is refunded in full and the
      customer told. No customer ever pays without a booking or a refund;
    - cancelled otherwise (the customer gave up at checkout): refunded in full;
    - confirmed already: nothing more (a price difference now paid), except that whatever takes the
      payments above the booking's price (a replaced charge paid anyway) is refunded.
    """
    with transaction.atomic():
        booking, payment = _lock_booking_then_payment(
            payment_id=payment_id, lock_booking=lambda pk: booking_lock_for_payment(booking_id=pk)
        )
        if payment.status == Payment.Status.SUCCEEDED:
            return payment
        payment.status, payment.failure_reason, payment.succeeded_at = Payment.Status.SUCCEEDED, "", timezone.now()
        payment.save(update_fields=["status", "failure_reason", "succeeded_at", "updated_at"])
        webhook_events.payment_event(payment=payment, booking=booking, type_=webhook_events.PAYMENT_SUCCEEDED)
        if booking.status == BookingStatus.PENDING:
            if waitlist_hooks.is_offer(booking=booking) and booking.hold_expires_at <= timezone.now():
                # A waitlist offer is the customer's only within its time; the slot goes on in line.
                _refund_late(booking=booking, payment=payment)
                return payment
            if ledger.paid(booking=booking) >= booking.price:
                # Paid in full: other charges still open (replaced, or refused) are not wanted any more.
                ledger.cancel_unpaid_charges(booking=booking)
                booking_confirm_paid(booking_id=booking.pk)
        elif booking.status == BookingStatus.CANCELLED:
            _settle_late_payment(booking=booking, payment=payment)
            return payment
        # A charge replaced meanwhile (a reschedule) but paid anyway must not leave the customer
        # paying twice for one booking: what exceeds the price goes back.
        excess = ledger.paid(booking=booking) - booking.price
        if excess > 0:
            ledger.refund(booking=booking, amount=excess, reason=Payment.Reason.LATE_PAYMENT)
        return payment


def _settle_late_payment(*, booking: Booking, payment: Payment) -> None:
    """The slot back only for the booking's own lapsed hold, paid in full, and never for a waitlist
    offer (the next in line has its turn); otherwise the payment goes back."""
    takes_back = (
        booking.cancel_reason in REINSTATABLE_REASONS
        and not waitlist_hooks.is_offer(booking=booking)
        and ledger.paid(booking=booking) >= booking.price
    )
    if takes_back:
        try:
            with transaction.atomic():
                booking_reinstate(booking_id=booking.pk)
            logger.info("Late payment %s took booking %s's slot back", payment.pk, booking.reference)
            return
        except (SlotUnavailable, InvalidTransition) as exc:
            logger.info("Late payment %s refunded: booking %s's slot is gone (%s)", payment.pk, booking.reference, exc)
    _refund_late(booking=booking, payment=payment)


def _refund_late(*, booking: Booking, payment: Payment) -> None:
    ledger.refund(booking=booking, amount=payment.amount, reason=Payment.Reason.LATE_PAYMENT)
    booking.refresh_from_db()
    notifications.notifications_enqueue(booking=booking, kind=Notification.Kind.PAYMENT_REFUNDED, provider=False)


def payment_attempt_failed(*, payment_id: int, failure: str) -> Payment:
    """Record a refused attempt: the charge is failed (with why) and the booking stays held so the
    customer may retry; if the hold runs out first, the booking is cancelled with reason payment_failed
    (scheduling.services.booking_expire_holds). A failure reported after a success changes nothing.
    Locks the booking row, then the payment row."""
    with transaction.atomic():
        _, payment = _lock_booking_then_payment(
            payment_id=payment_id,
            lock_booking=lambda pk: (
                Booking.objects.select_for_update().filter(pk=pk).values_list("pk", flat=True).first()
            ),
        )
        if payment.status in (Payment.Status.PENDING, Payment.Status.FAILED):
            payment.status, payment.failure_reason = Payment.Status.FAILED, failure[:500]
            payment.save(update_fields=["status", "failure_reason", "updated_at"])
        return payment


# --- staff ---------------------------------------------------------------------------------------


def payment_refund(
    *, booking_id: int, amount: Decimal | None = None, user=None, expected_refundable: Decimal | None = None
) -> list[Payment]:
    """Refund a booking's payments, in full (`amount` None) or in part, never more than was paid and
    not yet refunded. The refund rows and their gateway calls commit together; a worker makes the calls.
    Locks the booking row, then its payment rows.

    `expected_refundable`, what the caller saw as refundable (the console's form carries it), refuses
    the refund if that changed meanwhile: a form sent twice, or two people refunding at once."""
    with transaction.atomic():
        booking = Booking.objects.select_for_update().filter(pk=booking_id).first()
        if booking is None:
            raise InvalidInput(gettext("No such booking."), field="booking")
        refundable = ledger.paid(booking=booking)
        if expected_refundable is not None and refundable != expected_refundable:
            raise InvalidTransition(
                f"The payments changed since this form was opened: now {refundable} {booking.currency} can be "
                "refunded. Check the booking's payments and try again."
            )
        if refundable <= 0:
            raise InvalidInput("Nothing has been paid for this booking, so nothing can be refunded.", field="amount")
        amount = refundable if amount is None else amount
        if amount <= 0:
            raise InvalidInput("The amount to refund must be above zero.", field="amount")
        if not money.is_whole_minor_amount(amount, booking.currency):
            unit = money.minor_unit(booking.currency)
            raise InvalidInput(f"{booking.currency} has no smaller unit than {unit}.", field="amount")
        if amount > refundable:
            raise InvalidInput(
                f"At most {refundable} {booking.currency} can be refunded: that is what was paid and not yet refunded.",
                field="amount",
            )
        rows = ledger.refund(booking=booking, amount=amount, reason=Payment.Reason.STAFF, user=user)
        if booking.status == BookingStatus.CANCELLED:
            # The cancelled booking's pages and messages state what was refunded; keep it whole.
            booking.refund_amount = (booking.refund_amount or Decimal("0.00")) + amount
            booking.save(update_fields=["refund_amount", "updated_at"])
        return rows


def payment_mark_paid(*, payment_id: int, user=None) -> Payment:
    """Record that a charge due at the venue was paid. Locks the booking row, then the payment row."""
    with transaction.atomic():
        booking_id = Payment.objects.values_list("booking_id", flat=True).filter(pk=payment_id).first()
        if booking_id is None:
            raise InvalidInput(gettext("No such payment."), field="payment")
        booking = Booking.objects.select_for_update().get(pk=booking_id)
        payment = Payment.objects.select_for_update().get(pk=payment_id)
        if payment.gateway != Payment.Gateway.AT_VENUE or payment.kind != Payment.Kind.CHARGE:
            raise InvalidTransition("Only a charge due at the venue is marked paid by staff.")
        if payment.status != Payment.Status.PENDING:
            raise InvalidTransition(f"This charge is {payment.get_status_display().lower()}, not waiting to be paid.")
        payment.status, payment.succeeded_at, payment.recorded_by = Payment.Status.SUCCEEDED, timezone.now(), user
        payment.save(update_fields=["status", "succeeded_at", "recorded_by", "updated_at"])
        webhook_events.payment_event(payment=payment, booking=booking, type_=webhook_events.PAYMENT_SUCCEEDED)
        return payment


# --- webhooks ------------------------------------------------------------------------------------

HANDLED_EVENTS = ("payment_intent.succeeded", "payment_intent.payment_failed")


def webhook_receive(*, gateway_name: str, body: bytes, signature: str) -> str:
    """Verify a gateway's webhook and process it once per event id. Raises InvalidWebhook (a 400) for
    a bad signature, changing nothing. Returns what was done, for the log and the response.

    The event is recorded in the transaction that processes it: a crash rolls both back and the
    gateway's retry processes it again; a second delivery finds it recorded and does nothing."""
    event = gateway_for(gateway_name).parse_webhook(body=body, signature=signature)
    if event.type not in HANDLED_EVENTS:
        return "ignored"
    with transaction.atomic():
        recorded = insert_ignoring_conflicts(
            [GatewayEvent(gateway=gateway_name, event_id=event.event_id, type=event.type)]
        )
        if not recorded:
            return "duplicate"
        payment_id = (
            Payment.objects.filter(gateway=gateway_name, reference=event.reference, kind=Payment.Kind.CHARGE)
            .values_list("pk", flat=True)
            .first()
        )
        if payment_id is None:
            logger.warning("Webhook %s %s names no payment of ours (%s)", event.type, event.event_id, event.reference)
            return "unknown payment"
        if event.type == "payment_intent.succeeded":
            payment_succeeded(payment_id=payment_id)
        else:
            payment_attempt_failed(payment_id=payment_id, failure=event.failure or "The payment failed.")
        return "processed"


# --- the gateway calls owed after state changes ----------------------------------------------------


def gateway_calls_run(*, limit: int = BATCH_SIZE) -> int:
    """Make the due gateway calls (refunds, cancelling charges); return how many were completed.

    Claimed with SKIP LOCKED and a lease (payments.ledger.claim_due_calls), so parallel workers never make
    the same call at once and a worker killed mid-call leaves it due again. The gateway sees the call
    row's id as the idempotency key (and a refund also looks for its own marker first), so a retry after
    a crash between the gateway's answer and our record never refunds twice. A gateway that is down
    delays the call with backoff, forever if need be; it never undoes the cancellation that owed it.
    """
    lease = timedelta(seconds=settings.PAYMENTS_CLAIM_LEASE_SECONDS)
    done = 0
    for call in ledger.claim_due_calls(limit=limit, lease=lease):
        # The batch's lease started when it was claimed: renew it for this call, or leave the call to
        # the worker that claimed it since (a slow gateway ran the lease out), never make it twice.
        renewed = GatewayCall.objects.filter(pk=call.pk, status=GatewayCall.Status.PENDING, attempts=call.attempts)
        if not renewed.update(next_attempt_at=timezone.now() + lease):
            continue
        try:
            if _make_call(call):
                done += 1
        except base.GatewayError as exc:
            _call_failed(call, error=str(exc))
        except Exception as exc:  # a bug must not stop the batch; the call stays due and says why
            logger.exception("Gateway call %s failed", call.pk)
            _call_failed(call, error=f"{type(exc).__name__}: {exc}")
    return done


def _make_call(call: GatewayCall) -> bool:
    payment = Payment.objects.select_related("refund_of", "booking").get(pk=call.payment_id)
    gateway = gateway_for(payment.gateway)
    if call.action == GatewayCall.Action.REFUND:
        reference = gateway.refund(
            reference=payment.refund_of.reference,
            amount=payment.amount,
            currency=payment.currency,
            idempotency_key=call.idempotency_key,
            metadata=_metadata(payment),
        )
        return _record_call(call, payment_fields={"status": Payment.Status.SUCCEEDED, "reference": reference})
    state = gateway.cancel_charge(reference=payment.reference, idempotency_key=call.idempotency_key)
    if state.status == base.PROCESSING:
        raise base.GatewayError("The charge is still processing; it will be cancelled or settled later.")
    if state.status == base.SUCCEEDED:
        # Paid after all, just before the cancellation reached the gateway: the late-payment rule,
        # settled before the call is marked done, so a crash between the two retries the call, which
        # finds the payment settled (payment_succeeded does nothing twice).
        payment_succeeded(payment_id=payment.pk)
    return _record_call(call, payment_fields={})


def _record_call(call: GatewayCall, *, payment_fields: dict) -> bool:
    with transaction.atomic():
        locked = GatewayCall.objects.select_for_update().get(pk=call.pk)
        if locked.status == GatewayCall.Status.DONE:
            return False
        locked.status, locked.done_at, locked.last_error = GatewayCall.Status.DONE, timezone.now(), ""
        locked.save(update_fields=["status", "done_at", "last_error"])
        if payment_fields:
            payment = Payment.objects.select_for_update().get(pk=call.payment_id)
            for name, value in payment_fields.items():
                setattr(payment, name, value)
            if payment.status == Payment.Status.SUCCEEDED and payment.succeeded_at is None:
                payment.succeeded_at = timezone.now()
            payment.save()
    return True


def _call_failed(call: GatewayCall, *, error: str) -> None:
    backoff = settings.PAYMENTS_RETRY_BACKOFF_SECONDS * 2 ** min(call.attempts - 1, 6)
    GatewayCall.objects.filter(pk=call.pk, status=GatewayCall.Status.PENDING).update(
        last_error=error[:2000], next_attempt_at=timezone.now() + timedelta(seconds=backoff)
    )
    logger.warning("Gateway call %s (%s) failed, attempt %d: %s", call.pk, call.action, call.attempts, error)
