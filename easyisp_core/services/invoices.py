"""Invoices: typed line items, totals computed here, numbers from the tenant's counter.

A pending invoice may be corrected; once paid or cancelled (void) it is final. Invoices are
never deleted: their numbers must stay without gaps for the tax authority, so a mistake is
voided instead."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from easyisp_core.errors import NotFound, PermissionDenied, ValidationFailed
from easyisp_core.models import Customer, Invoice
from easyisp_core.models.enums import InvoiceStatus
from easyisp_core.repositories.customers import CustomerRepository
from easyisp_core.repositories.integrity import translated_db_errors
from easyisp_core.repositories.tenants import TenantRepository
from easyisp_core.rules.identifiers import invoice_number
from easyisp_core.schemas.invoice_items import InvoiceItems
from easyisp_core.schemas.validation import parse

INVOICE_COUNTER = "invoice_number"


class InvoiceFields(BaseModel):
    """What an operator enters or corrects (NewInvoice adds the tenant)."""

    model_config = ConfigDict(extra="forbid")

    customer: str | None = Field(default=None, description="customer username")
    items: list[dict[str, Any]]
    tax_rate: Decimal = Field(default=Decimal("0"), ge=0, le=1, decimal_places=4)
    due_date: date | None = None
    notes: str | None = Field(default=None, max_length=2000)


class NewInvoice(InvoiceFields):
    tenant: str


@dataclass(frozen=True)
class InvoiceInfo:
    id: uuid.UUID
    invoice_no: str
    subtotal: Decimal
    tax: Decimal
    total: Decimal
    status: str

    @classmethod
    def of(cls, invoice: Invoice) -> InvoiceInfo:
        return cls(
            invoice.id,
            invoice.invoice_no,
            invoice.subtotal,
            invoice.tax,
            invoice.total,
            str(invoice.status.value),
        )


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
    with translated_db_errors(session):
        number = tenants.next_number(tenant.id, INVOICE_COUNTER)
    invoice = Invoice(
        tenant_id=tenant.id,
        invoice_no=invoice_number(issued.year, number),
        status=InvoiceStatus.PENDING,
        issued_at=issued,
    )
    _fill(invoice, new, items, customer.id if customer else None)
    with translated_db_errors(session):
        session.add(invoice)
    return InvoiceInfo.of(invoice)


def invoice_totals(items: InvoiceItems, tax_rate: Decimal) -> tuple[Decimal, Decimal, Decimal]:
    """Subtotal, tax and total (pure: the console shows them as the operator types)."""
    subtotal = items.subtotal
    tax = (subtotal * tax_rate).quantize(Decimal("0.01"), ROUND_HALF_UP)
    return subtotal, tax, subtotal + tax


def _fill(
    invoice: Invoice, fields: InvoiceFields, items: InvoiceItems, customer_id: uuid.UUID | None
) -> None:
    invoice.customer_id = customer_id
    invoice.items = items.model_dump(mode="json")
    invoice.subtotal, invoice.tax, invoice.total = invoice_totals(items, fields.tax_rate)
    invoice.due_date = fields.due_date
    invoice.notes = fields.notes


def _find(session: Session, invoice_id: uuid.UUID) -> Invoice:
    invoice = session.get(Invoice, invoice_id)
    if invoice is None:
        raise NotFound("No such invoice (or you may not see it).")
    return invoice


OPEN = (InvoiceStatus.PENDING, InvoiceStatus.OVERDUE)


def _pending(invoice: Invoice) -> Invoice:
    """The invoice, if it is still open (pending or overdue): paid and void ones are final."""
    if invoice.status not in OPEN:
        raise ValidationFailed(
            {"status": f"invoice {invoice.invoice_no} is {invoice.status.value}; it is final"}
        )
    return invoice


def invoice_fields(session: Session, invoice_id: uuid.UUID) -> InvoiceFields:
    """A pending invoice's current values, to fill the edit form."""
    invoice = _pending(_find(session, invoice_id))
    customer = session.get(Customer, invoice.customer_id) if invoice.customer_id else None
    if invoice.customer_id and customer is None:
        # Saving the form back would drop the customer from the invoice.
        raise PermissionDenied("You may not see this invoice's customer, so you cannot edit it.")
    return InvoiceFields(
        customer=customer.username if customer else None,
        items=list(invoice.items),
        tax_rate=rate_of(invoice.subtotal, invoice.tax),
        due_date=invoice.due_date,
        notes=invoice.notes,
    )


def rate_of(subtotal: Decimal, tax: Decimal) -> Decimal:
    """The simplest rate (a whole percent first) that gives back the stored, rounded tax;
    the table keeps amounts, not the rate."""
    if not subtotal:
        return Decimal("0")
    exact = tax / subtotal
    for places in ("0.01", "0.001", "0.0001"):
        rate = exact.quantize(Decimal(places), ROUND_HALF_UP)
        if (subtotal * rate).quantize(Decimal("0.01"), ROUND_HALF_UP) == tax:
            return rate
    return exact.quantize(Decimal("0.0001"), ROUND_HALF_UP)


def update_invoice(
    session: Session, invoice_id: uuid.UUID, data: InvoiceFields | dict[str, Any]
) -> InvoiceInfo:
    """Correct a pending invoice; its number and issue date stay."""
    fields = data if isinstance(data, InvoiceFields) else parse(InvoiceFields, data)
    items = parse(InvoiceItems, fields.items, field="items")
    invoice = _pending(_find(session, invoice_id))
    customer = (
        CustomerRepository(session).get_by_username(invoice.tenant_id, fields.customer)
        if fields.customer
        else None
    )
    with translated_db_errors(session):
        _fill(invoice, fields, items, customer.id if customer else None)
    return InvoiceInfo.of(invoice)


def mark_invoice_paid(
    session: Session, invoice_id: uuid.UUID, *, now: datetime | None = None
) -> InvoiceInfo:
    invoice = _pending(_find(session, invoice_id))
    with translated_db_errors(session):
        invoice.status = InvoiceStatus.PAID
        invoice.paid_at = now or datetime.now(UTC)
    return InvoiceInfo.of(invoice)


def void_invoice(session: Session, invoice_id: uuid.UUID) -> InvoiceInfo:
    """Cancel a pending invoice (kept, so its number is accounted for)."""
    invoice = _pending(_find(session, invoice_id))
    with translated_db_errors(session):
        invoice.status = InvoiceStatus.CANCELLED
    return InvoiceInfo.of(invoice)
