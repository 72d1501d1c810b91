"""The CalDAV adapter's SSRF guard (calendars/adapters/caldav_session.py) against fake CalDAV servers on
127.0.0.1: hrefs to another origin are not followed, answers are capped, and an address is checked at
the moment of connecting, not only when the URL was first looked at."""

import socket
import sys
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.utils import timezone

from calendars.adapters import AdapterError, adapter_for
from calendars.fetch import resolve_public_address
from calendars.models import CalendarConnection
from tests.scheduling.conftest import open_all_day_provider

pytestmark = pytest.mark.django_db

EVENT = (
    b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\nBEGIN:VEVENT\r\nUID:evil@x\r\n"
    b"DTSTART:20300101T100000Z\r\nDTEND:20300101T110000Z\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
)


class _Handler(BaseHTTPRequestHandler):
    def _answer(self):
        self.server.seen.append((self.command, self.path, self.headers.get("Authorization")))
        length = int(self.headers.get("Content-Length") or 0)
        self.rfile.read(length)
        status, body = self.server.answer(self)
        self.send_response(status)
        self.send_header("Content-Type", "application/xml; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_PUT = do_DELETE = do_REPORT = do_PROPFIND = _answer

    def log_message(self, *args):
        pass


@pytest.fixture
def servers(settings):
    settings.CALENDAR_ALLOW_PRIVATE_URLS = True
    started = []

    def serve(answer):
        server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        server.daemon_threads = True
        server.seen, server.answer = [], answer
        threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        started.append(server)
        return server

    yield serve
    for server in started:
        server.shutdown()
        server.server_close()


def adapter(url):
    connection = CalendarConnection(
        provider=open_all_day_provider(), kind="caldav", url=url, credentials={"username": "ann", "password": "pw"}
    )
    return adapter_for(connection)


def multistatus(href: str, with_data: bool = False) -> bytes:
    data = f"<c:calendar-data>{EVENT.decode()}</c:calendar-data>" if with_data else ""
    return (
        '<?xml version="1.0" encoding="utf-8"?><d:multistatus xmlns:d="DAV:" '
        'xmlns:c="urn:ietf:params:xml:ns:caldav"><d:response>'
        f'<d:href>{href}</d:href><d:propstat><d:prop><d:getetag>"1"</d:getetag>{data}</d:prop>'
        "<d:status>HTTP/1.1 200 OK</d:status></d:propstat></d:response></d:multistatus>"
    ).encode()


def read(adapter_):
    now = timezone.now()
    return adapter_.read_busy(start=now, end=now + timedelta(days=30))


def test_an_href_to_another_origin_in_a_report_is_not_followed(servers):
    other = servers(lambda handler: (200, EVENT))
    other_href = f"http://127.0.0.1:{other.server_address[1]}/internal/evil.ics"
    calendar = servers(lambda handler: (207, multistatus(other_href)))

    # The library skips an object it cannot load (so the read itself goes on, without it).
    result = read(adapter(f"http://127.0.0.1:{calendar.server_address[1]}/ann/work/"))

    assert result.spans == []
    assert other.seen == []  # not a request, and so no credentials, went to the other origin
    assert calendar.seen  # while the calendar's own server was asked


def test_an_answer_larger_than_the_cap_is_refused(servers, settings):
    settings.CALENDAR_FETCH_MAX_BYTES = 10_000
    calendar = servers(lambda handler: (207, multistatus("/ann/work/a.ics", with_data=True) + b" " * 20_000))

    with pytest.raises(AdapterError, match="larger than 10000 bytes"):
        read(adapter(f"http://127.0.0.1:{calendar.server_address[1]}/ann/work/"))


def test_a_host_that_resolves_to_a_private_address_when_connecting_is_refused(servers, settings, monkeypatch):
    """A DNS rebind: the name looked public when the URL was checked and points inside at request time.
    (DNS is outside this machine, so the resolver is stubbed; the server it would reach is real.)"""
    internal = servers(lambda handler: (204, b""))
    port = internal.server_address[1]
    settings.CALENDAR_ALLOW_PRIVATE_URLS = False
    real = socket.getaddrinfo

    def rebinding(host, *args, **kwargs):
        if host != "calendar.example.test":
            return real(host, *args, **kwargs)
        # A lookup made to check the URL (calendars.fetch) sees a public address; any other, the internal one.
        checking = sys._getframe(1).f_globals.get("__name__") == "calendars.fetch"
        address = ("93.184.215.14", port) if checking else ("127.0.0.1", port)
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", address)]

    monkeypatch.setattr(socket, "getaddrinfo", rebinding)
    resolve_public_address("calendar.example.test", port)  # passes: public at check time

    with pytest.raises(AdapterError, match="private or reserved address") as raised:
        adapter(f"http://calendar.example.test:{port}/ann/work/").delete_event(uid="x@booking")
    assert raised.value.retryable is False
    assert internal.seen == []
