"""Fetching a provider's iCal URL: the only place the server makes a request to an address a user typed.

Guarded against server-side request forgery: the host is resolved once, every address it resolves to
must be public (unless settings.CALENDAR_ALLOW_PRIVATE_URLS), and plain http connects to that checked
address itself, so a DNS answer that changes between the check and the connection (a rebind) cannot
reach an internal service. Redirects are followed by hand, each hop checked the same way.
"""

import ipaddress
import socket
import time
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit, urlunsplit

import requests
from django.conf import settings

from booking_site import http_deadline

MAX_REDIRECTS = 3
CONNECT_TIMEOUT_PER_ADDRESS = 3.0  # seconds, for each address of a host but its last


class CalendarFetchError(Exception):
    """The calendar could not be fetched; the message is safe to show to staff."""


@dataclass(frozen=True)
class FetchResult:
    status: str  # "ok" or "not_modified"
    body: bytes = b""
    etag: str = ""
    last_modified: str = ""


def fetch_calendar(url: str, *, etag: str = "", last_modified: str = "") -> FetchResult:
    """GET `url` conditionally (If-None-Match / If-Modified-Since), at most CALENDAR_FETCH_MAX_BYTES
    within CALENDAR_FETCH_TIMEOUT_SECONDS overall. Raises CalendarFetchError."""
    headers = {"Accept": "text/calendar, */*;q=0.5", "User-Agent": "booking-calendar-sync/1"}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    deadline = time.monotonic() + settings.CALENDAR_FETCH_TIMEOUT_SECONDS
    # The cut-off bounds the whole exchange, headers included, however slowly the server sends it.
    with http_deadline.session() as session, http_deadline.cut_off_at(deadline):
        return _fetch(url, headers, deadline, session=session, etag=etag, last_modified=last_modified)


def _fetch(url: str, headers: dict, deadline: float, *, session, etag: str, last_modified: str) -> FetchResult:
    for _hop in range(MAX_REDIRECTS + 1):
        response = _get_pinned(url, headers, deadline, session=session)
        if response.status_code in (301, 302, 303, 307, 308) and response.headers.get("Location"):
            response.close()
            url = urljoin(url, response.headers["Location"])
            continue
        with response:
            if response.status_code == 304:
                return FetchResult("not_modified", etag=etag, last_modified=last_modified)
            if response.status_code != 200:
                raise CalendarFetchError(f"The calendar server answered HTTP {response.status_code}.")
            body = _read_capped(response, deadline)
            return FetchResult(
                "ok",
                body=body,
                etag=response.headers.get("ETag", "")[:256],
                last_modified=response.headers.get("Last-Modified", "")[:64],
            )
    raise CalendarFetchError(f"More than {MAX_REDIRECTS} redirects.")


def check_url_shape(url: str) -> None:
    """Only absolute http(s) URLs with a host and no user name or password in them (the URL is shown
    and logged where credentials must never be); raises CalendarFetchError."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise CalendarFetchError("The calendar URL must start with http:// or https:// and name a host.")
    if "@" in parts.netloc:
        raise CalendarFetchError(
            "The calendar URL must not contain a user name or password. For a CalDAV calendar, put them in "
            "the username and password fields."
        )


def resolve_public_address(host: str, port: int, *, allow_private: bool | None = None) -> str:
    """The first of `resolve_public_addresses`."""
    return resolve_public_addresses(host, port, allow_private=allow_private)[0]


def resolve_public_addresses(host: str, port: int, *, allow_private: bool | None = None) -> list[str]:
    """The addresses `host` resolves to, in resolver order, after checking that none of them is
    private, loopback, link-local, reserved, multicast or unspecified (all are checked: a name that
    also resolves to an internal address is refused whichever one a client would pick).
    `allow_private` defaults to settings.CALENDAR_ALLOW_PRIVATE_URLS (webhooks pass their own setting)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise CalendarFetchError(f"The calendar host {host!r} could not be resolved.") from exc
    addresses = [info[4][0] for info in infos]
    if not addresses:
        raise CalendarFetchError(f"The calendar host {host!r} could not be resolved.")
    if allow_private is None:
        allow_private = settings.CALENDAR_ALLOW_PRIVATE_URLS
    if not allow_private:
        for address in addresses:
            if not is_public_address(address):
                raise CalendarFetchError(
                    f"The calendar host {host!r} resolves to a private or reserved address ({address}); refused."
                )
    return list(dict.fromkeys(addresses))  # one per address: getaddrinfo repeats them per protocol


