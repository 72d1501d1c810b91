"""Paying for a held booking: the checkout page, its card payment, and giving the time up.

The same access as the confirmation page: the signed cookie `hand_over_token` scopes to
/booked/<reference>/, under which every URL here sits. The card never reaches us: Stripe.js turns it
into a token in the browser, the page posts the token here, and payments.services pays with it. The
page's script talks JSON with `pay` and `pay_return`; each answer has a `status` the script acts on
(succeeded, requires_action, processing, declined, refused, unavailable, invalid) and a `message` in
the page's language.
"""

import json
from datetime import datetime
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from payments import selectors as payment_selectors
from payments.gateways.base import GatewayError
from payments.ledger import awaits_online_payment
from payments.models import Payment
from payments.services import PaymentDeclined, checkout_charge, payment_pay, payment_refresh
from scheduling.errors import InvalidInput, InvalidTransition
from scheduling.models import Booking, CancelReason
from scheduling.services import booking_cancel
from scheduling.views.booking import booking_from_cookie
from scheduling.views.common import booking_post_allowed, not_found, private, render_page, throttled, viewer_zone
from scheduling.views.offer import Offer
from scheduling.views.present import booking_summary, clock, money


def _hold_clock(booking: Booking, tz: ZoneInfo) -> str:
    """The hold's end as the customer reads it: "14:35" (or "2:35 PM" on a 12-hour page)."""
    return clock(booking.hold_expires_at.astimezone(tz)) if booking.hold_expires_at else ""


def _seconds_left(booking: Booking, now: datetime) -> int:
    if booking.hold_expires_at is None:
        return 0
    return max(0, int((booking.hold_expires_at - now).total_seconds()))


def _again_url(booking: Booking) -> str:
    return Offer.of_booking(booking).page_url()


@private
@require_GET
def checkout(request: HttpRequest, reference: str) -> HttpResponse:
    booking, _token = booking_from_cookie(request, reference)
    if booking is None:
        return not_found(request, what="booking")
    if not awaits_online_payment(booking=booking):
        return redirect("pages:confirmation", reference=booking.reference)
    charge = payment_selectors.checkout_charge_due(booking=booking)
    now = timezone.now()
    tz, _zone_chosen = viewer_zone(request, booking.customer_timezone)
    context = booking_summary(booking, viewer_tz=tz, now=now)
    hold_clock = _hold_clock(booking, tz)
    seconds_left = _seconds_left(booking, now)
    context.update(
        {
            "amount": money(charge.amount, charge.currency),
            "status_text": _("Awaiting payment"),
            "hold_clock": hold_clock,
            "seconds_left": seconds_left,
            "declined_before": charge.status == Payment.Status.FAILED,
            "stripe_js_url": settings.STRIPE_JS_URL,
            "again_url": _again_url(booking),
            "cancel_url": reverse("pages:checkout_cancel", args=[booking.reference]),
            # What the page's script says, in the page's language.
            "checkout_js": {
                "publishableKey": settings.STRIPE_PUBLISHABLE_KEY,
                "payUrl": reverse("pages:checkout_pay", args=[booking.reference]),
                "returnUrl": reverse("pages:checkout_pay_return", args=[booking.reference]),
                "doneUrl": reverse("pages:confirmation", args=[booking.reference]),
                "secondsLeft": seconds_left,
                "text": {
                    "paying": _("Paying…"),
                    "left": _("Time left to pay: %(time)s"),
                    "ranOut": _(
                        "The time held for you has run out, so it has been released. Please choose a time again."
                    ),
                    "cardProblem": _("Please check your card details."),
                    "network": _("We could not reach the server. Please check your connection and try again."),
                    "authFailed": _("Your bank did not confirm the payment. Please try again or use another card."),
                },
            },
        }
    )
    return render_page(request, "scheduling/checkout.html", context)


def _answer(status: str, message: str = "", *, http_status: int = 200, **extra) -> JsonResponse:
    response = JsonResponse({"status": status, "message": message, **extra}, status=http_status)
    response["Cache-Control"] = "no-store"
    return response


