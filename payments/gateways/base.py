"""The gateway interface: start a charge, pay it, look it up, cancel it, refund it, read its webhooks.

Adapters return plain values and raise the errors below; they never touch the database. The services
(payments/services.py) decide what a result means for the booking.
"""

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Protocol


class GatewayError(Exception):
    """The gateway could not be reached or refused for a reason worth retrying later."""


class CardDeclined(Exception):
    """The customer's card (or other means) was refused; the customer may try another."""

    def __init__(self, message: str, *, code: str = "card_declined") -> None:
        super().__init__(message)
        self.message = message
        self.code = code


class InvalidWebhook(Exception):
    """A webhook whose signature does not verify, or whose body is not an event."""


# What a charge is at the gateway, in our words.
SUCCEEDED = "succeeded"
REQUIRES_PAYMENT = "requires_payment"  # new, or the last attempt failed: the customer may (re)try
REQUIRES_ACTION = "requires_action"  # the customer must authenticate (3-D Secure) in the page
PROCESSING = "processing"
CANCELLED = "cancelled"


@dataclass(frozen=True)
class ChargeState:
    reference: str
    status: str
    client_secret: str = ""
    failure: str = ""


@dataclass(frozen=True)
class WebhookEvent:
    event_id: str
    type: str
    reference: str  # the charge's reference the event is about, or ""
    failure: str = ""
    metadata: dict = field(default_factory=dict)


class Gateway(Protocol):
    name: str
    # Whether the customer pays through the gateway in the page (Stripe) or staff record it (at the venue).
    online: bool

    def start_charge(
        self, *, amount: Decimal, currency: str, idempotency_key: str, metadata: dict[str, str]
    ) -> ChargeState: ...

    def pay(self, *, reference: str, card_token: str, email: str, idempotency_key: str) -> ChargeState: ...

    def charge_state(self, *, reference: str) -> ChargeState: ...

    def cancel_charge(self, *, reference: str, idempotency_key: str) -> ChargeState: ...

    def refund(
        self, *, reference: str, amount: Decimal, currency: str, idempotency_key: str, metadata: dict[str, str]
    ) -> str: ...

    def parse_webhook(self, *, body: bytes, signature: str) -> WebhookEvent: ...
