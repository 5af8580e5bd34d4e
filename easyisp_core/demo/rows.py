"""Row shapes the demo generator produces, one NamedTuple per bulk-loaded table.

Field names are the table's column names and the field order is the COPY column order, so
the loader passes `Row._fields` as the column list. Values are already in the form COPY's text
format takes (ids as strings, money as whole shillings or Decimal, JSON as text), which keeps
the per-row cost of a million-customer load low.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import NamedTuple

from easyisp_core.demo.catalog import DemoTenant, PlanSpec
from easyisp_core.models.enums import StaffRole


class CustomerRow(NamedTuple):
    id: str
    tenant_id: str
    account_number: str
    username: str
    password_enc: bytes | None
    full_name: str
    phone: str | None
    email: str | None
    id_number: str | None
    address: str | None
    connection_type: str
    status: str
    package_id: str | None
    expires_at: datetime | None
    mac_address: str | None
    static_ip: str | None
    nas_id: str | None
    notes: str | None
    created_at: datetime
    updated_at: datetime


class PaymentRow(NamedTuple):
    id: str
    tenant_id: str
    customer_id: str
    amount: int
    method: str
    status: str
    transaction_id: str | None
    phone: str | None
    account_reference: str
    description: str
    package_id: str | None
    recorded_by: str | None
    paid_at: datetime | None
    created_at: datetime
    updated_at: datetime


class WalletRow(NamedTuple):
    tenant_id: str
    customer_id: str
    amount: int
    kind: str
    payment_id: str | None
    description: str
    created_by: str | None
    created_at: datetime


class SessionRow(NamedTuple):
    started_at: datetime
    tenant_id: str
    nas_id: str
    customer_id: str
    username: str
    session_id: str
    unique_session_id: str
    service_type: str
    framed_ip: str
    calling_station_id: str
    called_station_id: str
    nas_port_id: str
    input_octets: int
    output_octets: int
    input_packets: int
    output_packets: int
    session_time: int
    last_update_at: datetime
    stopped_at: datetime | None
    terminate_cause: str | None


class SmsRow(NamedTuple):
    created_at: datetime
    tenant_id: str
    customer_id: str
    phone: str
    message: str
    status: str
    provider: str
    provider_message_id: str | None
    cost: Decimal | None
    error: str | None
    delivered_at: datetime | None


class VoucherBatchRow(NamedTuple):
    id: str
    tenant_id: str
    name: str
    package_id: str
    quantity: int
    prefix: str
    created_by: str | None
    created_at: datetime
    updated_at: datetime


class VoucherRow(NamedTuple):
    id: str
    tenant_id: str
    code: str
    package_id: str
    batch_id: str
    status: str
    price: int
    valid_until: datetime
    used_at: datetime | None
    used_by_mac: str | None
    expires_at: datetime | None
    created_at: datetime
    updated_at: datetime


class InvoiceRow(NamedTuple):
    id: str
    tenant_id: str
    invoice_no: str
    customer_id: str
    items: str  # JSON text
    subtotal: Decimal
    tax: Decimal
    total: Decimal
    status: str
    issued_at: datetime
    due_date: date
    paid_at: datetime | None
    created_at: datetime
    updated_at: datetime


class AccountRow(NamedTuple):
    id: str
    tenant_id: str
    code: str
    name: str
    type: str
    parent_id: str | None
    description: str | None


class ExpenseRow(NamedTuple):
    id: str
    tenant_id: str
    category: str
    description: str
    amount: int
    expense_date: date
    is_recurring: bool
    recurrence: str | None
    vendor: str
    reference: str | None
    account_id: str | None
    recorded_by: str | None
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class PlanRef:
    """A package created in the database, with the catalogue entry it came from."""

    id: str
    spec: PlanSpec


@dataclass(frozen=True)
class RouterRef:
    id: str
    name: str
    estate: str
    town: str


@dataclass(frozen=True)
class TenantContext:
    """Everything the generator needs to know about one tenant already in the database."""

    index: int  # 0 is the main demo ISP
    tenant_id: str
    tenant: DemoTenant
    plans: tuple[PlanRef, ...]
    routers: tuple[RouterRef, ...]
    staff: Mapping[StaffRole, tuple[str, ...]]  # role -> user ids
    first_account_number: int
    now: datetime


@dataclass(frozen=True)
class SampleLogin:
    """A subscriber login worth trying against the RADIUS service after the demo loads."""

    username: str
    password: str | None
    connection_type: str
    package: str


@dataclass
class CustomerBatch:
    """One chunk of customers and everything that hangs off them."""

    customers: list[CustomerRow] = field(default_factory=list)
    payments: list[PaymentRow] = field(default_factory=list)
    wallet: list[WalletRow] = field(default_factory=list)
    sessions: list[SessionRow] = field(default_factory=list)
    sms: list[SmsRow] = field(default_factory=list)
