"""Customer registration and suspension."""

from __future__ import annotations

import secrets
import uuid
from datetime import datetime
from ipaddress import IPv4Address
from typing import Any, Self

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from sqlalchemy.orm import Session

from easyisp_core.crypto import SecretBox
from easyisp_core.errors import ValidationFailed
from easyisp_core.models import Customer
from easyisp_core.models.enums import ConnectionType, CustomerStatus, PackageType
from easyisp_core.repositories.customers import CustomerRepository
from easyisp_core.repositories.integrity import translated_db_errors
from easyisp_core.repositories.nas import NasRepository
from easyisp_core.repositories.packages import PackageRepository
from easyisp_core.repositories.tenants import TenantRepository
from easyisp_core.rules.identifiers import account_number
from easyisp_core.rules.phones import normalize_ke_phone
from easyisp_core.schemas.fields import CustomerUsername, MacAddress
from easyisp_core.schemas.validation import parse
from easyisp_core.services.results import CustomerInfo
from easyisp_core.services.session_control import queue_disconnect_if_online

CUSTOMER_PASSWORD = "customer.password"  # noqa: S105 - a purpose label, not a password
ACCOUNT_COUNTER = "account_number"


class NewCustomer(BaseModel):
    model_config = ConfigDict(extra="forbid")

    tenant: str
    username: CustomerUsername
    full_name: str = Field(min_length=1, max_length=200)
    connection_type: ConnectionType
    phone: str | None = None
    email: str | None = Field(default=None, max_length=254)
    id_number: str | None = Field(default=None, max_length=20)
    address: str | None = Field(default=None, max_length=300)
    # PPPoE password; generated for PPPoE customers when not given.
    password: str | None = Field(default=None, min_length=4, max_length=64)
    package: str | None = Field(default=None, description="package name")
    expires_at: datetime | None = None
    mac_address: MacAddress | None = None
    static_ip: IPv4Address | None = None
    router: str | None = Field(default=None, description="router (NAS) name")
    status: CustomerStatus = CustomerStatus.ACTIVE

    @field_validator("phone")
    @classmethod
    def _kenyan_phone(cls, value: str | None) -> str | None:
        return normalize_ke_phone(value) if value else None

    @model_validator(mode="after")
    def _static_has_ip(self) -> Self:
        if self.connection_type is ConnectionType.STATIC and self.static_ip is None:
            # Raised with its field's name, so a form shows it under the address.
            raise ValidationFailed({"static_ip": "a STATIC customer needs a static IP address"})
        return self


def register_customer(
    session: Session, box: SecretBox, data: NewCustomer | dict[str, Any]
) -> tuple[CustomerInfo, str | None]:
    """Register a subscriber; returns the customer and its PPPoE password (shown once)."""
    new = data if isinstance(data, NewCustomer) else parse(NewCustomer, data)
    tenants = TenantRepository(session)
    tenant = tenants.get_by_name(new.tenant)
    package = (
        PackageRepository(session).get_by_name(tenant.id, new.package) if new.package else None
    )
    if package is not None and not _package_fits(package.type, new.connection_type):
        raise ValidationFailed(
            {"package": f"a {package.type} package cannot serve a {new.connection_type} customer"}
        )
    nas = NasRepository(session).get_by_name(tenant.id, new.router) if new.router else None
    password = new.password
    if password is None and new.connection_type is ConnectionType.PPPOE:
        password = secrets.token_urlsafe(6)
    customer = Customer(
        tenant_id=tenant.id,
        account_number=account_number(tenants.next_number(tenant.id, ACCOUNT_COUNTER)),
        username=new.username,
        password_enc=box.encrypt(password, CUSTOMER_PASSWORD) if password else None,
        full_name=new.full_name,
        phone=new.phone,
        email=new.email,
        id_number=new.id_number,
        address=new.address,
        connection_type=new.connection_type,
        status=new.status,
        package_id=package.id if package else None,
        expires_at=new.expires_at,
        mac_address=new.mac_address,
        static_ip=str(new.static_ip) if new.static_ip else None,
        nas_id=nas.id if nas else None,
    )
    with translated_db_errors(session):
        session.add(customer)
    session.refresh(customer)
    return CustomerInfo.of(customer), password


def _package_fits(package_type: PackageType, connection: ConnectionType) -> bool:
    # Hotspot plans serve hotspot users; PPPoE plans serve PPPoE, DHCP and static lines.
    if package_type is PackageType.HOTSPOT:
        return connection is ConnectionType.HOTSPOT
    return connection is not ConnectionType.HOTSPOT


def suspend_customer(
    session: Session,
    tenant_id: uuid.UUID,
    customer_id: uuid.UUID,
    *,
    requested_by: uuid.UUID | None = None,
) -> int | None:
    """Suspend a subscriber; if they are online, queue their DISCONNECT in the same
    transaction (so a suspension never commits without the cut, nor the cut without it).
    Returns the queued command's id, or None when they were not online."""
    customers = CustomerRepository(session)
    customer = customers.lock(customers.get(tenant_id, customer_id))
    if customer.status is CustomerStatus.SUSPENDED:
        return None
    customer.status = CustomerStatus.SUSPENDED
    session.flush()
    return queue_disconnect_if_online(
        session, tenant_id, customer_id, reason="suspended by staff", requested_by=requested_by
    )
