"""The console's back-office lists (money, messaging, VPN, tenants): rows and how they read.

Gateway credentials and configuration are never selected here."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import select

from easyisp_core.models import (
    ChartOfAccount,
    Customer,
    Expense,
    Invoice,
    Nas,
    PaymentGateway,
    SmsGateway,
    SmsLog,
    Tenant,
    VpnPeer,
)
from easyisp_core.repositories.keyset import Listing


@dataclass(frozen=True)
class InvoiceRow:
    id: uuid.UUID
    invoice_no: str
    customer_name: str | None
    status: str
    total: Decimal
    issued_at: datetime
    due_date: date | None
    paid_at: datetime | None


INVOICES: Listing[InvoiceRow] = Listing(
    row_type=InvoiceRow,
    base=select(
        Invoice.id,
        Invoice.invoice_no,
        Customer.full_name.label("customer_name"),
        Invoice.status,
        Invoice.total,
        Invoice.issued_at,
        Invoice.due_date,
        Invoice.paid_at,
    ).outerjoin(Customer, Customer.id == Invoice.customer_id),
    id_column=Invoice.id,
    tenant_column=Invoice.tenant_id,
    sorts={"issued_at": Invoice.issued_at, "invoice_no": Invoice.invoice_no},
    searched=[Invoice.invoice_no, Customer.full_name, Invoice.status],
)


@dataclass(frozen=True)
class ExpenseRow:
    id: uuid.UUID
    expense_date: date
    category: str
    description: str
    vendor: str | None
    amount: Decimal
    reference: str | None
    is_recurring: bool


EXPENSES: Listing[ExpenseRow] = Listing(
    row_type=ExpenseRow,
    base=select(
        Expense.id,
        Expense.expense_date,
        Expense.category,
        Expense.description,
        Expense.vendor,
        Expense.amount,
        Expense.reference,
        Expense.is_recurring,
    ),
    id_column=Expense.id,
    tenant_column=Expense.tenant_id,
    sorts={"expense_date": Expense.expense_date, "amount": Expense.amount},
    searched=[Expense.category, Expense.description, Expense.vendor, Expense.reference],
)


@dataclass(frozen=True)
class AccountRow:
    id: uuid.UUID
    code: str
    name: str
    type: str
    description: str | None
    is_active: bool


ACCOUNTS: Listing[AccountRow] = Listing(
    row_type=AccountRow,
    base=select(
        ChartOfAccount.id,
        ChartOfAccount.code,
        ChartOfAccount.name,
        ChartOfAccount.type,
        ChartOfAccount.description,
        ChartOfAccount.is_active,
    ),
    id_column=ChartOfAccount.id,
    tenant_column=ChartOfAccount.tenant_id,
    sorts={"code": ChartOfAccount.code, "name": ChartOfAccount.name},
    searched=[ChartOfAccount.code, ChartOfAccount.name],
)


@dataclass(frozen=True)
class PaymentGatewayRow:
    id: uuid.UUID
    name: str
    provider: str
    purpose: str
    shortcode: str
    is_active: bool


PAYMENT_GATEWAYS: Listing[PaymentGatewayRow] = Listing(
    row_type=PaymentGatewayRow,
    base=select(
        PaymentGateway.id,
        PaymentGateway.name,
        PaymentGateway.provider,
        PaymentGateway.purpose,
        PaymentGateway.shortcode,
        PaymentGateway.is_active,
    ),
    id_column=PaymentGateway.id,
    tenant_column=PaymentGateway.tenant_id,
    sorts={"name": PaymentGateway.name},
    searched=[PaymentGateway.name, PaymentGateway.shortcode],
)


@dataclass(frozen=True)
class SmsGatewayRow:
    id: uuid.UUID
    name: str
    provider: str
    purpose: str
    sender_id: str | None
    is_default: bool
    is_active: bool


SMS_GATEWAYS: Listing[SmsGatewayRow] = Listing(
    row_type=SmsGatewayRow,
    base=select(
        SmsGateway.id,
        SmsGateway.name,
        SmsGateway.provider,
        SmsGateway.purpose,
        SmsGateway.sender_id,
        SmsGateway.is_default,
        SmsGateway.is_active,
    ),
    id_column=SmsGateway.id,
    tenant_column=SmsGateway.tenant_id,
    sorts={"name": SmsGateway.name},
    searched=[SmsGateway.name, SmsGateway.sender_id],
)


@dataclass(frozen=True)
class SmsRow:
    id: int
    created_at: datetime
    phone: str
    customer_name: str | None
    message: str
    status: str
    cost: Decimal | None
    error: str | None


SMS_LOG: Listing[SmsRow] = Listing(
    row_type=SmsRow,
    base=select(
        SmsLog.id,
        SmsLog.created_at,
        SmsLog.phone,
        Customer.full_name.label("customer_name"),
        SmsLog.message,
        SmsLog.status,
        SmsLog.cost,
        SmsLog.error,
    ).outerjoin(Customer, Customer.id == SmsLog.customer_id),
    id_column=SmsLog.id,
    tenant_column=SmsLog.tenant_id,
    sorts={"created_at": SmsLog.created_at},
    searched=[SmsLog.phone, SmsLog.message, Customer.full_name],
)


@dataclass(frozen=True)
class VpnPeerRow:
    id: uuid.UUID
    name: str
    router: str | None
    assigned_ip: str
    endpoint: str | None
    status: str
    last_handshake_at: datetime | None
    rx_bytes: int
    tx_bytes: int


VPN_PEERS: Listing[VpnPeerRow] = Listing(
    row_type=VpnPeerRow,
    base=select(
        VpnPeer.id,
        VpnPeer.name,
        Nas.name.label("router"),
        VpnPeer.assigned_ip,
        VpnPeer.endpoint,
        VpnPeer.status,
        VpnPeer.last_handshake_at,
        VpnPeer.rx_bytes,
        VpnPeer.tx_bytes,
    ).outerjoin(Nas, Nas.id == VpnPeer.nas_id),
    id_column=VpnPeer.id,
    tenant_column=VpnPeer.tenant_id,
    sorts={"name": VpnPeer.name},
    searched=[VpnPeer.name, VpnPeer.assigned_ip, VpnPeer.endpoint],
)


@dataclass(frozen=True)
class TenantRow:
    id: uuid.UUID
    name: str
    display_name: str
    status: str
    created_at: datetime


TENANTS: Listing[TenantRow] = Listing(
    row_type=TenantRow,
    base=select(Tenant.id, Tenant.name, Tenant.display_name, Tenant.status, Tenant.created_at),
    id_column=Tenant.id,
    # Tenants are not inside a tenant: row-level security shows a super admin all of them.
    tenant_column=None,
    sorts={"name": Tenant.name, "created_at": Tenant.created_at},
    searched=[Tenant.name, Tenant.display_name],
)
