"""Booking a time: the form, the race when somebody else was quicker, and the confirmation page.

Two ways in, one flow (`scheduling.views.offer.Offer`): a provider's own page books its one service
with it; a service page books with a chosen provider or any available one.

The plain manage token exists only in the `booking_create` answer. It travels to the confirmation
page in a signed, HttpOnly cookie scoped to that page's path: never in a redirect URL, a log line,
the session store or the database.
"""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.vary import vary_on_cookie

from payments.ledger import awaits_online_payment
from scheduling import selectors
from scheduling.availability import Verdict
from scheduling.errors import InvalidInput, SlotNotOffered, SlotUnavailable
from scheduling.forms_public import BookingForm, parse_start, utc_iso
from scheduling.ics import booking_calendar, ics_response
from scheduling.models import Booking
from scheduling.services import CustomerData, booking_create
from scheduling.views.common import (
    booking_post_allowed,
    not_found,
    private,
    remember_zone,
    render_page,
    throttled,
    viewer_zone,
)
from scheduling.views.offer import Offer, service_offer
from scheduling.views.present import booking_summary, money, slot_terms, span, why_not

CONFIRMATION_COOKIE = "booking_token"
CONFIRMATION_AGE = 24 * 3600
_SALT = "pages.confirmation"

# Service field names (`customer.email`) to form field names.
_FIELD_NAMES = {"customer.name": "name", "customer.email": "email", "customer.timezone": "timezone"}


def alternatives(offer: Offer, around: datetime | None, *, exclude_booking_id: int | None = None) -> list[dict]:
    """The nearest free times to offer instead, as labels in the viewer's zone are added by the caller."""
    now = timezone.now()
    around = max(around, now) if around else now
    return [
        {"start": utc_iso(slot.start), "slot": slot}
        for slot in offer.nearest(around=around, now=now, exclude_booking_id=exclude_booking_id)
    ]


def label_alternatives(options: list[dict], tz: ZoneInfo, url_for) -> list[dict]:
    return [
        {"start": o["start"], "label": span(o["slot"].start, o["slot"].end, tz)["start"], "url": url_for(o["start"])}
        for o in options
    ]


def _slot_problem(request, *, offer: Offer, tz: ZoneInfo, start: datetime | None, verdict: Verdict | None):
    options = alternatives(offer, start)
    length = timedelta(minutes=offer.service.duration_minutes)
    context = {
        "offer": offer,
        "viewer_tz": tz,
        "message": why_not(verdict, service=offer.service, provider=offer.provider),
        "wanted": span(start, start + length, tz) if start else None,
        "alternatives": label_alternatives(options, tz, offer.book_url),
        "page_url": offer.page_url(),
    }
    status = 409 if verdict is Verdict.BUSY else 400
    return render_page(request, "scheduling/slot_problem.html", context, status=status)


@vary_on_cookie
def book(request: HttpRequest, slug: str) -> HttpResponse:
    """Booking from a provider's own page: its one service with it."""
    provider = selectors.active_provider_by_slug(slug=slug)
    if provider is None:
        return not_found(request)
    services = selectors.services_offered_by(provider=provider)
    if len(services) != 1:
        # Several services (or none): the provider's page lists them, each with its own booking page.
        return redirect("pages:provider", slug=provider.slug)
    return _book(request, Offer.of_provider(provider, services[0]))


@vary_on_cookie
def service_book(request: HttpRequest, slug: str) -> HttpResponse:
    """Booking from a service page: with `?provider=<slug>`, or any available provider."""
    offer = service_offer(slug=slug, provider_slug=request.GET.get("provider"))
    if offer is None:
        return not_found(request)
    return _book(request, offer)


def _book(request: HttpRequest, offer: Offer) -> HttpResponse:
    tz, zone_chosen = viewer_zone(request, offer.zone)
    if request.method == "POST":
        if not booking_post_allowed(request):
            return throttled(request)
        start = parse_start(request.POST.get("choose_start") or request.POST.get("start"))
        if start is None:
            return _slot_problem(request, offer=offer, tz=tz, start=None, verdict=None)
        form = BookingForm(request.POST)
        return _submit(request, offer=offer, tz=tz, zone_chosen=zone_chosen, start=start, form=form)

    if request.method != "GET":
        return not_found(request)
    start = parse_start(request.GET.get("start"))
    verdict = offer.verdict(start=start) if start else None
    if verdict is not Verdict.BOOKABLE:
        return _slot_problem(request, offer=offer, tz=tz, start=start, verdict=verdict)
    form = BookingForm(initial={"timezone": tz.key})
    return _render_form(request, offer=offer, tz=tz, zone_chosen=zone_chosen, start=start, form=form)


def _render_form(request, *, offer: Offer, tz, zone_chosen, start, form, problem=None, options=None, status=200):
    service = offer.service
    end = start + timedelta(minutes=service.duration_minutes)
    place_zone = offer.place_zone
    context = {
        "offer": offer,
        "service": service,
        "form": form,
        "start_iso": utc_iso(start),
        "viewer_tz": tz,
        "zone_chosen": zone_chosen,
        "viewer_time": span(start, end, tz),
        "provider_time": span(start, end, place_zone) if place_zone else None,
        "place_label": (
            _("%(provider)s's time") % {"provider": offer.provider.name} if offer.provider else _("Local time")
        ),
        "same_zone": place_zone is not None and tz.key == place_zone.key,
        "terms": slot_terms(service=service, start=start, tz=tz),
        "price": money(service.price, service.currency) if service.price > 0 else None,
        "problem": problem,
        "alternatives": label_alternatives(options or [], tz, offer.book_url),
        "page_url": offer.page_url(),
    }
    return render_page(request, "scheduling/book.html", context, status=status)


