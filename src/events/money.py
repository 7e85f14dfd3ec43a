"""Money: an ``int`` in minor units with its currency, shown in major units, exactly.

The one place amounts become text: ``format_money(60000, "CNY")`` is ``¥600.00`` on pages,
in mail and on PDF tickets; ``amount_text(60000, "CNY")`` is ``600.00`` in spreadsheets.
Never a float, never ``// 100`` by hand (it is wrong for negative amounts and for
currencies without minor units).
"""

from decimal import Decimal

ZERO_DECIMAL = frozenset(
    {
        "BIF",
        "CLP",
        "DJF",
        "GNF",
        "JPY",
        "KMF",
        "KRW",
        "MGA",
        "PYG",
        "RWF",
        "UGX",
        "VND",
        "VUV",
        "XAF",
        "XOF",
        "XPF",
    }
)
"""Currencies without minor units (Stripe's list)."""

SYMBOLS = {"CNY": "¥", "USD": "$", "EUR": "€", "GBP": "£", "HKD": "HK$"}


def major_units(amount: int, currency: str) -> Decimal:
    """``60000, "CNY"`` -> ``Decimal("600.00")``: exact, never a float."""
    if currency.upper() in ZERO_DECIMAL:
        return Decimal(amount)
    return (Decimal(amount) / 100).quantize(Decimal("0.01"))


def amount_text(amount: int, currency: str = "CNY") -> str:
    """``125200000`` -> ``"1252000.00"``: no symbol, no separators (CSV and XLSX cells)."""
    return str(major_units(amount, currency))


def format_money(amount: int, currency: str = "CNY", *, trim: bool = False) -> str:
    """``60000, "CNY"`` -> ``¥600.00``; ``-150`` -> ``-¥1.50``; a currency without a symbol
    is written after the number (``600.00 CHF``). ``trim`` drops ``.00`` (chart labels)."""
    value = major_units(abs(amount), currency)
    text = f"{value:,}"
    if trim and value == value.to_integral_value():
        text = f"{int(value):,}"
    sign = "-" if amount < 0 else ""
    symbol = SYMBOLS.get(currency.upper())
    return f"{sign}{symbol}{text}" if symbol else f"{sign}{text} {currency.upper()}"
