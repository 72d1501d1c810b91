"""The private manage link `/b/<reference>/<token>/`: details, cancel, reschedule, calendar file.

Pages are GETs under the token URL. The two actions POST to token-free URLs with the token in the
body, so an error response never writes a valid token into a request log. A wrong token and an
unknown reference get the same friendly 404.
"""

from datetime import timedelta
from decimal import Decimal, InvalidOperation
from urllib.parse import urlencode

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from payments import selectors as payment_selectors
from payments.ledger import awaits_online_payment
from scheduling import selectors
from scheduling.availability import Verdict
from scheduling.errors import InvalidInput, InvalidTransition, SlotNotOffered, SlotUnavailable
from scheduling.forms_public import CancelForm, parse_start, utc_iso
from scheduling.ics import booking_calendar, ics_response
from scheduling.models import Booking, CancelReason
from scheduling.services import booking_cancel, booking_reschedule
from scheduling.views.booking import alternatives, hand_over_token, label_alternatives
from scheduling.views.calendar import (
    build_week,
    horizon_day,
    jump_context,
    monday_of,
    requested_monday,
    week_bounds,
    week_end_instant,
    week_title,
)
from scheduling.views.common import (
    booking_post_allowed,
    method_not_allowed,
    not_found,
    private,
    render_page,
    throttled,
    viewer_zone,
)
from scheduling.views.offer import Offer
from scheduling.views.present import booking_summary, clock, money, slot_terms, span, why_not


def _manage_path(booking: Booking, token: str) -> str:
    return reverse("pages:manage", args=[booking.reference, token])


def _no_longer(verb: str) -> str:
    return {
        "cancelled": _("This booking can no longer be cancelled online."),
        "moved": _("This booking can no longer be moved online."),
    }[verb]


def _open_for_action(
    request: HttpRequest, reference: str, *, verb: str
) -> tuple[Booking | None, str, HttpResponse | None]:
    """The checks every manage-link POST makes first: method, throttle, token, and that the booking
    can still change. Returns the booking and token, or the response that refuses the request."""
    token = request.POST.get("token", "")
    if request.method != "POST":
        return None, token, method_not_allowed(request)
    if not booking_post_allowed(request):
        return None, token, throttled(request)
    booking = selectors.booking_by_manage_token(reference=reference, token=token)
    if booking is None:
        return None, token, not_found(request, what="booking")
    if not booking.is_live or timezone.now() >= booking.start_at:
        messages.info(request, _no_longer(verb))
        return booking, token, redirect(_manage_path(booking, token))
    return booking, token, None


def _base_context(request: HttpRequest, booking: Booking, token: str) -> dict:
    tz, _zone_chosen = viewer_zone(request, booking.customer_timezone)
    context = booking_summary(booking, viewer_tz=tz, now=timezone.now())
    context.update(
        {
            "token": token,
            "manage_path": _manage_path(booking, token),
            "ics_url": reverse("pages:manage_ics", args=[booking.reference, token]),
            "cancel_url": reverse("pages:cancel_confirm", args=[booking.reference, token]),
            "reschedule_url": reverse("pages:reschedule", args=[booking.reference, token]),
            "revoke_url": reverse("pages:revoke_links", args=[booking.reference]),
        }
    )
    return context


@private
@require_GET
def manage(request: HttpRequest, reference: str, token: str) -> HttpResponse:
    booking = selectors.booking_by_manage_token(reference=reference, token=token)
    if booking is None:
        return not_found(request, what="booking")
    context = _base_context(request, booking, token)
    context["fee_now"] = _fee_now(booking)
    context.update(_payment_due(booking, context["viewer_tz"]))
    return render_page(request, "scheduling/manage.html", context)


def _payment_due(booking: Booking, tz) -> dict:
    """A booking held until its customer pays online: what is due, until when, and the way to pay."""
    charge = payment_selectors.checkout_charge_due(booking=booking) if awaits_online_payment(booking=booking) else None
    if charge is None:
        return {"payment_due": None}
    return {
        "payment_due": money(charge.amount, charge.currency),
        "payment_held_until": clock(booking.hold_expires_at.astimezone(tz)) if booking.hold_expires_at else "",
        "status_text": _("Awaiting payment"),
        "pay_now_url": reverse("pages:pay_now", args=[booking.reference]),
    }


@private
def pay_now(request: HttpRequest, reference: str) -> HttpResponse:
    """From the manage page to the checkout: the token comes in the POST body and goes on in the
    checkout's own cookie (hand_over_token), never in a URL that a log would keep."""
    if request.method != "POST":
        return method_not_allowed(request)
    token = request.POST.get("token", "")
    booking = selectors.booking_by_manage_token(reference=reference, token=token)
    if booking is None:
        return not_found(request, what="booking")
    if not awaits_online_payment(booking=booking):
        return redirect(_manage_path(booking, token))
    response = redirect("pages:checkout", reference=booking.reference)
    hand_over_token(response, request, booking, token=token)
    return response


