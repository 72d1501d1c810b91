"""What a send costs at most, whatever the receiver does, and that every way a send can break is kept
as an attempt."""

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from notifications.models import WebhookAttempt, WebhookDelivery
from notifications.webhook_delivery import webhooks_dispatch
from notifications.webhooks import webhook_endpoint_create, webhook_ping
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin():
    return UserFactory(username="integrator", is_superuser=True, is_staff=True)


@pytest.fixture
def trickling_receiver(settings):
    """Answers 200 at once, then its body a byte every half second for 30 s."""
    settings.WEBHOOK_ALLOW_PRIVATE_URLS = True
    settings.WEBHOOK_TIMEOUT_SECONDS = 2
    stop = threading.Event()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            self.send_response(200)
            self.send_header("Content-Length", "60")
            self.end_headers()
            for _ in range(60):
                if stop.wait(0.5):
                    return
                self.wfile.write(b"x")
                self.wfile.flush()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/hooks"
    stop.set()
    server.shutdown()
    server.server_close()


def test_a_receiver_trickling_its_answer_holds_the_send_no_longer_than_the_timeout(admin, trickling_receiver):
    endpoint, _ = webhook_endpoint_create(owner=admin, url=trickling_receiver)
    webhook_ping(endpoint_id=endpoint.pk)

    started = time.monotonic()
    assert webhooks_dispatch().sent == 1  # the status is in; the body is not waited for
    assert time.monotonic() - started < 10  # the whole body takes 30 s
    assert WebhookAttempt.objects.get().duration_ms < 10_000


def test_a_send_breaking_in_an_unforeseen_way_is_kept_as_an_attempt_and_retried(admin, settings):
    settings.WEBHOOK_ALLOW_PRIVATE_URLS = True
    endpoint, _ = webhook_endpoint_create(owner=admin, url="http://127.0.0.1/hooks")
    # A port out of range passes a shape check but breaks the URL's parsing (a ValueError, not a
    # requests error).
    type(endpoint).objects.filter(pk=endpoint.pk).update(url="http://127.0.0.1:99999/hooks")
    webhook_ping(endpoint_id=endpoint.pk)

    result = webhooks_dispatch()
    assert result.retrying == 1
    attempt = WebhookAttempt.objects.get()
    assert "ValueError" in attempt.error and attempt.status_code is None
    assert WebhookDelivery.objects.get().status == "pending"
    endpoint.refresh_from_db()
    assert endpoint.failing_since is not None
