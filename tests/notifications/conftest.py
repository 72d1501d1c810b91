"""Fixtures of the notifications suite: channel settings, due rows in bulk, local fake servers, and
environments for subprocesses (Celery workers, dispatchers) that share the pytest database."""

import json
import os
import re
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, quote

import pytest
from django.db import connection
from django.utils import timezone

from notifications.models import Channel, Reminder
from scheduling.models import Booking, BookingStatus
from tests.factories import CustomerFactory, ProviderFactory, service_of
from tests.scheduling.conftest import open_all_day_provider

ROOT = Path(__file__).resolve().parents[2]
TWILIO_SID = "AC" + "0" * 32
TWILIO_TOKEN = "test-auth-token"
TWILIO_FROM = "+15005550006"
INVALID_NUMBER = "+15005550001"  # the fake answers 400 / 21211, like Twilio for an invalid "To"
FLAKY_NUMBER = "+15005550002"  # the fake answers 503


@pytest.fixture(autouse=True)
def _channels(settings):
    """Only email is configured unless a test says otherwise; retries wait 60 s, five attempts."""
    settings.SMS_BACKEND = ""
    settings.PUSH_BACKEND = ""
    settings.PUSH_WEBHOOK_URL = ""
    settings.NOTIFICATIONS_MAX_ATTEMPTS = 5
    settings.NOTIFICATIONS_RETRY_BACKOFF_SECONDS = 60
    settings.NOTIFICATIONS_CLAIM_LEASE_SECONDS = 300
    settings.NOTIFICATIONS_SEND_TIMEOUT_SECONDS = 5


@pytest.fixture
def provider(db):
    return open_all_day_provider(timezone="America/New_York", name="Dr Ada")


# --- rows in bulk -------------------------------------------------------------------------------


def due_reminders(count: int, *, channel: str = Channel.EMAIL, customer=None, overdue=timedelta(minutes=1)):
    """`count` confirmed bookings, 30 minutes apart, each with one reminder that fell due `overdue` ago
    and whose appointment is still ahead (lead = time to the start + overdue)."""
    provider = ProviderFactory(timezone="Europe/Paris")
    service = service_of(provider)
    customer = customer or CustomerFactory(timezone="America/Chicago")
    now = timezone.now().replace(microsecond=0)
    bookings = []
    for n in range(count):
        start = now + timedelta(hours=2, minutes=30 * n)
        end = start + timedelta(minutes=service.duration_minutes)
        bookings.append(
            Booking(
                provider=provider,
                service=service,
                customer=customer,
                start_at=start,
                end_at=end,
                blocked_from=start,
                blocked_until=end,
                status=BookingStatus.CONFIRMED,
                provider_timezone=provider.timezone,
                customer_name=customer.name,
                customer_email=customer.email,
                customer_phone=customer.phone,
                customer_timezone=customer.timezone,
                free_cancel_until=start - timedelta(hours=24),
                manage_token_hash="x" * 64,
            )
        )
    Booking.objects.bulk_create(bookings)
    rows = []
    for booking in bookings:
        fire_at = now - overdue
        lead = round((booking.start_at - fire_at).total_seconds() / 60)
        rows.append(
            Reminder(booking=booking, channel=channel, lead_minutes=lead, fire_at=fire_at, next_attempt_at=fire_at)
        )
    return Reminder.objects.bulk_create(rows)


# --- what the file email backend wrote -----------------------------------------------------------

KEY_HEADER = re.compile(r"^X-Notification-Key: (\S+)$", re.MULTILINE)


def sent_keys(mail_dir: Path) -> list[str]:
    """The ledger key of every email the file backend wrote under `mail_dir`, one per copy."""
    keys = []
    for path in sorted(mail_dir.glob("*")):
        keys += KEY_HEADER.findall(path.read_text(errors="replace"))
    return keys


def duplicates(keys: list[str]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for key in keys:
        counts[key] = counts.get(key, 0) + 1
    return {key: n for key, n in counts.items() if n > 1}


# --- environments for subprocesses --------------------------------------------------------------


def subprocess_env(mail_dir: Path, **extra: str) -> dict[str, str]:
    """The environment for a worker or dispatcher process: the pytest database (by name, from the
    live connection), the file email backend into `mail_dir`, SMS and push off."""
    db = connection.settings_dict
    auth = quote(db["USER"] or "", safe="")
    if db["PASSWORD"]:
        auth += ":" + quote(db["PASSWORD"], safe="")
    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE="booking_site.settings",
        DATABASE_URL=f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}",
        EMAIL_BACKEND="django.core.mail.backends.filebased.EmailBackend",
        EMAIL_FILE_PATH=str(mail_dir),
        SMS_BACKEND="",
        PUSH_BACKEND="",
        LOG_LEVEL="WARNING",
        PYTHONUNBUFFERED="1",
    )
    env.update(extra)
    return env


