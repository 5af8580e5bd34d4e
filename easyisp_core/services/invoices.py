"""Invoices: typed line items, totals computed here, numbers from the tenant's counter."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from easyisp_core.models import Invoice
from easyisp_core.models.enums import InvoiceStatus
from easyisp_core.repositories.customers import CustomerRepository
from easyisp_core.repositories.integrity import translated_db_errors
from easyisp_core.repositories.tenants import TenantRepository
from easyisp_core.rules.identifiers import invoice_number
from easyisp_core.schemas.invoice_items import InvoiceItems
from easyisp_core.schemas.validation import parse

INVOICE_COUNTER = "invoice_number"


class NewInvoice(BaseModel):
    model_config = ConfigDict(extra="forbid")

    tenant: str
    customer: str | None = Field(default=None, description="customer username")
    items: list[dict[str, Any]]
    tax_rate: Decimal = Field(default=Decimal("0"), ge=0, le=1, decimal_places=4)
    due_date: date | None = None
    notes: str | None = Field(default=None, max_length=2000)


@dataclass(frozen=True)
class InvoiceInfo:
    id: uuid.UUID
    invoice_no: str
    subtotal: Decimal
    tax: Decimal
    total: Decimal
    status: str


def create_invoice(
    session: Session, data: NewInvoice | dict[str, Any], *, now: datetime | None = None
) -> InvoiceInfo:
    """Validate the line items (field errors name the line), total them, number the invoice."""
    new = data if isinstance(data, NewInvoice) else parse(NewInvoice, data)
    items = parse(InvoiceItems, new.items, field="items")
    tenants = TenantRepository(session)
    tenant = tenants.get_by_name(new.tenant)
    customer = (
        CustomerRepository(session).get_by_username(tenant.id, new.customer)
        if new.customer
        else None
    )
    issued = now or datetime.now(UTC)
    subtotal = items.subtotal
    tax = (subtotal * new.tax_rate).quantize(Decimal("0.01"), ROUND_HALF_UP)
    invoice = Invoice(
        tenant_id=tenant.id,
        invoice_no=invoice_number(issued.year, tenants.next_number(tenant.id, INVOICE_COUNTER)),
        customer_id=customer.id if customer else None,
        items=items.model_dump(mode="json"),
        subtotal=subtotal,
        tax=tax,
        total=subtotal + tax,
        status=InvoiceStatus.PENDING,
        issued_at=issued,
        due_date=new.due_date,
        notes=new.notes,
    )
    with translated_db_errors(session):
        session.add(invoice)
    return InvoiceInfo(
        invoice.id, invoice.invoice_no, subtotal, tax, subtotal + tax, str(invoice.status)
    )
