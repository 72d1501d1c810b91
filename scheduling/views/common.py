"""What every customer page shares: the viewer's zone, friendly error pages, privacy headers, throttling."""

import functools
import logging
from urllib.parse import quote
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from scheduling.forms_public import zone_choices, zone_from_cookie

logger = logging.getLogger(__name__)

TZ_COOKIE = "tz"
TZ_COOKIE_AGE = 365 * 24 * 3600
DEFAULT_BOOKING_POST_RATE = (10, 60)  # requests, seconds: per client IP


def viewer_zone(request: HttpRequest, fallback: ZoneInfo | str) -> tuple[ZoneInfo, bool]:
    """The zone to show times in: the visitor's remembered choice, else `fallback`.

    Returns the zone and whether it came from the visitor (False means the fallback is showing,
    which the page's script replaces with the browser's own zone when it can).
    """
    chosen = zone_from_cookie(request.COOKIES.get(TZ_COOKIE))
    if chosen:
        return ZoneInfo(chosen), True
    return (fallback if isinstance(fallback, ZoneInfo) else ZoneInfo(str(fallback))), False


def remember_zone(response: HttpResponse, request: HttpRequest, zone: str) -> None:
    # Percent-encoded like the browser script writes it; not HttpOnly, because that script reads it.
    response.set_cookie(
        TZ_COOKIE,
        quote(zone, safe=""),
        max_age=TZ_COOKIE_AGE,
        samesite="Lax",
        secure=request.is_secure(),
    )


def render_page(request: HttpRequest, template: str, context: dict | None = None, *, status: int = 200) -> HttpResponse:
    """`render` plus what the base template needs on every page (the zone picker's choices)."""
    return render(request, template, {"zone_choices": zone_choices(), **(context or {})}, status=status)


def not_found(request: HttpRequest, *, what: str = "page") -> HttpResponse:
    """One friendly 404 for anything missing or not yours; it never says which part was wrong."""
    # No language picker: its `next` would echo the path, and this page never repeats what was asked for.
    return render_page(request, "scheduling/not_found.html", {"what": what, "no_forms": True}, status=404)


def method_not_allowed(request: HttpRequest) -> HttpResponse:
    response = render_page(request, "scheduling/not_found.html", {"what": "page"}, status=405)
    response["Allow"] = "POST"
    return response


def private(view):
    """For pages behind a manage token: never cached, never indexed, no path in the Referer.

    `strict-origin` (not `no-referrer`) keeps the Origin header on POSTs, which the CSRF check needs.
    """

    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        response = view(request, *args, **kwargs)
        response["Cache-Control"] = "no-store, private, max-age=0"
        response["Referrer-Policy"] = "strict-origin"
        response["X-Robots-Tag"] = "noindex, nofollow"
        return response

    return wrapper


def client_ip(request: HttpRequest) -> str:
    """The peer address. Behind a proxy set NUM_PROXIES (as for the API) to read X-Forwarded-For."""
    proxies = int(getattr(settings, "REST_FRAMEWORK", {}).get("NUM_PROXIES") or 0)
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    if proxies and forwarded:
        hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
        if hops:
            return hops[-min(proxies, len(hops))]
    return request.META.get("REMOTE_ADDR", "") or "unknown"


def booking_post_allowed(request: HttpRequest) -> bool:
    """Count one booking POST (book, cancel, reschedule) for this client IP; False once over the limit.

    A window that opens at the client's first POST and lasts `period` seconds (Redis INCR keeps the
    key's expiry), kept in the shared Redis cache so the limit holds across gunicorn workers. A
    window aligned to the clock would let a burst straddling a boundary through twice. If the cache
    is down we let the request through (and log it): refusing every booking would be worse.
    """
    limit, period = getattr(settings, "BOOKING_POST_RATE", DEFAULT_BOOKING_POST_RATE)
    return within_rate(f"pages:booking-post:{client_ip(request)}", limit=limit, period=period, what="Booking")


def booking_post_period() -> int:
    """The window of the booking POST limit, in seconds: what a refused client is told to wait."""
    return getattr(settings, "BOOKING_POST_RATE", DEFAULT_BOOKING_POST_RATE)[1]


def within_rate(key: str, *, limit: int, period: int, what: str) -> bool:
    """Count one hit on `key`; False once it has more than `limit` hits in a window of `period`
    seconds that opened at its first hit. Fails open (True, logged) when the cache errors."""
    try:
        count = 1 if cache.add(key, 1, timeout=period) else _incr_or_start(key, timeout=period)
    except Exception:  # any cache failure: fail open, but say so
        logger.warning("%s throttle unavailable; letting the request through", what, exc_info=True)
        return True
    return count <= limit


def _incr_or_start(key: str, *, timeout: int) -> int:
    try:
        return cache.incr(key)
    except ValueError:  # evicted or expired between `add` and `incr`: this request starts a new count
        cache.add(key, 1, timeout=timeout)
        return 1


def throttled(request: HttpRequest, *, retry_after: int | None = None) -> HttpResponse:
    """The 429 page; `retry_after` is the window of the limit that was hit (the booking POSTs' by default)."""
    if retry_after is None:
        retry_after = booking_post_period()
    response = render_page(request, "429.html", status=429)
    response["Retry-After"] = str(retry_after)
    return response
