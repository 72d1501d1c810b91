"""Private links of a waitlist entry: `/w/<entry id>/<token>/`, handled like a booking's manage links
(scheduling/manage_links.py, docs/decisions/0010-manage-links.md).

The token is `django.core.signing` over (entry id, `manage_secret_version`) with its own salt, so a
booking's token never opens an entry nor the reverse, a worker rendering an email can make a working
link at any time, and nothing secret is stored. Bumping the version revokes every link made before.
"""

from django.conf import settings
from django.core import signing
from django.urls import reverse

from scheduling.manage_links import unsign_id_and_version
from waitlist.models import WaitlistEntry

SALT = "waitlist.entry-link"


def token_for(entry: WaitlistEntry) -> str:
    return signing.dumps([entry.pk, entry.manage_secret_version], salt=SALT)


def unsign(token: str) -> tuple[int, int] | None:
    """(entry id, secret version) from a token, or None if it was not made with our key and salt."""
    return unsign_id_and_version(token, salt=SALT)


def entry_path(entry: WaitlistEntry, name: str = "waitlist_entry") -> str:
    return reverse(f"pages:{name}", args=[entry.pk, token_for(entry)])


def entry_url(entry: WaitlistEntry) -> str:
    """An absolute, working link to the entry's page, made now (for emails)."""
    return settings.SITE_URL + entry_path(entry)


def accept_url(entry: WaitlistEntry) -> str:
    return settings.SITE_URL + entry_path(entry, "waitlist_accept")


def decline_url(entry: WaitlistEntry) -> str:
    return settings.SITE_URL + entry_path(entry, "waitlist_decline")


def join_again_url(entry: WaitlistEntry) -> str:
    """The service's page (with the entry's provider, if it wanted one): where a new entry starts."""
    path = reverse("pages:service", args=[entry.service.slug])
    if entry.provider_id:
        path += f"?provider={entry.provider.slug}"
    return settings.SITE_URL + path
