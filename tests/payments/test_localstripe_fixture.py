"""The localstripe fixtures (tests/payments/conftest.py): a real fake Stripe that the SDK and webhooks reach."""

import json
import queue
import threading
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import stripe
from django.conf import settings

from tests.stripe_fixtures import free_port


def _client() -> stripe.StripeClient:
    """Built from the settings alone, as the app builds its own."""
    return stripe.StripeClient(settings.STRIPE_SECRET_KEY, base_addresses={"api": settings.STRIPE_API_BASE})


class _Receiver:
    """A tiny HTTP server in a thread that records each POST's Stripe-Signature header and body."""

    def __init__(self):
        received: queue.Queue[tuple[str, bytes]] = queue.Queue()

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                received.put((self.headers.get("Stripe-Signature", ""), body))
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.received = received
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/payments/webhooks/stripe/"
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    def wait_for(self, event_type: str, object_id: str, timeout: float) -> tuple[str, bytes]:
        """The first delivery of event_type about object_id; other events (customer.created, ...) pass."""
        while True:
            signature, body = self.received.get(timeout=timeout)
            event = json.loads(body)
            if event["type"] == event_type and event["data"]["object"]["id"] == object_id:
                return signature, body

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    server = _Receiver()
    yield server
    server.close()


def _paid_intent(stripe_local) -> str:
    """A PaymentIntent confirmed with a good card the way the app pays: token, customer, confirm."""
    client = _client()
    intent = client.v1.payment_intents.create({"amount": 4500, "currency": "eur"})
    customer = client.v1.customers.create({})
    card = client.v1.customers.payment_sources.create(customer.id, {"source": stripe_local.card_token()})
    client.v1.payment_intents.update(intent.id, {"payment_method": card.id, "customer": customer.id})
    assert client.v1.payment_intents.confirm(intent.id).status == "succeeded"
    return intent.id


def test_localstripe_serves_its_stripe_js(stripe_local):
    with urllib.request.urlopen(settings.STRIPE_JS_URL, timeout=5) as response:
        assert response.status == 200
        assert b"Stripe" in response.read()


def test_a_payment_intent_created_through_the_sdk_awaits_a_payment_method(stripe_local):
    intent = _client().v1.payment_intents.create({"amount": 4500, "currency": "eur"})

    assert intent.id.startswith("pi_")
    assert intent.status == "requires_payment_method"
    assert _client().v1.payment_intents.retrieve(intent.id).amount == 4500


def test_card_token_returns_a_token_id(stripe_local):
    assert stripe_local.card_token().startswith("tok_")


@pytest.mark.slow
def test_a_registered_webhook_receives_the_signed_payment_succeeded_event(stripe_local, receiver):
    stripe_local.register_webhook(receiver.url)

    intent_id = _paid_intent(stripe_local)
    signature, payload = receiver.wait_for("payment_intent.succeeded", intent_id, timeout=15)

    event = stripe.Webhook.construct_event(payload, signature, stripe_local.webhook_secret)
    assert event.type == "payment_intent.succeeded"
    assert event.data.object.id == intent_id


@pytest.mark.slow
def test_a_dead_webhook_url_does_not_stop_delivery_to_the_others(stripe_local, receiver):
    """Every registration of the session gets every event, finished tests' dead URLs first."""
    stripe_local.register_webhook(f"http://127.0.0.1:{free_port()}/payments/webhooks/stripe/")
    stripe_local.register_webhook(receiver.url)

    intent_id = _paid_intent(stripe_local)

    signature, payload = receiver.wait_for("payment_intent.succeeded", intent_id, timeout=15)
    stripe.Webhook.construct_event(payload, signature, stripe_local.webhook_secret)
