"""booking_site/http_deadline.py: a receiver that answers a byte at a time, each byte within the read
timeout, is cut off at the exchange's deadline (webhook POSTs, iCal fetches, CalDAV requests)."""

import socket
import threading
import time

import pytest
import requests

from booking_site import http_deadline
from calendars.fetch import CalendarFetchError, fetch_calendar
from calendars.services import calendar_connection_create, calendar_connection_sync
from notifications.webhook_delivery import post
from tests.factories import ProviderFactory

HEADERS_THEN_DRIBBLE = b"HTTP/1.1 200 OK\r\nX-Slow: "
BODY_THEN_DRIBBLE = (
    b"HTTP/1.1 200 OK\r\nContent-Type: text/calendar\r\nContent-Length: 100000\r\n\r\nBEGIN:VCALENDAR\r\n"
)


class Dribbler:
    """Answers every request with `opening`, then one byte every 0.2 s for up to `seconds`."""

    def __init__(self, opening: bytes, *, seconds: float = 8) -> None:
        self.opening, self.seconds = opening, seconds
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.listener.getsockname()[1]}/in"
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        self.listener.settimeout(0.2)
        while not self.stop.is_set():
            try:
                conn, _ = self.listener.accept()
            except TimeoutError:
                continue
            threading.Thread(target=self._dribble, args=(conn,), daemon=True).start()

    def _dribble(self, conn: socket.socket) -> None:
        with conn:
            try:
                conn.recv(65536)  # the request (small)
                conn.sendall(self.opening)
                ends = time.monotonic() + self.seconds
                while time.monotonic() < ends and not self.stop.is_set():
                    conn.sendall(b"x")
                    time.sleep(0.2)
            except OSError:  # the client hung up: what the test wants
                pass

    def close(self) -> None:
        self.stop.set()
        self.thread.join(2)
        self.listener.close()


@pytest.fixture
def headers_dribbler():
    server = Dribbler(HEADERS_THEN_DRIBBLE)
    yield server
    server.close()


@pytest.fixture
def body_dribbler():
    server = Dribbler(BODY_THEN_DRIBBLE)
    yield server
    server.close()


def test_a_webhook_receiver_dribbling_its_headers_is_cut_off_at_the_timeout(headers_dribbler, settings):
    settings.WEBHOOK_TIMEOUT_SECONDS, settings.WEBHOOK_ALLOW_PRIVATE_URLS = 1, True
    started = time.monotonic()

    with pytest.raises(requests.RequestException), http_deadline.session() as session:
        post(url=headers_dribbler.url, body="{}", headers={}, session=session)

    assert time.monotonic() - started < 3


def test_a_webhook_receiver_dribbling_its_headers_is_cut_off_without_a_session(headers_dribbler, settings):
    settings.WEBHOOK_TIMEOUT_SECONDS, settings.WEBHOOK_ALLOW_PRIVATE_URLS = 1, True
    started = time.monotonic()

    with pytest.raises(requests.RequestException):
        post(url=headers_dribbler.url, body="{}", headers={})

    assert time.monotonic() - started < 3


@pytest.mark.parametrize("dribbler", ["headers_dribbler", "body_dribbler"])
def test_a_calendar_server_dribbling_is_cut_off_at_the_timeout(dribbler, request, settings):
    server = request.getfixturevalue(dribbler)
    settings.CALENDAR_FETCH_TIMEOUT_SECONDS, settings.CALENDAR_ALLOW_PRIVATE_URLS = 1, True
    started = time.monotonic()

    with pytest.raises(CalendarFetchError, match="did not answer in time"):
        fetch_calendar(server.url)

    assert time.monotonic() - started < 3


def test_an_answer_within_the_deadline_is_read_as_usual():
    server = Dribbler(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello", seconds=0)
    try:
        with http_deadline.session() as session, http_deadline.cut_off_at(time.monotonic() + 2):
            response = session.get(server.url, timeout=5)
            assert (response.status_code, response.text) == (200, "hello")
    finally:
        server.close()


@pytest.mark.django_db
def test_a_caldav_server_dribbling_its_headers_is_cut_off_at_the_timeout(headers_dribbler, settings):
    settings.CALENDAR_FETCH_TIMEOUT_SECONDS, settings.CALENDAR_ALLOW_PRIVATE_URLS = 1, True
    connection = calendar_connection_create(
        provider=ProviderFactory(),
        kind="caldav",
        url=headers_dribbler.url + "/calendar/",
        credentials={"username": "u", "password": "p"},
    )
    started = time.monotonic()

    result = calendar_connection_sync(connection_id=connection.pk)

    assert "could not be reached" in result.error
    assert time.monotonic() - started < 3
