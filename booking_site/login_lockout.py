"""Admin login lockout (django-axes) reads the client address by the same NUM_PROXIES rule as the throttles."""

from django.http import HttpRequest

from scheduling.views.common import client_ip


def axes_client_ip(request: HttpRequest) -> str | None:
    # A request built in code (force_login, a management command) has no peer address; axes stores None.
    ip = client_ip(request)
    return None if ip == "unknown" else ip
