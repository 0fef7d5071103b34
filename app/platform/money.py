"""Money: amounts are Decimal, never float, stored as Numeric(12, 2) and written "19.99".

One home for the rules every module shares: a cent, the largest storable amount, rounding
(half up, to the cent), the text form, rates' 4 places, and an amount in a currency's minor
units (what payment providers take: cents, or yen as is).
"""

from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")
# The largest amount a Numeric(12, 2) column holds: any stored price or order total.
MAX_MONEY = Decimal("9999999999.99")
RATE_PLACES = Decimal("0.0001")  # a tax rate: Numeric(6, 4)
# Currencies without minor units (Stripe's list): an amount is sent as is.
ZERO_DECIMAL_CURRENCIES = frozenset(
    "bif clp djf gnf jpy kmf krw mga pyg rwf ugx vnd vuv xaf xof xpf".split()  # noqa: SIM905
)


def round_money(amount: Decimal) -> Decimal:
    """To the cent, half up (a discount's share, a tax)."""
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


def money_text(amount: Decimal) -> str:
    """The JSON form: "19.99"."""
    return format(Decimal(amount).quantize(CENT), "f")


def minor_units(amount: Decimal, currency: str) -> int:
    return int(amount) if currency in ZERO_DECIMAL_CURRENCIES else int(amount * 100)