def is_public_address(address: str) -> bool:
    """Only globally routable unicast addresses. `is_global` also refuses what the private/loopback/
    link-local checks miss: shared address space (100.64.0.0/10, where some clouds keep their metadata
    service), benchmarking and documentation ranges. Addresses that embed an IPv4 one (IPv4-mapped,
    6to4, Teredo) are judged by the embedded address, which is where a packet would end up."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])  # drop an IPv6 zone id
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = ip.ipv4_mapped or ip.sixtofour or (ip.teredo[1] if ip.teredo else None)
        if embedded is not None:
            ip = embedded
    return ip.is_global and not ip.is_multicast


def _get_pinned(url: str, headers: dict, deadline: float, *, session: requests.Session) -> requests.Response:
    check_url_shape(url)
    parts = urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    addresses = resolve_public_addresses(parts.hostname, port)
    if parts.scheme != "http":
        # https must connect by name for the certificate check, so it is check-then-connect: a rebind
        # between the two could still reach an internal host, but only one that presents a valid
        # certificate for the public name, which internal services do not have.
        return _get(url, headers, deadline, session=session)
    # Connect to a checked address; the original name travels in the Host header. A name with several
    # addresses (IPv6 and IPv4, say) is tried address by address, as a browser would, until one connects.
    request_headers = {**headers, "Host": parts.netloc.rsplit("@", 1)[-1]}
    for index, address in enumerate(addresses):
        literal = f"[{address}]" if ":" in address else address
        target = urlunsplit(("http", f"{literal}:{port}", parts.path or "/", parts.query, ""))
        try:
            last = index == len(addresses) - 1
            return _get(target, request_headers, deadline, session=session, raise_connection_error=last)
        except requests.ConnectionError:
            continue
    raise AssertionError("unreachable: the last address raises")


def _get(
    target: str, headers: dict, deadline: float, *, session: requests.Session, raise_connection_error: bool = True
) -> requests.Response:
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise CalendarFetchError("The calendar server did not answer in time.")
    # One address that does not connect (a blackholed IPv6 route) must leave time for the next one.
    connect = remaining if raise_connection_error else min(remaining, CONNECT_TIMEOUT_PER_ADDRESS)
    try:
        return session.get(target, headers=headers, stream=True, allow_redirects=False, timeout=(connect, remaining))
    except requests.ConnectionError as exc:  # ConnectTimeout included: the next address may answer
        if not raise_connection_error:
            raise
        if isinstance(exc, requests.ConnectTimeout) or time.monotonic() >= deadline:  # cut off at the deadline
            raise CalendarFetchError("The calendar server did not answer in time.") from exc
        raise CalendarFetchError(f"The calendar server could not be reached ({type(exc).__name__}).") from exc
    except requests.Timeout as exc:
        raise CalendarFetchError("The calendar server did not answer in time.") from exc
    except requests.RequestException as exc:
        raise CalendarFetchError(f"The calendar server could not be reached ({type(exc).__name__}).") from exc


def _read_capped(response: requests.Response, deadline: float) -> bytes:
    limit = settings.CALENDAR_FETCH_MAX_BYTES
    declared = response.headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > limit:
        raise CalendarFetchError(f"The calendar is larger than {limit} bytes.")
    chunks, size = [], 0
    try:
        for chunk in response.iter_content(chunk_size=64 * 1024):
            size += len(chunk)
            if size > limit:
                raise CalendarFetchError(f"The calendar is larger than {limit} bytes.")
            if time.monotonic() > deadline:
                raise CalendarFetchError("The calendar server did not answer in time.")
            chunks.append(chunk)
    except requests.RequestException as exc:
        if time.monotonic() >= deadline:  # cut off at the deadline
            raise CalendarFetchError("The calendar server did not answer in time.") from exc
        raise CalendarFetchError(f"The calendar download failed ({type(exc).__name__}).") from exc
    return b"".join(chunks)
