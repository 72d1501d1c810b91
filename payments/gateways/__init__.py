"""Payment gateways behind one interface (payments/gateways/base.py)."""

from payments.gateways.at_venue import AtVenueGateway
from payments.gateways.base import Gateway
from payments.gateways.stripe_gateway import StripeGateway

_GATEWAYS: dict[str, Gateway] = {"stripe": StripeGateway(), "at_venue": AtVenueGateway()}


def gateway_for(name: str) -> Gateway:
    return _GATEWAYS[name]