def _submit(request, *, offer: Offer, tz, zone_chosen, start, form) -> HttpResponse:
    def again(problem: str, *, status: int, offer_times: bool = True) -> HttpResponse:
        options = alternatives(offer, start) if offer_times else []
        return _render_form(
            request,
            offer=offer,
            tz=tz,
            zone_chosen=zone_chosen,
            start=start,
            form=form,
            problem=problem,
            options=options,
            status=status,
        )

    if not form.is_valid():
        return _render_form(request, offer=offer, tz=tz, zone_chosen=zone_chosen, start=start, form=form)
    data = form.cleaned_data
    customer = CustomerData(name=data["name"], email=data["email"], phone=data["phone"], timezone=data["timezone"])
    try:
        booking = booking_create(
            service_id=offer.service.pk,
            provider_id=offer.provider.pk if offer.provider else None,
            start=start,
            customer=customer,
            notes=data["notes"],
            language=translation.get_language(),
        )
    except SlotUnavailable:
        return again(
            _(
                "Sorry – someone else has just booked this time. Here are the nearest free times; "
                "your details are kept, so choosing one books it straight away."
            ),
            status=409,
        )
    except SlotNotOffered:
        message = why_not(offer.verdict(start=start), service=offer.service, provider=offer.provider)
        return again(_("%(reason)s Please choose another time.") % {"reason": message}, status=400)
    except InvalidInput as exc:
        mapped = False
        for name, messages in exc.fields.items():
            if name in _FIELD_NAMES:
                for message in messages:
                    form.add_error(_FIELD_NAMES[name], message)
                mapped = True
        if not mapped:
            form.add_error(None, exc.detail)
        return again("", status=400, offer_times=False)
    # A booking paid online is held until paid: its customer goes on to the checkout, not a confirmation.
    page = "pages:checkout" if awaits_online_payment(booking=booking) else "pages:confirmation"
    response = redirect(page, reference=booking.reference)
    hand_over_token(response, request, booking)
    remember_zone(response, request, data["timezone"])
    return response


def hand_over_token(response: HttpResponse, request: HttpRequest, booking: Booking, *, token: str = "") -> None:
    """Give the booking's plain manage token (a new booking's own, unless `token` is given) to its
    confirmation page, and only to it."""
    response.set_signed_cookie(
        CONFIRMATION_COOKIE,
        token or booking.manage_token,
        salt=f"{_SALT}:{booking.reference}",
        max_age=CONFIRMATION_AGE,
        path=reverse("pages:confirmation", args=[booking.reference]),
        httponly=True,
        samesite="Lax",
        secure=request.is_secure(),
    )


def booking_from_cookie(request: HttpRequest, reference: str) -> tuple[Booking | None, str | None]:
    """The booking (and its plain manage token) whose cookie this browser holds: the confirmation
    page's and the checkout's (scheduling.views.checkout) access, under /booked/<reference>/."""
    reference = reference.upper()
    token = request.get_signed_cookie(
        CONFIRMATION_COOKIE, default=None, salt=f"{_SALT}:{reference}", max_age=CONFIRMATION_AGE
    )
    if not token:
        return None, None
    booking = selectors.booking_by_manage_token(reference=reference, token=token)
    return booking, (token if booking else None)


@private
def confirmation(request: HttpRequest, reference: str) -> HttpResponse:
    booking, token = booking_from_cookie(request, reference)
    if booking is None:
        return not_found(request, what="booking")
    if awaits_online_payment(booking=booking):
        # Never "requested" or "confirmed" while the money is still owed: the checkout says what is.
        return redirect("pages:checkout", reference=booking.reference)
    tz, _zone_chosen = viewer_zone(request, booking.customer_timezone)
    context = booking_summary(booking, viewer_tz=tz, now=timezone.now())
    manage_path = reverse("pages:manage", args=[booking.reference, token])
    previous = booking.rescheduled_from
    context.update(
        {
            "manage_url": request.build_absolute_uri(manage_path),
            "manage_path": manage_path,
            "ics_url": reverse("pages:confirmation_ics", args=[booking.reference]),
            "moved_from": span(previous.start_at, previous.end_at, tz) if previous else None,
            "moved_from_reference": previous.reference if previous else None,
            "again_url": Offer.of_booking(booking).page_url(),
        }
    )
    return render_page(request, "scheduling/confirmation.html", context)


@private
def confirmation_ics(request: HttpRequest, reference: str) -> HttpResponse:
    booking, token = booking_from_cookie(request, reference)
    if booking is None:
        return not_found(request, what="booking")
    manage_url = request.build_absolute_uri(reverse("pages:manage", args=[booking.reference, token]))
    return ics_response(booking_calendar(booking, manage_url=manage_url), booking)
