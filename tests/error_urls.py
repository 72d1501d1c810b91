"""The site's URLs plus views that raise what Django's error handlers answer (tests only)."""

from django.core.exceptions import BadRequest, PermissionDenied, SuspiciousOperation
from django.db import OperationalError
from django.http import Http404
from django.urls import path

from booking_site import urls as site_urls


def _raiser(exc: Exception):
    def view(request):
        raise exc

    return view


_RAISING = {
    "bad-request": BadRequest("That request makes no sense."),
    "suspicious": SuspiciousOperation("Someone is up to something."),
    "permission-denied": PermissionDenied(),
    "not-found": Http404(),
    "crash": RuntimeError("A bug."),
    "database-down": OperationalError("connection refused"),
}

urlpatterns = [
    *(path(f"{prefix}raise/{name}/", _raiser(exc)) for prefix in ("api/", "") for name, exc in _RAISING.items()),
    *site_urls.urlpatterns,
]
handler400 = site_urls.handler400
handler403 = site_urls.handler403
handler404 = site_urls.handler404
handler500 = site_urls.handler500
