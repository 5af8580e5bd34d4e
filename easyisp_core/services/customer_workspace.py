"""Everything the customer workspace shows about one customer, as plain frozen data.

Each tab is read separately so a role that may not read, say, the audit log still sees the
rest; the database (RLS and grants) decides what each read returns."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy.orm import Session

from easyisp_core.repositories.customer_workspace import CustomerWorkspaceRepository
from easyisp_core.schemas.tenant_config import TenantConfig

HISTORY_LIMIT = 200


@dataclass(frozen=True)
class CustomerProfile:
    id: uuid.UUID
    tenant_id: uuid.UUID
    account_number: str
    username: str
    full_name: str
    phone: str | None
    email: str | None
    id_number: str | None
    address: str | None
    notes: str | None
    connection_type: str
    status: str
    package_id: uuid.UUID | None
    package_name: str | None
    package_price: Decimal | None
    expires_at: datetime | None
    wallet_balance: Decimal
    mac_address: str | None
    static_ip: str | None
    nas_id: uuid.UUID | None
    tenant_name: str
    branding_name: str | None
    receipt_footer: str | None
    support_phone: str | None
    brand_color: str = "#0B6E4F"


@dataclass(frozen=True)
class LedgerEntry:
    id: int
    created_at: datetime
    kind: str
    amount: Decimal
    balance_after: Decimal | None
    description: str | None


@dataclass(frozen=True)
class PaymentLine:
    id: uuid.UUID
    created_at: datetime
    paid_at: datetime | None
    amount: Decimal
    method: str
    status: str
    transaction_id: str | None
    description: str | None


@dataclass(frozen=True)
class SessionLine:
    id: int
    started_at: datetime
    stopped_at: datetime | None
    framed_ip: str | None
    bytes_in: int
    bytes_out: int
    duration_seconds: int
    terminate_cause: str | None


@dataclass(frozen=True)
class InvoiceLine:
    id: uuid.UUID
    invoice_no: str
    issued_at: datetime
    total: Decimal
    status: str
    due_date: object


@dataclass(frozen=True)
class AuditLine:
    id: int
    created_at: datetime
    actor: str
    action: str
    details: str | None


@dataclass(frozen=True)
class PackageChoice:
    id: uuid.UUID
    name: str
    price: Decimal


def customer_profile(session: Session, customer_id: uuid.UUID) -> CustomerProfile:
    row = CustomerWorkspaceRepository(session).profile(customer_id)
    c = row.Customer
    branding = _tenant_config(row.tenant_config).branding
    return CustomerProfile(
        id=c.id,
        tenant_id=c.tenant_id,
        account_number=c.account_number,
        username=c.username,
        full_name=c.full_name,
        phone=c.phone,
        email=c.email,
        id_number=c.id_number,
        address=c.address,
        notes=c.notes,
        connection_type=str(c.connection_type),
        status=str(c.status),
        package_id=c.package_id,
        package_name=row.package_name,
        package_price=row.package_price,
        expires_at=c.expires_at,
        wallet_balance=c.wallet_balance,
        mac_address=None if c.mac_address is None else str(c.mac_address),
        static_ip=None if c.static_ip is None else str(c.static_ip),
        nas_id=c.nas_id,
        tenant_name=row.tenant_display_name or "",
        branding_name=branding.display_name,
        receipt_footer=branding.receipt_footer,
        support_phone=branding.support_phone,
        brand_color=branding.primary_color,
    )


def _tenant_config(raw: object) -> TenantConfig:
    # A config the typed model rejects must not hide the customer: fall back to defaults.
    try:
        return TenantConfig.model_validate(raw or {})
    except ValueError:
        return TenantConfig()


def wallet_ledger(session: Session, customer_id: uuid.UUID) -> list[LedgerEntry]:
    rows = CustomerWorkspaceRepository(session).ledger(customer_id, HISTORY_LIMIT)
    return [
        LedgerEntry(w.id, w.created_at, str(w.kind), w.amount, w.balance_after, w.description)
        for w in rows
    ]


def customer_payments(session: Session, customer_id: uuid.UUID) -> list[PaymentLine]:
    rows = CustomerWorkspaceRepository(session).payments(customer_id, HISTORY_LIMIT)
    return [
        PaymentLine(
            p.id,
            p.created_at,
            p.paid_at,
            p.amount,
            str(p.method),
            str(p.status),
            p.transaction_id,
            p.description,
        )
        for p in rows
    ]


def customer_sessions(session: Session, customer_id: uuid.UUID) -> list[SessionLine]:
    rows = CustomerWorkspaceRepository(session).sessions(customer_id, HISTORY_LIMIT)
    return [
        SessionLine(
            s.id,
            s.started_at,
            s.stopped_at,
            None if s.framed_ip is None else str(s.framed_ip),
            s.input_octets,
            s.output_octets,
            s.session_time,
            s.terminate_cause,
        )
        for s in rows
    ]


def customer_invoices(session: Session, customer_id: uuid.UUID) -> list[InvoiceLine]:
    rows = CustomerWorkspaceRepository(session).invoices(customer_id, HISTORY_LIMIT)
    return [
        InvoiceLine(i.id, i.invoice_no, i.issued_at, i.total, str(i.status), i.due_date)
        for i in rows
    ]


def customer_audit_trail(session: Session, customer_id: uuid.UUID) -> list[AuditLine]:
    rows = CustomerWorkspaceRepository(session).audit_trail(customer_id, HISTORY_LIMIT)
    return [AuditLine(a.id, a.created_at, a.actor, a.action, a.details) for a in rows]


def package_choices(session: Session, tenant_id: uuid.UUID) -> list[PackageChoice]:
    rows = CustomerWorkspaceRepository(session).packages(tenant_id)
    return [PackageChoice(p.id, p.name, p.price) for p in rows]
