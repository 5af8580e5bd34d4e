"""Invoice line items as the operator types them: one line per item,
"description | quantity | unit price" (or "description | price" for one of it)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

from PySide6.QtWidgets import QLabel, QVBoxLayout

from easyisp_core.errors import EasyIspError, ValidationFailed
from easyisp_core.schemas.invoice_items import InvoiceItems
from easyisp_core.schemas.validation import parse
from easyisp_core.services.invoices import invoice_totals
from easyisp_desktop.framework.forms import FormDialog

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


def show_totals(dialog: FormDialog) -> QLabel:
    """A running "Subtotal · VAT · Total" line under the fields, computed as the core will
    (no database: the lines are parsed and totalled here, in Decimal)."""
    label = QLabel("")
    layout = dialog.layout()
    assert isinstance(layout, QVBoxLayout)
    layout.insertWidget(layout.indexOf(dialog.status), label)

    def update() -> None:
        label.setText(
            totals_text(dialog.editor("items").text(), dialog.editor("vat_percent").text())
        )

    for key in ("items", "vat_percent"):
        widget: Any = dialog.editor(key).widget
        widget.textChanged.connect(update)
    update()
    return label


def totals_text(lines: str, vat_percent: str) -> str:
    try:
        items = parse(InvoiceItems, parse_lines(lines))
        rate = Decimal(vat_percent.strip() or "0") / 100
        subtotal, tax, total = invoice_totals(items, rate)
    except (EasyIspError, InvalidOperation):
        return ""
    return f"Subtotal KES {subtotal:,.2f} · VAT KES {tax:,.2f} · Total KES {total:,.2f}"