def _unavailable(request: HttpRequest, booking: Booking) -> JsonResponse:
    tz, _zone_chosen = viewer_zone(request, booking.customer_timezone)
    message = _(
        "The payment service is unavailable. Please try again in a moment; your time stays held until %(time)s."
    ) % {"time": _hold_clock(booking, tz)}
    return _answer("unavailable", message, http_status=503)


def _refused(booking: Booking, exc: InvalidTransition) -> JsonResponse:
    return _answer("refused", exc.detail, http_status=409, again_url=_again_url(booking))


def _succeeded(booking: Booking) -> JsonResponse:
    return _answer(
        "succeeded",
        _("Payment received. Your booking is confirmed."),
        redirect=reverse("pages:confirmation", args=[booking.reference]),
    )


def _declined() -> JsonResponse:
    # Our own words, in the page's language: the gateway's reason is English and sometimes technical.
    return _answer(
        "declined",
        _("Your card was declined. Nothing was charged. Please check the details or use another card."),
        http_status=402,
    )


def _processing() -> JsonResponse:
    return _answer(
        "processing",
        _("Your payment is being processed. This page shows your confirmation once it arrives."),
        http_status=202,
    )


def _paying_booking(request: HttpRequest, reference: str) -> tuple[Booking | None, JsonResponse | None]:
    booking, _token = booking_from_cookie(request, reference)
    if booking is None:
        return None, _answer("not_found", _("This booking could not be found."), http_status=404)
    if not booking_post_allowed(request):
        return None, _answer("throttled", _("Too many attempts. Please wait a minute and try again."), http_status=429)
    return booking, None


@private
@require_POST
def pay(request: HttpRequest, reference: str) -> JsonResponse:
    """Pay with the card token the page's Stripe.js made: {"token": "tok_..."}."""
    booking, refusal = _paying_booking(request, reference)
    if refusal is not None:
        return refusal
    try:
        card_token = str(json.loads(request.body or b"{}").get("token") or "")
    except (ValueError, AttributeError):
        card_token = ""
    try:
        charge = checkout_charge(booking=booking)
        if charge is None:
            raise InvalidTransition(_("This booking is no longer waiting for a payment."))
        outcome = payment_pay(payment_id=charge.pk, card_token=card_token)
    except PaymentDeclined:
        return _declined()
    except InvalidTransition as exc:
        return _refused(booking, exc)
    except InvalidInput as exc:
        return _answer("invalid", exc.detail, http_status=400)
    except GatewayError:
        return _unavailable(request, booking)
    if outcome.status == "succeeded":
        return _succeeded(booking)
    if outcome.status == "requires_action":
        return _answer("requires_action", "", client_secret=outcome.client_secret)
    return _processing()


@private
@require_POST
def pay_return(request: HttpRequest, reference: str) -> JsonResponse:
    """After the bank's check (3-D Secure) in the page: ask the gateway where the charge stands."""
    booking, refusal = _paying_booking(request, reference)
    if refusal is not None:
        return refusal
    charge = payment_selectors.checkout_charge_due(booking=booking)
    if charge is None:
        return _refused(booking, InvalidTransition(_("This booking is no longer waiting for a payment.")))
    try:
        charge = payment_refresh(payment_id=charge.pk)
    except GatewayError:
        return _unavailable(request, booking)
    if charge.status == Payment.Status.SUCCEEDED:
        return _succeeded(booking)
    if charge.status == Payment.Status.FAILED:
        return _declined()
    return _processing()


@private
@require_POST
def checkout_cancel(request: HttpRequest, reference: str) -> HttpResponse:
    """Give the held time up before paying: the booking is cancelled by its customer and the time freed.
    Nothing was paid, so nothing is refunded (a payment that still lands is refunded by the late rule)."""
    booking, _token = booking_from_cookie(request, reference)
    if booking is None:
        return not_found(request, what="booking")
    if not booking_post_allowed(request):
        return throttled(request)
    if not awaits_online_payment(booking=booking):
        return redirect("pages:confirmation", reference=booking.reference)
    try:
        booking_cancel(booking_id=booking.pk, reason=CancelReason.CUSTOMER)
    except InvalidTransition:
        return redirect("pages:confirmation", reference=booking.reference)
    messages.success(request, _("Your booking is cancelled and the time is free again. Nothing was charged."))
    return redirect("pages:confirmation", reference=booking.reference)
