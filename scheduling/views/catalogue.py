"""Browsing: the services and providers, a provider's or a service's week of free times, the zone picker."""

from datetime import timedelta
from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET
from django.views.decorators.vary import vary_on_cookie

from scheduling import selectors
from scheduling.formatting import is_own_service
from scheduling.forms_public import ZoneForm
from scheduling.models import Provider
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
from scheduling.views.common import method_not_allowed, not_found, remember_zone, render_page, viewer_zone
from scheduling.views.offer import Offer, service_offer
from scheduling.views.present import service_facts


@require_GET
@vary_on_cookie
def home(request: HttpRequest) -> HttpResponse:
    """Everything bookable, narrowed by `?q=` (words in a service's or provider's name or description)
    and `?kind=` (person, room, equipment): a plain GET form, so it works without script."""
    query = " ".join(request.GET.get("q", "").split())[:100]
    kind = request.GET.get("kind", "")
    kind = kind if kind in Provider.Kind.values else ""
    services = [
        {
            **service_facts(s),
            "providers": s.offered_by,
            # A provider's own service (named like it, as the migration to services made them) needs no "with".
            "own": len(s.offered_by) == 1 and is_own_service(s.name, s.offered_by[0].name),
        }
        for s in selectors.active_services_with_providers(query=query, kind=kind)
    ]
    providers = [
        {"provider": p, "zone": p.timezone.key, "kind": p.get_kind_display()}
        for p in selectors.active_providers_matching(query=query, kind=kind)
    ]
    tz, zone_chosen = viewer_zone(request, "UTC")
    context = {
        "services": services,
        "providers": providers,
        "query": query,
        "kind": kind,
        "kinds": Provider.Kind.choices,
        "filtered": bool(query or kind),
        "viewer_tz": tz,
        "zone_chosen": zone_chosen,
    }
    return render_page(request, "scheduling/home.html", context)


@require_GET
@vary_on_cookie
def provider_page(request: HttpRequest, slug: str) -> HttpResponse:
    """A provider offering one service: its week of free times. Several: what it offers, each linking
    to the service's page with this provider chosen."""
    provider = selectors.active_provider_by_slug(slug=slug)
    if provider is None:
        return not_found(request)
    services = selectors.services_offered_by(provider=provider)
    if len(services) == 1:
        return _week_page(request, Offer.of_provider(provider, services[0]), "scheduling/provider.html")
    tz, zone_chosen = viewer_zone(request, provider.timezone)
    offered = [
        {
            **service_facts(s),
            "url": f"{reverse('pages:service', args=[s.slug])}?{urlencode({'provider': provider.slug})}",
        }
        for s in services
    ]
    context = {
        "provider": provider,
        "kind_label": provider.get_kind_display(),
        "services": offered,
        "viewer_tz": tz,
        "zone_chosen": zone_chosen,
    }
    return render_page(request, "scheduling/provider_services.html", context)


@require_GET
@vary_on_cookie
def service_page(request: HttpRequest, slug: str) -> HttpResponse:
    """A service's week of free times, with any available provider (the union) or the one chosen."""
    offer = service_offer(slug=slug, provider_slug=request.GET.get("provider"))
    if offer is None:
        return not_found(request)
    service_url = reverse("pages:service", args=[offer.service.slug])
    choices = [
        {"label": p.name, "url": f"{service_url}?{urlencode({'provider': p.slug})}", "current": p == offer.provider}
        for p in offer.providers
    ]
    if len(offer.providers) > 1:
        choices.insert(0, {"label": _("Any available"), "url": service_url, "current": offer.provider is None})
    return _week_page(request, offer, "scheduling/service.html", {"choices": choices})


def _week_page(request: HttpRequest, offer: Offer, template: str, extra: dict | None = None) -> HttpResponse:
    service = offer.service
    tz, zone_chosen = viewer_zone(request, offer.zone)
    now = timezone.now()
    bounds = week_bounds(now=now, tz=tz, horizon_days=service.max_advance_days)
    last_day = horizon_day(now=now, tz=tz, horizon_days=service.max_advance_days)
    monday, asked = requested_monday(request.GET, bounds=bounds)
    if monday is None:
        # Land on the first week that has something to book.
        first = offer.first_free(after=now, now=now)
        monday = min(max(monday_of(first.start.astimezone(tz).date()) if first else bounds[0], bounds[0]), bounds[1])
    slots = offer.slots(first=monday, last=monday + timedelta(days=6), tz=tz, now=now)
    week = build_week(slots=slots, monday=monday, tz=tz, bounds=bounds, url_for=offer.book_url, last_day=last_day)
    next_free = None
    if not slots:
        next_free = offer.first_free(after=week_end_instant(monday, tz), now=now)
    place_zone = offer.place_zone
    today = now.astimezone(tz).date()
    context = {
        "offer": offer,
        "provider": offer.provider,
        "kind_label": offer.provider.get_kind_display() if offer.provider else "",
        **service_facts(service),
        "week": week,
        "viewer_tz": tz,
        "zone_chosen": zone_chosen,
        "provider_tz": offer.zone,
        "same_zone": place_zone is not None and tz.key == place_zone.key,
        # Providers of "any available" working in a zone other than the one shown.
        "elsewhere": [p for p in offer.providers if p.timezone.key != tz.key] if offer.provider is None else [],
        "prev_url": offer.page_url(week=week.prev_monday.isoformat()) if week.prev_monday else None,
        "next_url": offer.page_url(week=week.next_monday.isoformat()) if week.next_monday else None,
        "jump_url": offer.page_url(week=monday_of(next_free.start.astimezone(tz).date())) if next_free else None,
        # Named in the visitor's zone (a template's date filter would show the server's).
        "next_free_week": week_title(monday_of(next_free.start.astimezone(tz).date())) if next_free else None,
        "horizon_days": service.max_advance_days,
        # A full day or week offers the waitlist (waitlist.views.join), prefilled in the visitor's zone.
        "waitlist_base": _waitlist_url(offer, {}) + ("&" if offer.provider else "?"),
        "waitlist_week_url": _waitlist_url(
            offer,
            {"first": max(monday, today).isoformat(), "last": min(monday + timedelta(days=6), last_day).isoformat()},
        ),
        **jump_context(asked=asked, monday=monday, bounds=bounds, last_day=last_day, page_url=offer.page_url()),
        **(extra or {}),
    }
    return render_page(request, template, context)


def _waitlist_url(offer: Offer, params: dict) -> str:
    if offer.provider is not None:
        params = {"provider": offer.provider.slug, **params}
    return reverse("pages:waitlist_join", args=[offer.service.slug]) + (f"?{urlencode(params)}" if params else "")


def zone_change(request: HttpRequest) -> HttpResponse:
    """The zone picker's target: remember the zone, then go back to the page it was on (same site only)."""
    if request.method != "POST":
        return method_not_allowed(request)
    next_url = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(
        next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        next_url = reverse("pages:home")
    response = redirect(next_url)
    form = ZoneForm(request.POST)
    if form.is_valid():
        remember_zone(response, request, form.cleaned_data["tz"])
    return response
