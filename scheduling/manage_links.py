"""Private manage links: `/b/<reference>/<token>/` (docs/decisions/0010-manage-links.md).

A token is `django.core.signing` over (booking id, `manage_secret_version`) with its own salt, so
any process holding SECRET_KEY can make a working link at any time (a worker rendering an email, a
"send me my links" request) and nothing secret is stored. Bumping the version revokes every link
made before. Bookings made before signed links keep their random token, checked against
`manage_token_hash`; those tokens never contain `:`, signed ones always do.
"""

import hashlib

from django.conf import settings
from django.core import signing
from django.urls import reverse

from scheduling.models import Booking

SALT = "scheduling.manage-link"


def token_for(booking: Booking) -> str:
    return signing.dumps([booking.pk, booking.manage_secret_version], salt=SALT)


def hash_old_token(token: str) -> str:
    """The stored form of a random token from before signed links (`Booking.manage_token_hash`)."""
    return hashlib.sha256(token.encode()).hexdigest()


def is_signed(token: str) -> bool:
    return ":" in token


def unsign(token: str) -> tuple[int, int] | None:
    """(booking id, secret version) from a signed token, or None if it was not made with our key."""
    return unsign_id_and_version(token, salt=SALT)


def unsign_id_and_version(token: str, *, salt: str) -> tuple[int, int] | None:
    """(row id, secret version) from a token signed with `salt` (booking and waitlist entry links), or
    None if it was not made with our key and that salt."""
    if not token or len(token) > 256:
        return None
    try:
        value = signing.loads(token, salt=salt)
    except (signing.BadSignature, ValueError):
        return None
    if not (isinstance(value, list) and len(value) == 2 and all(type(v) is int for v in value)):
        return None
    return value[0], value[1]


def manage_path(booking: Booking, token: str | None = None) -> str:
    return reverse("pages:manage", args=[booking.reference, token or token_for(booking)])


def manage_url(booking: Booking) -> str:
    """An absolute, working manage link, made now (for emails: SITE_URL is the base)."""
    return settings.SITE_URL + manage_path(booking)


def links_request_url() -> str:
    return settings.SITE_URL + reverse("pages:links_request")
