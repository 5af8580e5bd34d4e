"""Money as Decimal with two places; never float."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

CENT = Decimal("0.01")
MAX_AMOUNT = Decimal("999999999999.99")


def parse_amount(raw: str | int | Decimal, *, allow_zero: bool = False) -> Decimal:
    """Parse an operator-typed amount ("1,500", "1500.50") into a 2-place Decimal.

    Raises ValueError for anything that is not a positive amount with at most 2 decimals."""
    if isinstance(raw, float):
        raise TypeError("money is never a float")
    text = str(raw).strip().replace(",", "").replace("_", "")
    if text.upper().startswith("KES"):
        text = text[3:].strip()
    try:
        value = Decimal(text)
    except InvalidOperation as exc:
        raise ValueError(f"{raw!r} is not an amount") from exc
    if not value.is_finite():
        raise ValueError(f"{raw!r} is not an amount")
    if value != value.quantize(CENT):
        raise ValueError(f"{raw!r} has more than two decimal places")
    if value < 0 or (value == 0 and not allow_zero):
        raise ValueError("the amount must be more than zero")
    if value > MAX_AMOUNT:
        raise ValueError("the amount is too large")
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def format_kes(value: Decimal) -> str:
    return f"KES {value:,.2f}"
