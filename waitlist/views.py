"""The waitlist's customer pages: joining from a full day or week, the entry's private page (place in
line, withdraw), and the accept and decline pages an offer email links to.

The entry's links carry a signed token (waitlist.links), like a booking's manage links. Accepting
hands the booking's own signed manage token to its confirmation page (or its checkout, for a service
paid online) in the cookie the booking flow uses (scheduling.views.booking.hand_over_token), so the
rest of the way is the booking flow's.
"""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from payments.ledger import awaits_online_payment
from scheduling import manage_links
from scheduling.errors import InvalidInput, InvalidTransition
from scheduling.models import BookingStatus
from scheduling.services import CustomerData
from scheduling.views.booking import hand_over_token
from scheduling.views.common import (
    booking_post_allowed,
    not_found,
    private,
    remember_zone,
    render_page,
    throttled,
    viewer_zone,
)
from scheduling.views.offer import service_offer
from scheduling.views.present import span, when
from waitlist import content, links, selectors
from waitlist.forms import JoinForm, initial_days
from waitlist.models import EntryStatus, WaitlistEntry
from waitlist.services import AlreadyWaiting, waitlist_accept, waitlist_decline, waitlist_join, waitlist_withdraw

_FIELD_NAMES = {"customer.name": "name", "customer.email": "email", "customer.timezone": "timezone"}


def join(request: HttpRequest, slug: str) -> HttpResponse:
    """`/s/<slug>/waitlist/`: the join form, prefilled from `?first=&last=&provider=` (a week page's link)."""
    offer = service_offer(slug=slug, provider_slug=request.GET.get("provider"))
    if offer is None:
        return not_found(request)
    tz, _zone_chosen = viewer_zone(request, offer.zone)
    context = {"offer": offer, "service": offer.service, "viewer_tz": tz, "page_url": offer.page_url()}
    if request.method == "POST":
        if not booking_post_allowed(request):
            return throttled(request)
        form = JoinForm(request.POST, providers=offer.providers)
        if form.is_valid():
            return _join(request, form=form, offer=offer, context=context)
        return render_page(request, "waitlist/join.html", {**context, "form": form}, status=400)
    if request.method != "GET":
        return not_found(request)
    initial = {
        **initial_days(request.GET, today=timezone.now().astimezone(tz).date()),
        "timezone": tz.key,
        "provider": offer.provider.slug if offer.provider else "",
    }
    form = JoinForm(initial=initial, providers=offer.providers)
    return render_page(request, "waitlist/join.html", {**context, "form": form})


def _join(request: HttpRequest, *, form: JoinForm, offer, context: dict) -> HttpResponse:
    data = form.cleaned_data
    provider = form.chosen_provider() if len(offer.providers) > 1 else offer.providers[0]
    try:
        entry = waitlist_join(
            service_id=offer.service.pk,
            provider_id=provider.pk if provider else None,
            customer=CustomerData(
                name=data["name"], email=data["email"], phone=data["phone"], timezone=data["timezone"]
            ),
            window=form.window(),
            language=translation.get_language(),
        )
    except AlreadyWaiting as exc:
        context["problem"] = exc.detail
        return render_page(request, "waitlist/join.html", {**context, "form": form}, status=409)
    except InvalidInput as exc:
        for name, messages in exc.fields.items():
            for message in messages:
                form.add_error(_FIELD_NAMES.get(name) if name in _FIELD_NAMES else None, message)
        return render_page(request, "waitlist/join.html", {**context, "form": form}, status=400)
    response = render_page(
        request, "waitlist/joined.html", {**_entry_context(entry), "entry_url": links.entry_url(entry)}
    )
    remember_zone(response, request, data["timezone"])
    return response


def _entry_context(entry: WaitlistEntry) -> dict:
    """What the entry's pages show, in the customer's zone and the page's language."""
    tz = entry.customer_timezone
    booking = entry.offer_booking
    offer_open = (
        entry.status == EntryStatus.OFFERED
        and booking is not None
        and booking.status == BookingStatus.PENDING
        and booking.hold_expires_at > timezone.now()
    )
    return {
        "entry": entry,
        "wanted": content.wanted(entry),
        "provider_name": entry.provider.name if entry.provider_id else _("Any available"),
        "window": content.window_text(entry),
        "viewer_tz": tz,
        "status_text": entry.get_status_display(),
        "position": selectors.position(entry=entry),
        "offer_open": offer_open,
        "offered": span(booking.start_at, booking.end_at, tz) if booking is not None else None,
        "expires": when(booking.hold_expires_at, tz) if offer_open else None,
        "pays_online": offer_open and booking.service.takes_online_payment,
        "declined": entry.status == EntryStatus.WITHDRAWN and booking is not None,
        "manage_url": manage_links.manage_path(booking) if entry.status == EntryStatus.BOOKED else None,
        "join_again_url": links.join_again_url(entry),
        "entry_path": links.entry_path(entry),
        "accept_path": links.entry_path(entry, "waitlist_accept"),
        "decline_path": links.entry_path(entry, "waitlist_decline"),
        "withdraw_path": links.entry_path(entry, "waitlist_withdraw"),
    }


@private
def entry_page(request: HttpRequest, entry_id: int, token: str) -> HttpResponse:
    entry = selectors.entry_by_token(entry_id=entry_id, token=token)
    if entry is None:
        return not_found(request, what="waitlist")
    return render_page(request, "waitlist/entry.html", _entry_context(entry))


@private
@require_POST
def withdraw(request: HttpRequest, entry_id: int, token: str) -> HttpResponse:
    entry = selectors.entry_by_token(entry_id=entry_id, token=token)
    if entry is None:
        return not_found(request, what="waitlist")
    if not booking_post_allowed(request):
        return throttled(request)
    try:
        entry = waitlist_withdraw(entry_id=entry.pk)
    except InvalidTransition as exc:
        return render_page(request, "waitlist/entry.html", {**_entry_context(entry), "problem": exc.detail}, status=409)
    return render_page(request, "waitlist/entry.html", {**_entry_context(entry), "withdrawn_now": True})


@private
def accept(request: HttpRequest, entry_id: int, token: str) -> HttpResponse:
    """GET: the held time and its expiry, and a button; POST: take it."""
    return _answer(request, entry_id, token, accepting=True)


@private
def decline(request: HttpRequest, entry_id: int, token: str) -> HttpResponse:
    return _answer(request, entry_id, token, accepting=False)


def _answer(request: HttpRequest, entry_id: int, token: str, *, accepting: bool) -> HttpResponse:
    entry = selectors.entry_by_token(entry_id=entry_id, token=token)
    if entry is None:
        return not_found(request, what="waitlist")
    template = "waitlist/accept.html" if accepting else "waitlist/decline.html"
    if request.method == "GET":
        return render_page(request, template, _entry_context(entry))
    if request.method != "POST":
        return not_found(request)
    if not booking_post_allowed(request):
        return throttled(request)
    try:
        if not accepting:
            entry = waitlist_decline(entry_id=entry.pk)
            return render_page(request, "waitlist/entry.html", {**_entry_context(entry), "declined_now": True})
        booking = waitlist_accept(entry_id=entry.pk)
    except InvalidTransition:
        entry.refresh_from_db()
        return render_page(request, template, _entry_context(entry), status=409)
    # On to the booking flow's own pages: the checkout while the money is owed, else the confirmation.
    page = "pages:checkout" if awaits_online_payment(booking=booking) else "pages:confirmation"
    response = redirect(page, reference=booking.reference)
    hand_over_token(response, request, booking, token=manage_links.token_for(booking))
    return response
