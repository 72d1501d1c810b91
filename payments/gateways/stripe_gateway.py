"""Stripe, through the official SDK: one PaymentIntent per charge, refunds through the Refund API.

The page tokenises the card with Stripe.js (`createToken` on a Card Element) and hands the token here;
the server attaches it to a Stripe Customer and confirms the PaymentIntent with it. That is the flow
localstripe, the fake Stripe the tests and `make run` use, implements (it confirms a PaymentIntent
only with a payment method attached beforehand), and real Stripe accepts the same calls. A card that
needs 3-D Secure leaves the intent in requires_action; the page then runs Stripe.js's
`confirmCardPayment` and returns here to look the intent up.

Every call that moves money carries an idempotency key, and the SDK retries network failures with it.
"""

from decimal import Decimal

import stripe
from django.conf import settings

from booking_site import money
from payments.gateways import base

_STATES = {
    "succeeded": base.SUCCEEDED,
    "requires_payment_method": base.REQUIRES_PAYMENT,
    "requires_confirmation": base.REQUIRES_PAYMENT,
    "requires_action": base.REQUIRES_ACTION,
    "processing": base.PROCESSING,
    "requires_capture": base.PROCESSING,
    "canceled": base.CANCELLED,
}


def _client() -> stripe.StripeClient:
    if not settings.STRIPE_SECRET_KEY:
        raise base.GatewayError("Stripe is not configured: set STRIPE_SECRET_KEY.")
    api_base = settings.STRIPE_API_BASE
    return stripe.StripeClient(
        settings.STRIPE_SECRET_KEY,
        base_addresses={"api": api_base} if api_base else None,
        http_client=stripe.RequestsClient(timeout=settings.STRIPE_TIMEOUT_SECONDS),
        max_network_retries=2,
    )


def _state(intent) -> base.ChargeState:
    error = getattr(intent, "last_payment_error", None) or {}
    failure = error.get("message", "") if isinstance(error, dict) else getattr(error, "message", "")
    return base.ChargeState(
        reference=intent.id,
        status=_STATES.get(intent.status, base.PROCESSING),
        client_secret=intent.client_secret or "",
        failure=failure or "",
    )


class _Translated:
    """Turn the SDK's errors into the gateway interface's."""

    def __enter__(self):
        return self

    def __exit__(self, kind, exc, tb):
        if exc is None:
            return False
        if isinstance(exc, stripe.CardError):
            raise base.CardDeclined(exc.user_message or "Your card was declined.", code=exc.code or "") from exc
        if isinstance(exc, stripe.SignatureVerificationError):
            raise base.InvalidWebhook(str(exc)) from exc
        if isinstance(exc, stripe.StripeError):
            raise base.GatewayError(f"Stripe: {exc.user_message or exc}") from exc
        return False


class StripeGateway:
    name = "stripe"
    online = True

    def start_charge(
        self, *, amount: Decimal, currency: str, idempotency_key: str, metadata: dict[str, str]
    ) -> base.ChargeState:
        with _Translated():
            intent = _client().v1.payment_intents.create(
                params={
                    "amount": money.to_minor(amount, currency),
                    "currency": currency.lower(),
                    "payment_method_types": ["card"],
                    "metadata": metadata,
                },
                options={"idempotency_key": idempotency_key},
            )
        return _state(intent)

    def pay(self, *, reference: str, card_token: str, email: str, idempotency_key: str) -> base.ChargeState:
        client = _client()
        with _Translated():
            customer = client.v1.customers.create(
                params={"email": email}, options={"idempotency_key": f"{idempotency_key}-customer"}
            )
            card = client.v1.customers.payment_sources.create(
                customer.id, params={"source": card_token}, options={"idempotency_key": f"{idempotency_key}-card"}
            )
            client.v1.payment_intents.update(reference, params={"payment_method": card.id, "customer": customer.id})
            try:
                intent = client.v1.payment_intents.confirm(
                    reference, options={"idempotency_key": f"{idempotency_key}-confirm"}
                )
            except stripe.CardError:
                # The intent is back to requires_payment_method with the reason; report it as such.
                intent = client.v1.payment_intents.retrieve(reference)
                state = _state(intent)
                raise base.CardDeclined(state.failure or "Your card was declined.") from None
        return _state(intent)

    def charge_state(self, *, reference: str) -> base.ChargeState:
        with _Translated():
            return _state(_client().v1.payment_intents.retrieve(reference))

    def cancel_charge(self, *, reference: str, idempotency_key: str) -> base.ChargeState:
        client = _client()
        with _Translated():
            try:
                intent = client.v1.payment_intents.cancel(reference, options={"idempotency_key": idempotency_key})
            except stripe.InvalidRequestError:
                # Already cancelled, or paid meanwhile: what it is now decides what happens next.
                intent = client.v1.payment_intents.retrieve(reference)
        return _state(intent)

    def refund(
        self, *, reference: str, amount: Decimal, currency: str, idempotency_key: str, metadata: dict[str, str]
    ) -> str:
        client = _client()
        with _Translated():
            # An idempotency key lives 24 hours at Stripe (and not at all in localstripe): a refund made
            # before a crash, found by our marker, is never made twice however late the retry.
            for existing in client.v1.refunds.list(params={"payment_intent": reference, "limit": 100}).data:
                if (existing.to_dict().get("metadata") or {}).get("idempotency_key") == idempotency_key:
                    return existing.id
            refund = client.v1.refunds.create(
                params={
                    "payment_intent": reference,
                    "amount": money.to_minor(amount, currency),
                    "metadata": {**metadata, "idempotency_key": idempotency_key},
                },
                options={"idempotency_key": idempotency_key},
            )
        return refund.id

    def parse_webhook(self, *, body: bytes, signature: str) -> base.WebhookEvent:
        if not settings.STRIPE_WEBHOOK_SECRET:
            raise base.InvalidWebhook("STRIPE_WEBHOOK_SECRET is not set; webhooks cannot be verified.")
        try:
            event = stripe.Webhook.construct_event(body, signature, settings.STRIPE_WEBHOOK_SECRET)
        except (ValueError, stripe.SignatureVerificationError) as exc:
            raise base.InvalidWebhook(str(exc)) from exc
        # A plain dict: the SDK's objects refuse dict methods such as .get (stripe >= 12).
        obj = event.data.object.to_dict()
        reference = obj.get("id", "") if obj.get("object") == "payment_intent" else ""
        error = obj.get("last_payment_error") or {}
        return base.WebhookEvent(
            event_id=event.id,
            type=event.type,
            reference=reference,
            failure=error.get("message", "") if isinstance(error, dict) else "",
            metadata=dict(obj.get("metadata") or {}),
        )
