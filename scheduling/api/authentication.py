"""Token authentication with a brake on guessing: it runs on every authenticated API request."""

from rest_framework import exceptions
from rest_framework.authentication import TokenAuthentication

from scheduling.api.throttling import TokenFailureThrottle


class UserTokenAuthentication(TokenAuthentication):
    """DRF's TokenAuthentication (same header, same query, same errors), counting failures.

    Failed attempts are counted per client IP (TokenFailureThrottle): past the limit a request
    presenting any token gets 429 with Retry-After, so tokens cannot be guessed by brute force.
    A raw-SQL read of the user was measured against DRF's query and dropped: its saving was inside
    the noise of the HTTP benchmark (docs/decisions/0007-api-cost-per-request.md).
    """

    def authenticate(self, request):
        if not request.META.get("HTTP_AUTHORIZATION"):
            return None
        throttle = TokenFailureThrottle()
        throttle.check(request)
        try:
            return super().authenticate(request)
        except exceptions.AuthenticationFailed:
            throttle.record_failure(request)
            raise
