""" "Email me my links": a customer who lost their manage link asks for it again by email address.

The answer to a valid address is the same page, byte for byte, whether or not we know it; the email
(one, listing every upcoming booking) is queued in the outbox by a service and sent by a worker, so
the page does not tell, and its timing only by a fraction of a millisecond (ADR 0010). Throttled per
client IP (a 429 that says nothing about the address) and per address (silently: the same page,
nothing queued), both failing open.
"""

import hashlib

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect

from scheduling import manage_links, selectors
from scheduling.forms_public import LinksRequestForm
from scheduling.services import booking_manage_links_revoke, manage_links_send
from scheduling.views.common import (
    booking_post_allowed,
    client_ip,
    method_not_allowed,
    not_found,
    private,
    render_page,
    throttled,
    within_rate,
)

DEFAULT_LINKS_IP_RATE = (5, 600)  # requests, seconds
DEFAULT_LINKS_ADDRESS_RATE = (3, 3600)


@private
def links_request(request: HttpRequest) -> HttpResponse:
    if request.method == "GET":
        return render_page(request, "scheduling/links_request.html", {"form": LinksRequestForm()})
    if request.method != "POST":
        return method_not_allowed(request)
    limit, period = getattr(settings, "LINKS_REQUEST_IP_RATE", DEFAULT_LINKS_IP_RATE)
    if not within_rate(f"pages:links-ip:{client_ip(request)}", limit=limit, period=period, what="Links request"):
        return throttled(request, retry_after=period)
    form = LinksRequestForm(request.POST)
    if not form.is_valid():
        return render_page(request, "scheduling/links_request.html", {"form": form}, status=400)
    email = form.cleaned_data["email"].strip().lower()
    limit, period = getattr(settings, "LINKS_REQUEST_ADDRESS_RATE", DEFAULT_LINKS_ADDRESS_RATE)
    address_key = hashlib.sha256(email.encode()).hexdigest()  # no address in the cache's key space
    if within_rate(f"pages:links-address:{address_key}", limit=limit, period=period, what="Links request"):
        manage_links_send(email=email)
    # The same bytes for a known and an unknown address: no form, whose CSRF token is masked afresh each time.
    return render_page(request, "scheduling/links_sent.html", {"no_forms": True})


@private
def revoke(request: HttpRequest, reference: str) -> HttpResponse:
    """Stop every earlier link of this booking working; the answer is the booking under its new link."""
    if request.method != "POST":
        return method_not_allowed(request)
    if not booking_post_allowed(request):
        return throttled(request)
    booking = selectors.booking_by_manage_token(reference=reference, token=request.POST.get("token", ""))
    if booking is None:
        return not_found(request, what="booking")
    token = booking_manage_links_revoke(booking_id=booking.pk)
    messages.success(
        request,
        "Your earlier links to this booking no longer work. The address of this page is your new link: "
        "bookmark it, or ask for your links by email whenever you need them.",
    )
    return redirect(manage_links.manage_path(booking, token))
