"""Plain results that cross the boundary to the console, the service and the CLI."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from easyisp_core.models import Customer, Nas, Package, Payment, Tenant, User


@dataclass(frozen=True)
class TenantInfo:
    id: uuid.UUID
    name: str
    display_name: str
    status: str

    @classmethod
    def of(cls, t: Tenant) -> TenantInfo:
        return cls(t.id, t.name, t.display_name, str(t.status))


@dataclass(frozen=True)
class StaffInfo:
    id: uuid.UUID
    tenant_id: uuid.UUID
    username: str
    full_name: str
    role: str
    status: str

    @classmethod
    def of(cls, u: User) -> StaffInfo:
        return cls(u.id, u.tenant_id, u.username, u.full_name, str(u.role), str(u.status))


@dataclass(frozen=True)
class PackageInfo:
    id: uuid.UUID
    name: str
    type: str
    price: Decimal
    download_speed: Decimal
    upload_speed: Decimal
    validity: str

    @classmethod
    def of(cls, p: Package) -> PackageInfo:
        return cls(
            p.id,
            p.name,
            str(p.type),
            p.price,
            p.download_speed,
            p.upload_speed,
            _validity_text(p.validity_value, str(p.validity_unit)),
        )


@dataclass(frozen=True)
class NasInfo:
    id: uuid.UUID
    name: str
    ip_address: str
    status: str
    require_message_authenticator: bool

    @classmethod
    def of(cls, n: Nas) -> NasInfo:
        return cls(n.id, n.name, str(n.ip_address), str(n.status), n.require_message_authenticator)


@dataclass(frozen=True)
class CustomerInfo:
    id: uuid.UUID
    account_number: str
    username: str
    full_name: str
    phone: str | None
    connection_type: str
    status: str
    package_id: uuid.UUID | None
    expires_at: datetime | None
    wallet_balance: Decimal

    @classmethod
    def of(cls, c: Customer) -> CustomerInfo:
        return cls(
            c.id,
            c.account_number,
            c.username,
            c.full_name,
            c.phone,
            str(c.connection_type),
            str(c.status),
            c.package_id,
            c.expires_at,
            c.wallet_balance,
        )


@dataclass(frozen=True)
class PaymentInfo:
    id: uuid.UUID
    customer_id: uuid.UUID | None
    amount: Decimal
    method: str
    status: str
    transaction_id: str | None
    paid_at: datetime | None

    @classmethod
    def of(cls, p: Payment) -> PaymentInfo:
        return cls(
            p.id, p.customer_id, p.amount, str(p.method), str(p.status), p.transaction_id, p.paid_at
        )


def _validity_text(value: int, unit: str) -> str:
    word = unit.lower()
    return f"{value} {word[:-1] if value == 1 else word}"
