"""Invoice line items as the operator types them: one line per item,
"description | quantity | unit price" (or "description | price" for one of it)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

from easyisp_core.errors import ValidationFailed

EXAMPLE = "Home 10 Mbps, December | 1 | 2500.00"
PART_NAMES = {"description": "description", "quantity": "quantity", "unit_price": "unit price"}


def parse_lines(text: str | None) -> list[dict[str, Any]]:
    """The items for services.invoices; ValidationFailed on "items" names the line."""
    items: list[dict[str, Any]] = []
    for number, line in enumerate((text or "").splitlines(), start=1):
        if not line.strip():
            continue
        parts = [part.strip() for part in line.split("|")]
        if len(parts) == 2:
            parts.insert(1, "1")
        if len(parts) != 3:
            raise ValidationFailed({"items": f"line {number}: write it as {EXAMPLE}"})
        description, quantity, price = parts
        items.append(
            {
                "description": description,
                "quantity": _number(quantity, number, "quantity"),
                "unit_price": _number(price, number, "unit price"),
            }
        )
    if not items:
        raise ValidationFailed({"items": f"add at least one line, like {EXAMPLE}"})
    return items


def _number(text: str, line: int, what: str) -> Decimal:
    try:
        value = Decimal(text.replace(",", "").replace(" ", ""))
    except InvalidOperation:
        raise ValidationFailed({"items": f"line {line}: the {what} is not a number"}) from None
    if not value.is_finite():
        raise ValidationFailed({"items": f"line {line}: the {what} is not a number"})
    return value


def format_lines(items: Sequence[Mapping[str, Any]]) -> str:
    return "\n".join(
        f"{item['description']} | {_plain(item['quantity'])} | {_money(item['unit_price'])}"
        for item in items
    )


def _plain(value: Any) -> str:
    number = Decimal(str(value))
    return f"{number.normalize():f}"


def _money(value: Any) -> str:
    return f"{Decimal(str(value)).quantize(Decimal('0.01'))}"


def on_items_field(errors: Mapping[str, str]) -> dict[str, str]:
    """The core names a line's field ("items.1.unit_price"); the form has one Items field."""
    placed: dict[str, str] = {}
    for key, message in errors.items():
        parts = key.split(".")
        if parts[0] == "items" and len(parts) >= 3 and parts[1].isdigit():
            what = PART_NAMES.get(parts[2], parts[2])
            message = f"line {int(parts[1]) + 1}, {what}: {message[:1].lower()}{message[1:]}"
            key = "items"
        placed.setdefault(key, message)
    return placed
