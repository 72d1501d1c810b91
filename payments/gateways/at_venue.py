"""At the venue: no external call. The charge waits for staff to mark it paid in the console."""

from decimal import Decimal

from payments.gateways import base


class AtVenueGateway:
    name = "at_venue"
    online = False

    def start_charge(
        self, *, amount: Decimal, currency: str, idempotency_key: str, metadata: dict[str, str]
    ) -> base.ChargeState:
        return base.ChargeState(reference="", status=base.REQUIRES_PAYMENT)

    def pay(self, *, reference: str, card_token: str, email: str, idempotency_key: str) -> base.ChargeState:
        raise base.GatewayError("Payments at the venue are recorded by staff, not made online.")

    def charge_state(self, *, reference: str) -> base.ChargeState:
        return base.ChargeState(reference=reference, status=base.REQUIRES_PAYMENT)

    def cancel_charge(self, *, reference: str, idempotency_key: str) -> base.ChargeState:
        return base.ChargeState(reference=reference, status=base.CANCELLED)

    def refund(
        self, *, reference: str, amount: Decimal, currency: str, idempotency_key: str, metadata: dict[str, str]
    ) -> str:
        # Money taken at the venue goes back at the venue; the ledger row records that it is owed.
        return ""

    def parse_webhook(self, *, body: bytes, signature: str) -> base.WebhookEvent:
        raise base.InvalidWebhook("Payments at the venue have no webhooks.")
