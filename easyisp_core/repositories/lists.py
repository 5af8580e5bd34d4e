"""The console's entity lists: for each, the row it shows and how it reads (keyset.Listing)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, func, select, tuple_

from easyisp_core.models import (
    AuditLog,
    Customer,
    Nas,
    Package,
    Payment,
    User,
    Voucher,
    VoucherBatch,
)
from easyisp_core.models import Session as RadiusSession
from easyisp_core.repositories.keyset import Listing


@dataclass(frozen=True)
class PackageRow:
    id: uuid.UUID
    name: str
    type: str
    price: Decimal
    download_speed: Decimal
    upload_speed: Decimal
    validity_value: int
    validity_unit: str
    shared_users: int
    is_active: bool


PACKAGES: Listing[PackageRow] = Listing(
    row_type=PackageRow,
    base=select(
        Package.id,
        Package.name,
        Package.type,
        Package.price,
        Package.download_speed,
        Package.upload_speed,
        Package.validity_value,
        Package.validity_unit,
        Package.shared_users,
        Package.is_active,
    ),
    id_column=Package.id,
    tenant_column=Package.tenant_id,
    sorts={"name": Package.name, "price": Package.price, "type": Package.type},
    searched=[Package.name, Package.type],
)


@dataclass(frozen=True)
class NasRow:
    """A router as the list shows it; its secrets are never selected."""

    id: uuid.UUID
    name: str
    ip_address: str
    status: str
    api_username: str | None
    api_port: int
    location: str | None
    require_message_authenticator: bool
    last_seen_at: datetime | None
    # What the site service last learned from the router's API (migration 0010).
    routeros_version: str | None
    board_name: str | None
    cpu_load: int | None
    free_memory: int | None
    total_memory: int | None
    uptime: str | None
    health_error: str | None
    health_checked_at: datetime | None
    # The RADIUS listeners suspect the router's secret is not ours (migration 0033).
    secret_mismatch_since: datetime | None


ROUTERS: Listing[NasRow] = Listing(
    row_type=NasRow,
    base=select(
        Nas.id,
        Nas.name,
        Nas.ip_address,
        Nas.status,
        Nas.api_username,
        Nas.api_port,
        Nas.location,
        Nas.require_message_authenticator,
        Nas.last_seen_at,
        Nas.routeros_version,
        Nas.board_name,
        Nas.cpu_load,
        Nas.free_memory,
        Nas.total_memory,
        Nas.uptime,
        Nas.health_error,
        Nas.health_checked_at,
        Nas.secret_mismatch_since,
    ),
    id_column=Nas.id,
    tenant_column=Nas.tenant_id,
    sorts={"name": Nas.name, "status": Nas.status, "last_seen_at": Nas.last_seen_at},
    nullable_sorts=frozenset({"last_seen_at"}),
    searched=[Nas.name, Nas.ip_address, Nas.location],
)


@dataclass(frozen=True)
class SessionRow:
    id: int
    username: str
    customer_name: str | None
    router: str | None
    framed_ip: str | None
    calling_station_id: str | None
    started_at: datetime
    stopped_at: datetime | None
    session_time: int
    input_octets: int
    output_octets: int
    terminate_cause: str | None


def _active_only(active: bool) -> ColumnElement[bool]:
    column = RadiusSession.stopped_at
    return column.is_(None) if active else column.is_not(None)


def _sessions_matching(pattern: str) -> ColumnElement[bool]:
    """Sessions matching one term, found through the trigram indexes (0016) by a definer
    function: under row-level security ILIKE could not use them."""
    found = select(
        func.easyisp_sessions_matching(pattern).table_valued("id", "started_at").render_derived()
    ).subquery()
    return tuple_(RadiusSession.id, RadiusSession.started_at).in_(
        select(found.c.id, found.c.started_at)
    )


SESSIONS: Listing[SessionRow] = Listing(
    row_type=SessionRow,
    base=select(
        RadiusSession.id,
        RadiusSession.username,
        Customer.full_name.label("customer_name"),
        Nas.name.label("router"),
        RadiusSession.framed_ip,
        RadiusSession.calling_station_id,
        RadiusSession.started_at,
        RadiusSession.stopped_at,
        RadiusSession.session_time,
        RadiusSession.input_octets,
        RadiusSession.output_octets,
        RadiusSession.terminate_cause,
    )
    .outerjoin(Customer, Customer.id == RadiusSession.customer_id)
    .outerjoin(Nas, Nas.id == RadiusSession.nas_id),
    id_column=RadiusSession.id,
    tenant_column=RadiusSession.tenant_id,
    sorts={"started_at": RadiusSession.started_at, "username": RadiusSession.username},
    # host(framed_ip): the address without "/32", as shown (and trigram-indexed, 0016).
    searched=[
        RadiusSession.username,
        func.host(RadiusSession.framed_ip),
        RadiusSession.calling_station_id,
    ],
    options={"active": _active_only},
    indexed_search=_sessions_matching,
)


@dataclass(frozen=True)
class PaymentRow:
    id: uuid.UUID
    created_at: datetime
    paid_at: datetime | None
    customer_name: str | None
    customer_username: str | None
    amount: Decimal
    method: str
    status: str
    transaction_id: str | None
    phone: str | None
    description: str | None


def _payments_matching(pattern: str) -> ColumnElement[bool]:
    """Payments whose reference or phone, or whose customer, matches one term: found through
    the trigram indexes (0016, and the customers' search column) by a definer function, so
    a rare term is found without walking every payment (under row-level security ILIKE
    could not use the indexes). `pattern` is lower case."""
    return Payment.id.in_(select(func.easyisp_payments_matching(pattern)))


PAYMENTS: Listing[PaymentRow] = Listing(
    row_type=PaymentRow,
    base=select(
        Payment.id,
        Payment.created_at,
        Payment.paid_at,
        Customer.full_name.label("customer_name"),
        Customer.username.label("customer_username"),
        Payment.amount,
        Payment.method,
        Payment.status,
        Payment.transaction_id,
        Payment.phone,
        Payment.description,
    ).outerjoin(Customer, Customer.id == Payment.customer_id),
    id_column=Payment.id,
    tenant_column=Payment.tenant_id,
    sorts={"created_at": Payment.created_at, "amount": Payment.amount},
    searched=[Payment.transaction_id, Payment.phone, Customer.full_name, Customer.username],
    indexed_search=_payments_matching,
)


@dataclass(frozen=True)
class StaffRow:
    id: uuid.UUID
    username: str
    full_name: str
    role: str
    status: str
    email: str | None
    phone: str | None
    last_login_at: datetime | None


STAFF: Listing[StaffRow] = Listing(
    row_type=StaffRow,
    base=select(
        User.id,
        User.username,
        User.full_name,
        User.role,
        User.status,
        User.email,
        User.phone,
        User.last_login_at,
    ),
    id_column=User.id,
    tenant_column=User.tenant_id,
    sorts={"username": User.username, "full_name": User.full_name, "role": User.role},
    searched=[User.username, User.full_name, User.email],
)


@dataclass(frozen=True)
class AuditRow:
    id: int
    created_at: datetime
    actor: str
    action: str
    target_type: str | None
    target_label: str | None
    details: str | None


def _by_target(target_type: str) -> ColumnElement[bool]:
    return AuditLog.target_type == target_type


def _by_actor(actor: str) -> ColumnElement[bool]:
    return AuditLog.actor == actor


AUDIT: Listing[AuditRow] = Listing(
    row_type=AuditRow,
    base=select(
        AuditLog.id,
        AuditLog.created_at,
        AuditLog.actor,
        AuditLog.action,
        AuditLog.target_type,
        AuditLog.target_label,
        AuditLog.details,
    ),
    id_column=AuditLog.id,
    tenant_column=AuditLog.tenant_id,
    sorts={"created_at": AuditLog.created_at, "action": AuditLog.action},
    searched=[AuditLog.actor, AuditLog.action, AuditLog.target_label],
    options={"target_type": _by_target, "actor": _by_actor},
)


@dataclass(frozen=True)
class VoucherRow:
    id: uuid.UUID
    code: str
    package_name: str
    batch_id: uuid.UUID | None
    batch_name: str | None
    status: str
    price: Decimal
    valid_until: datetime | None
    used_at: datetime | None
    created_at: datetime


def _by_status(status: str) -> ColumnElement[bool]:
    return Voucher.status == status


VOUCHERS: Listing[VoucherRow] = Listing(
    row_type=VoucherRow,
    base=select(
        Voucher.id,
        Voucher.code,
        Package.name.label("package_name"),
        Voucher.batch_id,
        VoucherBatch.name.label("batch_name"),
        Voucher.status,
        Voucher.price,
        Voucher.valid_until,
        Voucher.used_at,
        Voucher.created_at,
    )
    .join(Package, Package.id == Voucher.package_id)
    .outerjoin(VoucherBatch, VoucherBatch.id == Voucher.batch_id),
    id_column=Voucher.id,
    tenant_column=Voucher.tenant_id,
    sorts={"created_at": Voucher.created_at, "code": Voucher.code, "status": Voucher.status},
    searched=[Voucher.code, VoucherBatch.name, Package.name],
    options={"status": _by_status},
)

LISTINGS: dict[str, Listing[Any]] = {
    "packages": PACKAGES,
    "routers": ROUTERS,
    "sessions": SESSIONS,
    "payments": PAYMENTS,
    "staff": STAFF,
    "audit": AUDIT,
    "vouchers": VOUCHERS,
}
