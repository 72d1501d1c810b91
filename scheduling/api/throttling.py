"""API throttles. Their counters live in the shared Redis cache; when it is down they let requests through.

Refusing every request because the cache is unreachable would turn a Redis outage into an API
outage; a throttle that fails open only loses its limit for that time, and says so in the log.
The cache's short socket timeouts (settings.CACHES) keep a down Redis from costing more than
milliseconds.
"""

import logging

from django.core.cache import cache
from redis.exceptions import RedisError
from rest_framework import exceptions
from rest_framework.settings import api_settings
from rest_framework.throttling import BaseThrottle, SimpleRateThrottle

from scheduling.views.common import booking_post_allowed, booking_post_period

logger = logging.getLogger(__name__)

CACHE_DOWN = (RedisError, OSError)


class FailOpenMixin:
    def get_rate(self):
        # DRF binds the rates at import; read them per request so a changed setting applies.
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)

    def allow_request(self, request, view):
        try:
            return super().allow_request(request, view)
        except CACHE_DOWN:
            logger.warning("%s: cache unavailable; letting the request through", type(self).__name__, exc_info=True)
            return True


class SlotsThrottle(FailOpenMixin, SimpleRateThrottle):
    """Anonymous clients per IP at scope `slots`; authenticated ones per user at `slots_user`.

    An integrator's marketplace shows many providers' slots to many visitors through one token: at
    the anonymous rate it is refused within a few page views, so it has a rate of its own.
    """

    def __init__(self):
        pass  # the scope, and so the rate, depends on the request

    def allow_request(self, request, view):
        self.scope = "slots_user" if _authenticated(request) else "slots"
        self.rate = self.get_rate()
        self.num_requests, self.duration = self.parse_rate(self.rate)
        return super().allow_request(request, view)

    def get_cache_key(self, request, view):
        ident = request.user.pk if _authenticated(request) else self.get_ident(request)
        return self.cache_format % {"scope": self.scope, "ident": ident}


def _authenticated(request) -> bool:
    return bool(request.user and request.user.is_authenticated)


class BookingPostThrottle(FailOpenMixin, SimpleRateThrottle):
    """Booking POSTs (create, reschedule) per authenticated user; other methods are not counted."""

    scope = "booking_post"

    def allow_request(self, request, view):
        if request.method != "POST":
            return True
        return super().allow_request(request, view)

    def get_cache_key(self, request, view):
        ident = request.user.pk if _authenticated(request) else self.get_ident(request)
        return self.cache_format % {"scope": self.scope, "ident": ident}


class TokenFailureThrottle(FailOpenMixin, SimpleRateThrottle):
    """Failed token authentications per client IP (scope `token_failures`).

    Only failures are counted (`record_failure`); once a client IP is over the limit, every request
    from it that presents a token is refused with 429 before the token is looked up, so guessing
    cannot go on and a correct guess is not confirmed either. Requests without a token are not
    affected.
    """

    scope = "token_failures"

    def get_cache_key(self, request, view=None):
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}

    def check(self, request) -> None:
        """Raise Throttled while this client IP is over its failure limit."""
        try:
            self.key = self.get_cache_key(request)
            self.history = cache.get(self.key, [])
        except CACHE_DOWN:
            logger.warning("Token failure throttle: cache unavailable; not limiting", exc_info=True)
            return
        self.now = self.timer()
        while self.history and self.history[-1] <= self.now - self.duration:
            self.history.pop()
        if len(self.history) >= self.num_requests:
            raise exceptions.Throttled(wait=self.wait())

    def record_failure(self, request) -> None:
        try:
            key = self.get_cache_key(request)
            now = self.timer()
            history = [t for t in cache.get(key, []) if t > now - self.duration]
            cache.set(key, [now, *history][: self.num_requests], self.duration)
        except CACHE_DOWN:
            logger.warning("Token failure throttle: cache unavailable; failure not counted", exc_info=True)


class PublicBookingPostThrottle(BaseThrottle):
    """The public API's POSTs (book, cancel, reschedule) per client IP, in the same window and count as
    the booking pages' own (`scheduling.views.common.booking_post_allowed`, settings.BOOKING_POST_RATE):
    a visitor gets one budget whether they book on our pages or through a company's widget. Reads go
    through SlotsThrottle's anonymous rate instead."""

    def allow_request(self, request, view):
        if request.method != "POST":
            return True
        return booking_post_allowed(request)

    def wait(self):
        return booking_post_period()