@private
@require_GET
def manage_ics(request: HttpRequest, reference: str, token: str) -> HttpResponse:
    booking = selectors.booking_by_manage_token(reference=reference, token=token)
    if booking is None:
        return not_found(request, what="booking")
    manage_url = request.build_absolute_uri(_manage_path(booking, token))
    return ics_response(booking_calendar(booking, manage_url=manage_url), booking)


# --- cancel -------------------------------------------------------------------------------------


def _fee_now(booking: Booking) -> Decimal:
    return selectors.booking_cancellation_fee(booking=booking, now=timezone.now())


def _render_cancel(
    request, booking: Booking, token: str, *, notice: str = "", form: CancelForm | None = None, status: int = 200
) -> HttpResponse:
    context = _base_context(request, booking, token)
    fee = _fee_now(booking)
    refund = payment_selectors.refund_preview(booking=booking, fee=fee)
    context.update(
        {
            "form": form or CancelForm(),
            "fee": fee,
            "fee_text": money(fee, booking.currency) if fee > 0 else None,
            # Only money actually paid comes back: nothing is promised for a booking never paid.
            "refund_text": money(refund, booking.currency) if refund > 0 else None,
            "notice": notice,
            "action_url": reverse("pages:cancel", args=[booking.reference]),
        }
    )
    return render_page(request, "scheduling/cancel.html", context, status=status)


@private
@require_GET
def cancel_confirm(request: HttpRequest, reference: str, token: str) -> HttpResponse:
    """Before the customer commits: does a late fee apply now, under the booking's own policy snapshot?"""
    booking = selectors.booking_by_manage_token(reference=reference, token=token)
    if booking is None:
        return not_found(request, what="booking")
    if not booking.is_live or timezone.now() >= booking.start_at:
        return redirect(_manage_path(booking, token))
    return _render_cancel(request, booking, token)


@private
def cancel(request: HttpRequest, reference: str) -> HttpResponse:
    booking, token, refusal = _open_for_action(request, reference, verb="cancelled")
    if refusal is not None:
        return refusal
    try:
        quoted = Decimal(request.POST.get("quoted_fee", ""))
    except InvalidOperation:
        quoted = None
    form = CancelForm(request.POST)
    if not form.is_valid():
        return _render_cancel(request, booking, token, form=form, status=400)
    if quoted != _fee_now(booking):
        # The free-cancellation deadline passed while the page was open: ask again, with the new fee.
        return _render_cancel(
            request,
            booking,
            token,
            form=form,
            notice=_("The terms changed while this page was open: please check the fee below and confirm again."),
        )
    try:
        booking = booking_cancel(booking_id=booking.pk, reason=CancelReason.CUSTOMER, note=form.cleaned_data["note"])
    except InvalidTransition:
        messages.info(request, _no_longer("cancelled"))
        return redirect(_manage_path(booking, token))
    if booking.cancellation_fee:
        fee = money(booking.cancellation_fee, booking.currency)
        messages.success(
            request, _("Your booking is cancelled. A late cancellation fee of %(fee)s applies.") % {"fee": fee}
        )
    else:
        messages.success(request, _("Your booking is cancelled. There is no fee."))
    return redirect(_manage_path(booking, token))


# --- reschedule ---------------------------------------------------------------------------------


@private
@require_GET
def reschedule(request: HttpRequest, reference: str, token: str) -> HttpResponse:
    """Pick a new time (a week of free slots), or with `?start=` confirm the move to it."""
    booking = selectors.booking_by_manage_token(reference=reference, token=token)
    if booking is None:
        return not_found(request, what="booking")
    if not booking.is_live or timezone.now() >= booking.start_at:
        return redirect(_manage_path(booking, token))
    if "start" in request.GET:
        return _reschedule_confirm(request, booking, token, start=parse_start(request.GET.get("start")))
    return _reschedule_pick(request, booking, token)


def _pick_url(booking: Booking, token: str, **params) -> str:
    return f"{reverse('pages:reschedule', args=[booking.reference, token])}?{urlencode(params)}"


