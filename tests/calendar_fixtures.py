"""A real HTTP server on 127.0.0.1 that serves calendar files as a calendar service would (a plugin of
tests/conftest.py, for the calendar, console and API tests)."""

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

DATA = Path(__file__).parent / "calendars" / "data"


def fixture_bytes(name: str) -> bytes:
    return (DATA / name).read_bytes()


class CalendarServer:
    """What the next GET answers; tests change it between syncs."""

    def __init__(self):
        self.body = b""
        self.status = 200
        self.etag = ""
        self.delay = 0.0
        self.declare_length = True
        self.requests: list[dict] = []
        self.url = ""


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        state: CalendarServer = self.server.state
        state.requests.append(dict(self.headers))
        if state.delay:
            time.sleep(state.delay)
        if state.etag and self.headers.get("If-None-Match") == state.etag:
            self.send_response(304)
            self.end_headers()
            return
        self.send_response(state.status)
        self.send_header("Content-Type", "text/calendar; charset=utf-8")
        if state.etag:
            self.send_header("ETag", state.etag)
        if state.declare_length:
            self.send_header("Content-Length", str(len(state.body)))
        self.end_headers()
        try:
            self.wfile.write(state.body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (size cap, timeout): what the test wants

    def log_message(self, *args):
        pass


@pytest.fixture
def calendar_server(settings):
    """Serves `state.body` at `state.url`; private URLs are allowed for it (it listens on loopback)."""
    settings.CALENDAR_ALLOW_PRIVATE_URLS = True
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.daemon_threads = True
    server.state = CalendarServer()
    server.state.url = f"http://127.0.0.1:{server.server_address[1]}/calendar/basic.ics"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield server.state
    server.shutdown()
    server.server_close()