# --- local fake servers -------------------------------------------------------------------------


@dataclass
class FakeServer:
    url: str
    requests: list[dict] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    # Requests whose number (1-based) is in `hold` wait until `release` is set.
    hold: set[int] = field(default_factory=set)
    release: threading.Event = field(default_factory=threading.Event)
    delay: float = 0.0  # seconds every answer waits
    statuses: dict[str, int] = field(default_factory=dict)  # push: recipient -> HTTP status (default 200)
    arrived: threading.Condition = field(default_factory=threading.Condition)

    def wait_for(self, count: int, timeout: float = 20) -> bool:
        with self.arrived:
            return self.arrived.wait_for(lambda: len(self.requests) >= count, timeout=timeout)


class _QuietServer(ThreadingHTTPServer):
    def handle_error(self, request, client_address):
        pass  # a client killed mid-request (the crash test) is expected, not news


def _serve(handler_factory) -> Iterator[FakeServer]:
    server_state = FakeServer(url="")
    httpd = _QuietServer(("127.0.0.1", 0), handler_factory(server_state))
    httpd.daemon_threads = True
    server_state.url = f"http://127.0.0.1:{httpd.server_address[1]}"
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield server_state
    finally:
        server_state.release.set()
        httpd.shutdown()
        httpd.server_close()


def _record(state: FakeServer, entry: dict) -> int:
    with state.arrived:
        state.requests.append(entry)
        number = len(state.requests)
        state.arrived.notify_all()
    if number in state.hold:
        state.release.wait(timeout=30)
    if state.delay:
        time.sleep(state.delay)
    return number


@pytest.fixture
def twilio_server() -> Iterator[FakeServer]:
    """A local stand-in for api.twilio.com's Messages endpoint, answering as Twilio does."""

    def factory(state: FakeServer):
        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
                number = _record(state, {"path": self.path, "form": form, "auth": self.headers.get("Authorization")})
                expected = f"/2010-04-01/Accounts/{TWILIO_SID}/Messages.json"
                if self.path != expected:
                    return self._answer(404, {"code": 20404, "message": "Not found", "status": 404})
                if form.get("To") == INVALID_NUMBER:
                    message = f"The 'To' number {INVALID_NUMBER} is not a valid phone number."
                    return self._answer(400, {"code": 21211, "message": message, "status": 400})
                if form.get("To") == FLAKY_NUMBER:
                    return self._answer(503, {"code": 20503, "message": "Service unavailable", "status": 503})
                sid = f"SM{number:032d}"
                return self._answer(
                    201,
                    {"sid": sid, "account_sid": TWILIO_SID, "to": form.get("To"), "from": form.get("From"),
                     "body": form.get("Body"), "status": "queued", "num_segments": "1"},
                )  # fmt: skip

            def _answer(self, status: int, body: dict):
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        return Handler

    yield from _serve(factory)


@pytest.fixture
def twilio(settings, twilio_server):
    settings.SMS_BACKEND = "twilio"
    settings.TWILIO_ACCOUNT_SID = TWILIO_SID
    settings.TWILIO_AUTH_TOKEN = TWILIO_TOKEN
    settings.TWILIO_FROM_NUMBER = TWILIO_FROM
    settings.TWILIO_API_BASE_URL = twilio_server.url
    return twilio_server


@pytest.fixture
def push_server() -> Iterator[FakeServer]:
    """A push relay: records each JSON POST; answers 200, or the status `statuses` names for the recipient."""

    def factory(state: FakeServer):
        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length))
                number = _record(state, {"body": body, "auth": self.headers.get("Authorization")})
                status = state.statuses.get(body.get("to"), 200)
                data = json.dumps({"id": f"push-{number}"}).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        return Handler

    yield from _serve(factory)


@pytest.fixture
def push(settings, push_server):
    settings.PUSH_BACKEND = "webhook"
    settings.PUSH_WEBHOOK_URL = push_server.url + "/push"
    settings.PUSH_WEBHOOK_TOKEN = "relay-token"
    return push_server
