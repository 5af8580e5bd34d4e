"""Invoice line items (invoices.items): a non-empty list of typed lines."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from pydantic import BaseModel, ConfigDict, Field, RootModel, field_serializer


class InvoiceItem(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    description: str = Field(min_length=1, max_length=300)
    quantity: Decimal = Field(gt=0, max_digits=10, decimal_places=3)
    unit_price: Decimal = Field(ge=0, max_digits=14, decimal_places=2)

    @property
    def amount(self) -> Decimal:
        # Half-up, as receipts and KRA invoices round; banker's rounding surprises customers.
        return (self.quantity * self.unit_price).quantize(Decimal("0.01"), ROUND_HALF_UP)

    # JSON keeps exact decimals as strings; the database check accepts string or number.
    @field_serializer("quantity", "unit_price")
    def _as_text(self, value: Decimal) -> str:
        return str(value)


class InvoiceItems(RootModel[list[InvoiceItem]]):
    root: list[InvoiceItem] = Field(min_length=1, max_length=500)

    @property
    def subtotal(self) -> Decimal:
        return sum((item.amount for item in self.root), Decimal("0.00"))
