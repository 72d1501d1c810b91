"""The HTTP session the CalDAV adapter hands to the caldav library: every request the library makes,
whatever URL it builds or a server hands it, goes through the SSRF guard of calendars.fetch here.

- **One origin.** A request to any scheme, host or port other than the calendar URL's is refused before
  it leaves (`OutsideOrigin`): an href in a server's answer that points elsewhere is never followed, and
  the credentials never travel to another host. Redirects are not followed either.
- **Checked addresses are the ones connected to.** The session's DNS resolver (`GuardedResolver`)
  resolves the host for each new connection and refuses it when any address it gets is private,
  loopback, link-local or reserved (unless CALENDAR_ALLOW_PRIVATE_URLS); the connection is then made
  to exactly the addresses it checked. There is no second lookup a rebinding DNS server could answer
  differently, for http and https alike (https still verifies the certificate against the name).
- **Bounded answers.** A response body is read up to CALENDAR_FETCH_MAX_BYTES (after decompression)
  and refused past it (`TooLarge`); each request is bounded by CALENDAR_FETCH_TIMEOUT_SECONDS.
- No proxy, .netrc or other environment setting is used (`trust_env` off): each would bypass the above.
"""

import socket
import time
from urllib.parse import urlsplit

import niquests
from django.conf import settings
from niquests.adapters import HTTPAdapter
from niquests.packages.urllib3.contrib.resolver.system import SystemResolver

from booking_site import http_deadline
from calendars.fetch import is_public_address

READ_CHUNK = 64 * 1024


class OutsideOrigin(Exception):
    """A request to another origin than the calendar's was refused."""


class TooLarge(Exception):
    """A response body was larger than CALENDAR_FETCH_MAX_BYTES."""


class RefusedAddress(OSError):
    """The host resolved to an address the guard refuses; the message is safe to show to staff."""


def origin(url: str) -> tuple[str, str, int]:
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    return scheme, (parts.hostname or "").lower(), parts.port or (443 if scheme == "https" else 80)


class GuardedResolver(SystemResolver):
    """The system resolver, refusing a host any of whose addresses is not public. It answers the very
    lookup the connection is made from, so the check and the connection see the same addresses."""

    def __init__(self, *patterns, **kwargs):
        super().__init__(*patterns, **kwargs)
        self.refused = ""  # the last refusal, for the adapter's error message

    def getaddrinfo(self, host, port, family, type, proto=0, flags=0, *, quic_upgrade_via_dns_rr=False):
        infos = socket.getaddrinfo(host, port, family, type, proto, flags)
        if not settings.CALENDAR_ALLOW_PRIVATE_URLS:
            for info in infos:
                address = info[4][0]
                if not is_public_address(address):
                    name = host.decode() if isinstance(host, bytes) else host
                    self.refused = (
                        f"The calendar host {name!r} resolves to a private or reserved address ({address}); refused."
                    )
                    raise RefusedAddress(self.refused)
        return infos


class GuardedAdapter(HTTPAdapter):
    """Sends only to `allowed_origin`, and reads each answer whole but capped."""

    def __init__(self, *, allowed_origin: tuple[str, str, int], **kwargs):
        super().__init__(**kwargs)
        self.allowed_origin = allowed_origin

    def init_poolmanager(self, *args, **kwargs) -> None:
        super().init_poolmanager(*args, **kwargs)
        http_deadline.watch_pools(self.poolmanager)

    def send(self, request, stream=False, **kwargs):
        if origin(request.url) != self.allowed_origin:
            raise OutsideOrigin("A request to another server than the calendar's was refused.")
        # The whole answer within the timeout, however slowly it comes (booking_site/http_deadline.py).
        with http_deadline.cut_off_at(time.monotonic() + settings.CALENDAR_FETCH_TIMEOUT_SECONDS):
            response = super().send(request, stream=True, **kwargs)
            if not stream:
                _read_capped(response)
        return response


def _read_capped(response) -> None:
    limit = settings.CALENDAR_FETCH_MAX_BYTES
    declared = response.headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > limit:
        response.close()
        raise TooLarge(f"The CalDAV server's answer is larger than {limit} bytes.")
    chunks, size = [], 0
    for chunk in response.iter_content(chunk_size=READ_CHUNK):
        size += len(chunk)
        if size > limit:
            response.close()
            raise TooLarge(f"The CalDAV server's answer is larger than {limit} bytes.")
        chunks.append(chunk)
    response._content = b"".join(chunks)
    response._content_consumed = True


def guarded_session(calendar_url: str) -> niquests.Session:
    """A session that talks only to `calendar_url`'s origin, through the guard (see the module docstring)."""
    resolver = GuardedResolver()
    session = niquests.Session(resolver=resolver, disable_http3=True)
    session.trust_env = False
    session.max_redirects = 0
    adapter = GuardedAdapter(allowed_origin=origin(calendar_url), resolver=resolver, disable_http3=True)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session