def _reschedule_pick(request, booking: Booking, token: str) -> HttpResponse:
    offer = Offer.of_booking(booking)
    provider, service = booking.provider, booking.service
    context = _base_context(request, booking, token)
    tz = context["viewer_tz"]
    now = timezone.now()
    bounds = week_bounds(now=now, tz=tz, horizon_days=service.max_advance_days)
    last_day = horizon_day(now=now, tz=tz, horizon_days=service.max_advance_days)
    monday, asked = requested_monday(request.GET, bounds=bounds)
    if monday is None:
        monday = min(max(monday_of(booking.start_at.astimezone(tz).date()), bounds[0]), bounds[1])
    slots = [
        slot
        for slot in offer.slots(
            first=monday, last=monday + timedelta(days=6), tz=tz, now=now, exclude_booking_id=booking.pk
        )
        if slot.start != booking.start_at
    ]
    week = build_week(
        slots=slots,
        monday=monday,
        tz=tz,
        bounds=bounds,
        url_for=lambda iso: _pick_url(booking, token, start=iso),
        last_day=last_day,
        current=booking.start_at,
    )
    next_free = None
    if not slots:
        next_free = offer.first_free(after=week_end_instant(monday, tz), now=now, exclude_booking_id=booking.pk)
    context.update(
        {
            "provider": provider,
            "week": week,
            "prev_url": _pick_url(booking, token, week=week.prev_monday.isoformat()) if week.prev_monday else None,
            "next_url": _pick_url(booking, token, week=week.next_monday.isoformat()) if week.next_monday else None,
            "jump_url": (
                _pick_url(booking, token, week=monday_of(next_free.start.astimezone(tz).date()).isoformat())
                if next_free
                else None
            ),
            "next_free_week": week_title(monday_of(next_free.start.astimezone(tz).date())) if next_free else None,
            "horizon_days": service.max_advance_days,
            **jump_context(
                asked=asked,
                monday=monday,
                bounds=bounds,
                last_day=last_day,
                page_url=reverse("pages:reschedule", args=[booking.reference, token]),
            ),
            "same_zone": tz.key == provider.timezone.key,
            "provider_tz": provider.timezone,
        }
    )
    return render_page(request, "scheduling/reschedule.html", context)


def _reschedule_confirm(request, booking: Booking, token: str, *, start, problem: str = "", status: int = 200):
    offer = Offer.of_booking(booking)
    provider, service = booking.provider, booking.service
    context = _base_context(request, booking, token)
    tz = context["viewer_tz"]
    if not problem:
        if start is None:
            problem, status = why_not(None, service=service, provider=provider), 400
        elif start == booking.start_at:
            problem, status = _("That is already your booking's time. Please pick another."), 400
        else:
            verdict = offer.verdict(start=start, exclude_booking_id=booking.pk)
            if verdict is not Verdict.BOOKABLE:
                problem = why_not(verdict, service=service, provider=provider)
                status = 409 if verdict is Verdict.BUSY else 400
    options = alternatives(offer, start, exclude_booking_id=booking.pk) if problem else []
    options = [o for o in options if o["slot"].start != booking.start_at]
    end = start + timedelta(minutes=service.duration_minutes) if start else None
    context.update(
        {
            "provider": provider,
            "problem": problem,
            "new_start_iso": utc_iso(start) if start and not problem else None,
            "new_viewer_time": span(start, end, tz) if start else None,
            "new_provider_time": span(start, end, provider.timezone) if start else None,
            "new_terms": slot_terms(service=service, start=start, tz=tz, rescheduling=booking) if start else None,
            "alternatives": label_alternatives(options, tz, lambda iso: _pick_url(booking, token, start=iso)),
            "action_url": reverse("pages:reschedule_action", args=[booking.reference]),
            "pick_url": reverse("pages:reschedule", args=[booking.reference, token]),
        }
    )
    return render_page(request, "scheduling/reschedule_confirm.html", context, status=status)


@private
def reschedule_action(request: HttpRequest, reference: str) -> HttpResponse:
    booking, token, refusal = _open_for_action(request, reference, verb="moved")
    if refusal is not None:
        return refusal
    start = parse_start(request.POST.get("start"))
    if start is None or start == booking.start_at:
        return _reschedule_confirm(request, booking, token, start=start)
    try:
        new = booking_reschedule(booking_id=booking.pk, start=start)
    except SlotUnavailable:
        problem = _("Sorry – someone else has just booked that time. Your booking has not changed. Nearby free times:")
        return _reschedule_confirm(request, booking, token, start=start, problem=problem, status=409)
    except SlotNotOffered:
        return _reschedule_confirm(request, booking, token, start=start)
    except (InvalidTransition, InvalidInput):
        messages.info(request, _no_longer("moved"))
        return redirect(_manage_path(booking, token))
    response = redirect("pages:confirmation", reference=new.reference)
    hand_over_token(response, request, new)
    return response
