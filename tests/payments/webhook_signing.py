"""Webhook bodies signed the way Stripe signs them, for posting to our endpoint in tests."""

import hashlib
import hmac
import json
import secrets
import time

from django.conf import settings

WEBHOOK_URL = "/payments/webhooks/stripe/"


def intent_event(event_type: str, reference: str, *, event_id: str = "", failure: str = "") -> bytes:
    """A Stripe event about a PaymentIntent, as JSON bytes."""
    intent = {"id": reference, "object": "payment_intent", "status": "succeeded", "metadata": {}}
    if event_type == "payment_intent.payment_failed":
        intent["status"] = "requires_payment_method"
        intent["last_payment_error"] = {"message": failure or "Your card was declined."}
    event = {
        "id": event_id or f"evt_{secrets.token_hex(12)}",
        "object": "event",
        "type": event_type,
        "data": {"object": intent},
    }
    return json.dumps(event).encode()


def signature(body: bytes, *, secret: str | None = None, timestamp: int | None = None) -> str:
    """The Stripe-Signature header: t=<ts>,v1=<HMAC-SHA256 of "<ts>.<body>" under the endpoint's secret>."""
    timestamp = int(time.time()) if timestamp is None else timestamp
    secret = settings.STRIPE_WEBHOOK_SECRET if secret is None else secret
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def deliver(client, body: bytes, *, sig: str | None = None):
    """POST a webhook body to our endpoint, signed unless `sig` says otherwise."""
    return client.post(
        WEBHOOK_URL,
        data=body,
        content_type="application/json",
        headers={"Stripe-Signature": signature(body) if sig is None else sig},
    )
