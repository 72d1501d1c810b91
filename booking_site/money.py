"""Amounts in a currency's minor units, as payment gateways take them.

Stripe (and ISO 4217) give most currencies two decimal places, some none (JPY: 500 yen is `500`), and a
few three. https://docs.stripe.com/currencies#zero-decimal and #three-decimal list them; Stripe also
requires three-decimal amounts to end in 0, which a two-place Decimal always does.
"""

from decimal import Decimal

ZERO_DECIMAL = frozenset(
    "BIF CLP DJF GNF JPY KMF KRW MGA PYG RWF UGX VND VUV XAF XOF XPF".split()
)  # fmt: skip
THREE_DECIMAL = frozenset("BHD JOD KWD OMR TND".split())


def decimals(currency: str) -> int:
    code = currency.upper()
    if code in ZERO_DECIMAL:
        return 0
    if code in THREE_DECIMAL:
        return 3
    return 2


def minor_unit(currency: str) -> Decimal:
    return Decimal(1).scaleb(-decimals(currency))


def is_whole_minor_amount(amount: Decimal, currency: str) -> bool:
    return amount == amount.quantize(minor_unit(currency))


def to_minor(amount: Decimal, currency: str) -> int:
    """500.00 JPY -> 500, 12.50 EUR -> 1250. An amount finer than the currency's unit is a bug upstream."""
    if not is_whole_minor_amount(amount, currency):
        raise ValueError(f"{amount} is not a whole amount of {currency.upper()}")
    return int(amount.scaleb(decimals(currency)))


def from_minor(value: int, currency: str) -> Decimal:
    return Decimal(value).scaleb(-decimals(currency)).quantize(Decimal("0.01"))
