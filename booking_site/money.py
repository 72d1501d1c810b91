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


# The smallest charge Stripe takes per currency (https://docs.stripe.com/currencies#minimum-and-maximum-charge-amounts);
# other currencies: the equivalent of 0.50 USD is assumed as 0.50 of the currency.
MINIMUM_CHARGE = {
    "USD": "0.50", "EUR": "0.50", "GBP": "0.30", "JPY": "50", "CAD": "0.50", "AUD": "0.50", "CHF": "0.50",
    "DKK": "2.50", "NOK": "3.00", "SEK": "3.00", "PLN": "2.00", "CZK": "15.00", "HUF": "175", "MXN": "10",
    "HKD": "4.00", "SGD": "0.50", "NZD": "0.50", "INR": "0.50", "BRL": "0.50",
}  # fmt: skip


def minimum_charge(currency: str) -> Decimal:
    return Decimal(MINIMUM_CHARGE.get(currency.upper(), "0.50"))
