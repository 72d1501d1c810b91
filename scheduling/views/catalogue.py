"""Browsing: the list of providers, a provider's week of free times, and the zone picker."""

from datetime import timedelta
from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET
from django.views.decorators.vary import vary_on_cookie

from scheduling import selectors
from scheduling.forms_public import ZoneForm
from scheduling.views.calendar import build_week, monday_of, parse_week, week_bounds, week_end_instant
from scheduling.views.common import method_not_allowed, not_found, remember_zone, render_page, viewer_zone


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    providers = [
        {"provider": p, "zone": p.timezone.key, "kind": p.get_kind_display()} for p in selectors.active_providers()
    ]
    return render_page(request, "scheduling/home.html", {"providers": providers})


@require_GET
@vary_on_cookie
def provider_page(request: HttpRequest, slug: str) -> HttpResponse:
    provider = selectors.active_provider_by_slug(slug=slug)
    if provider is None:
        return not_found(request)
    tz, zone_chosen = viewer_zone(request, provider.timezone)
    now = timezone.now()
    bounds = week_bounds(now=now, tz=tz, horizon_days=provider.max_advance_days)
    monday = parse_week(request.GET.get("week"))
    if monday is None:
        # Land on the first week that has something to book.
        first = selectors.provider_first_free_slot(provider=provider, after=now, now=now)
        monday = monday_of(first.start.astimezone(tz).date()) if first else bounds[0]
    monday = min(max(monday, bounds[0]), bounds[1])
    slots = selectors.provider_slots(
        provider=provider, first=monday, last=monday + timedelta(days=6), viewer_tz=tz, now=now
    )
    book_url = reverse("pages:book", args=[provider.slug])
    week = build_week(
        slots=slots, monday=monday, tz=tz, bounds=bounds, url_for=lambda iso: f"{book_url}?{urlencode({'start': iso})}"
    )
    next_free = None
    if not slots:
        next_free = selectors.provider_first_free_slot(provider=provider, after=week_end_instant(monday, tz), now=now)
    page_url = reverse("pages:provider", args=[provider.slug])
    context = {
        "provider": provider,
        "week": week,
        "viewer_tz": tz,
        "zone_chosen": zone_chosen,
        "provider_tz": provider.timezone,
        "same_zone": tz.key == provider.timezone.key,
        "prev_url": f"{page_url}?week={week.prev_monday.isoformat()}" if week.prev_monday else None,
        "next_url": f"{page_url}?week={week.next_monday.isoformat()}" if week.next_monday else None,
        "jump_url": f"{page_url}?week={monday_of(next_free.start.astimezone(tz).date())}" if next_free else None,
        "next_free_day": next_free.start.astimezone(tz) if next_free else None,
        "horizon_days": provider.max_advance_days,
    }
    return render_page(request, "scheduling/provider.html", context)


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
