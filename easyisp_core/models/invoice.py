"""Invoices with typed line items (schemas.invoice_items), shape-checked by the database too."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from easyisp_core.models.base import Base, Money, TenantScoped, Timestamps, UUIDPk, pg_enum
from easyisp_core.models.enums import InvoiceStatus


class Invoice(TenantScoped, Timestamps, Base):
    __tablename__ = "invoices"
    __table_args__ = (
        UniqueConstraint("tenant_id", "invoice_no"),
        CheckConstraint("easyisp_invoice_items_valid(items)", name="items_shape"),
        CheckConstraint("subtotal >= 0 AND tax >= 0", name="amounts_not_negative"),
        CheckConstraint("total = subtotal + tax", name="total_is_sum"),
        CheckConstraint("status <> 'paid' OR paid_at IS NOT NULL", name="paid_has_time"),
        Index("ix_invoices_tenant_id_status", "tenant_id", "status"),
        Index("ix_invoices_customer_id", "customer_id"),
    )

    id: Mapped[UUIDPk]
    invoice_no: Mapped[str] = mapped_column(String(30))
    customer_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("customers.id", ondelete="RESTRICT")
    )
    items: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, server_default=text("'[]'::jsonb"))
    subtotal: Mapped[Money]
    tax: Mapped[Money] = mapped_column(server_default="0")
    total: Mapped[Money]
    status: Mapped[InvoiceStatus] = mapped_column(
        pg_enum(InvoiceStatus, "invoice_status"), server_default=InvoiceStatus.PENDING.value
    )
    issued_at: Mapped[datetime]
    due_date: Mapped[date | None]
    paid_at: Mapped[datetime | None]
    notes: Mapped[str | None] = mapped_column(Text)
