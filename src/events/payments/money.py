"""Amounts in minor units, shown in major units (``60000`` fen is ``¥600.00``)."""

from decimal import Decimal

ZERO_DECIMAL = frozenset({"BIF", "CLP", "DJF", "GNF", "JPY", "KMF", "KRW", "MGA", "PYG", "RWF",
                          "UGX", "VND", "VUV", "XAF", "XOF", "XPF"})
"""Currencies without minor units (Stripe's list)."""

SYMBOLS = {"CNY": "¥", "USD": "$", "EUR": "€", "GBP": "£", "HKD": "HK$"}


def major_units(amount: int, currency: str) -> Decimal:
    """``60000, "CNY"`` -> ``Decimal("600.00")``: exact, never a float."""
    if currency.upper() in ZERO_DECIMAL:
        return Decimal(amount)
    return (Decimal(amount) / 100).quantize(Decimal("0.01"))


def format_money(amount: int, currency: str) -> str:
    symbol = SYMBOLS.get(currency.upper())
    value = f"{major_units(amount, currency):,}"
    return f"{symbol}{value}" if symbol else f"{value} {currency.upper()}"
