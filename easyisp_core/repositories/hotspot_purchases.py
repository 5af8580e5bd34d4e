"""What buying a hotspot package by STK push reads and writes: the tenant's gateway for the
purpose, the package, the device's account, the pending push and the pushes still unanswered."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import and_, exists, func, or_, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from easyisp_core.models import (
    Customer,
    MpesaCallback,
    Package,
    Payment,
    PaymentGateway,
    PendingHotspotPayment,
    Tenant,
)
from easyisp_core.models.enums import (
    ConnectionType,
    GatewayPurpose,
    HotspotPaymentStatus,
    MpesaCallbackKind,
    PackageType,
    PaymentMethod,
    PaymentStatus,
    TenantStatus,
)
from easyisp_core.rules.hotspot_signup import SignupRefused, signup_refusal


@dataclass(frozen=True)
class DeviceAccount:
    customer_id: uuid.UUID
    username: str
    mac_address: str | None


@dataclass(frozen=True)
class PackageOffer:
    id: uuid.UUID
    name: str
    price: Decimal


@dataclass(frozen=True)
class UnansweredPush:
    id: uuid.UUID
    tenant_id: uuid.UUID
    checkout_request_id: str


class HotspotPurchaseRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def gateway_for(self, tenant_id: uuid.UUID, purpose: GatewayPurpose) -> PaymentGateway | None:
        """The active gateway for `purpose`; a gateway for ALL serves when none is dedicated."""
        return self.session.scalar(
            select(PaymentGateway)
            .where(
                PaymentGateway.tenant_id == tenant_id,
                PaymentGateway.is_active,
                PaymentGateway.purpose.in_([purpose, GatewayPurpose.ALL]),
            )
            # The dedicated one first, then the oldest, so the choice is stable.
            .order_by((PaymentGateway.purpose == GatewayPurpose.ALL), PaymentGateway.created_at)
            .limit(1)
        )

    def gateway(self, gateway_id: uuid.UUID) -> PaymentGateway | None:
        return self.session.get(PaymentGateway, gateway_id)

    def tenant_config(self, tenant_id: uuid.UUID) -> dict[str, Any]:
        value = self.session.scalar(select(Tenant.config).where(Tenant.id == tenant_id))
        return dict(value or {})

    def credentials(self, gateway_id: uuid.UUID) -> bytes | None:
        """The gateway's encrypted credentials (a deferred column, read only when needed)."""
        return self.session.scalar(
            select(PaymentGateway.credentials_enc).where(PaymentGateway.id == gateway_id)
        )

    def hotspot_package(self, tenant_id: uuid.UUID, package_id: uuid.UUID) -> PackageOffer | None:
        row = self.session.execute(
            select(Package.id, Package.name, Package.price).where(
                Package.id == package_id,
                Package.tenant_id == tenant_id,
                Package.is_active,
                Package.type == PackageType.HOTSPOT,
            )
        ).one_or_none()
        return PackageOffer(row.id, row.name, Decimal(row.price)) if row else None

    def hotspot_packages(self, tenant_id: uuid.UUID) -> list[PackageOffer]:
        rows = self.session.execute(
            select(Package.id, Package.name, Package.price)
            .where(
                Package.tenant_id == tenant_id,
                Package.is_active,
                Package.type == PackageType.HOTSPOT,
            )
            .order_by(Package.price, Package.name)
        )
        return [PackageOffer(r.id, r.name, Decimal(r.price)) for r in rows]

    def device_account(
        self, tenant_id: uuid.UUID, mac: str | None, phone_forms: list[str]
    ) -> DeviceAccount | None:
        """The tenant's hotspot account bound to this device's MAC, else one with this phone."""
        conditions = []
        if mac:
            conditions.append(Customer.mac_address == mac)
        if phone_forms:
            conditions.append(Customer.phone.in_(phone_forms))
        if not conditions:
            return None
        row = self.session.execute(
            select(Customer.id, Customer.username, func.text(Customer.mac_address).label("mac"))
            .where(
                Customer.tenant_id == tenant_id,
                Customer.connection_type == ConnectionType.HOTSPOT,
                or_(*conditions),
            )
            # A MAC match wins over a phone match.
            .order_by(Customer.mac_address.is_(None), Customer.created_at)
            .limit(1)
        ).one_or_none()
        return DeviceAccount(row.id, row.username, row.mac) if row else None

    def self_signup(
        self, tenant_id: uuid.UUID, mac: str, phone: str, password_enc: bytes
    ) -> uuid.UUID:
        """The device's hotspot account, created by easyisp_hotspot_self_signup (migration
        0015) when it has none: one per (tenant, MAC) even for concurrent callers.
        SignupRefused when the database refuses (sign-up off, phone over its cap, the device
        bound to a home account)."""
        try:
            with self.session.begin_nested():
                created = self._call_signup(tenant_id, mac, phone, password_enc)
        except DBAPIError as exc:
            raise _refused(exc) from exc
        return created

    def trial_self_signup(
        self, tenant_id: uuid.UUID, mac: str, phone: str, password_enc: bytes
    ) -> str:
        """The username the device's sign-up would get, without keeping the account: the
        function runs in a savepoint that is always rolled back, so every refusal it would
        make is known before an STK push is sent, and a push Daraja refuses leaves no
        account behind. SignupRefused as self_signup."""
        savepoint = self.session.begin_nested()
        try:
            created = self._call_signup(tenant_id, mac, phone, password_enc)
            username = self.session.scalar(select(Customer.username).where(Customer.id == created))
        except DBAPIError as exc:
            raise _refused(exc) from exc
        finally:
            savepoint.rollback()
        assert username is not None
        return username

    def _call_signup(
        self, tenant_id: uuid.UUID, mac: str, phone: str, password_enc: bytes
    ) -> uuid.UUID:
        created = self.session.scalar(
            text("SELECT easyisp_hotspot_self_signup(:t, CAST(:m AS macaddr), :p, :pw)"),
            {"t": tenant_id, "m": mac, "p": phone, "pw": password_enc},
        )
        assert isinstance(created, uuid.UUID)
        return created

    def add_pending(self, row: PendingHotspotPayment) -> uuid.UUID:
        self.session.add(row)
        self.session.flush()
        return row.id

    def pending(self, pending_id: uuid.UUID) -> PendingHotspotPayment | None:
        return self.session.get(PendingHotspotPayment, pending_id)

    def pending_by_checkout(self, checkout_request_id: str) -> PendingHotspotPayment | None:
        return self.session.scalar(
            select(PendingHotspotPayment).where(
                PendingHotspotPayment.checkout_request_id == checkout_request_id
            )
        )

    def unanswered(
        self, pushed_before: datetime, pushed_after: datetime, limit: int
    ) -> list[UnansweredPush]:
        """Pushes never answered (PENDING, or EXPIRED while nobody answered) started between
        `pushed_after` and `pushed_before`, for which no STK callback of any result was
        stored (those are settled by the callback path)."""
        has_callback = exists().where(
            and_(
                MpesaCallback.kind == MpesaCallbackKind.STK,
                MpesaCallback.external_id == PendingHotspotPayment.checkout_request_id,
                MpesaCallback.trusted,
            )
        )
        rows = self.session.execute(
            select(
                PendingHotspotPayment.id,
                PendingHotspotPayment.tenant_id,
                PendingHotspotPayment.checkout_request_id,
            )
            .where(
                PendingHotspotPayment.status.in_(
                    [HotspotPaymentStatus.PENDING, HotspotPaymentStatus.EXPIRED]
                ),
                PendingHotspotPayment.created_at < pushed_before,
                PendingHotspotPayment.created_at > pushed_after,
                ~has_callback,
            )
            .order_by(PendingHotspotPayment.created_at)
            .limit(limit)
        )
        return [UnansweredPush(r.id, r.tenant_id, r.checkout_request_id) for r in rows]

    def customer_login(self, customer_id: uuid.UUID) -> tuple[str, bytes | None, str | None] | None:
        """(username, encrypted password, bound MAC) of an account."""
        row = self.session.execute(
            select(
                Customer.username,
                Customer.password_enc,
                func.text(Customer.mac_address).label("mac"),
            ).where(Customer.id == customer_id)
        ).one_or_none()
        return (row.username, row.password_enc, row.mac) if row else None

    def portal_tenant(self, name: str) -> tuple[uuid.UUID, str, dict[str, Any]] | None:
        """(id, display name, config) of a tenant whose hotspot portal may sell."""
        row = self.session.execute(
            select(Tenant.id, Tenant.display_name, Tenant.config).where(
                Tenant.name == name,
                Tenant.status.in_([TenantStatus.ACTIVE, TenantStatus.TRIAL]),
            )
        ).one_or_none()
        return (row.id, row.display_name, dict(row.config or {})) if row else None

    def receipt_account(self, customer_id: uuid.UUID) -> tuple[str | None, bool] | None:
        """(bound MAC, is a hotspot account) of the account a receipt credited."""
        row = self.session.execute(
            select(
                func.text(Customer.mac_address).label("mac"),
                (Customer.connection_type == ConnectionType.HOTSPOT).label("hotspot"),
            ).where(Customer.id == customer_id)
        ).one_or_none()
        return (row.mac, bool(row.hotspot)) if row else None

    def paid_customer(
        self, tenant_id: uuid.UUID, receipt: str, since: datetime
    ) -> uuid.UUID | None:
        """The customer a completed M-Pesa payment with this receipt credited, if recent."""
        return self.session.scalar(
            select(Payment.customer_id).where(
                Payment.tenant_id == tenant_id,
                Payment.transaction_id == receipt,
                Payment.method == PaymentMethod.MPESA,
                Payment.status == PaymentStatus.COMPLETED,
                Payment.paid_at >= since,
            )
        )

    def customers_paid_from(
        self, tenant_id: uuid.UUID, phone: str, since: datetime, limit: int = 10
    ) -> list[uuid.UUID]:
        """Customers whose STK purchases from this phone (2547… form) were paid since
        `since`, the most recent first. (M-Pesa payments do not keep the payer's phone;
        the pushes do.)"""
        last = func.max(PendingHotspotPayment.created_at)
        rows = self.session.execute(
            select(PendingHotspotPayment.customer_id)
            .where(
                PendingHotspotPayment.tenant_id == tenant_id,
                PendingHotspotPayment.phone == phone,
                PendingHotspotPayment.status == HotspotPaymentStatus.COMPLETED,
                PendingHotspotPayment.payment_id.is_not(None),
                PendingHotspotPayment.created_at >= since,
                PendingHotspotPayment.customer_id.is_not(None),
            )
            .group_by(PendingHotspotPayment.customer_id)
            .order_by(last.desc())
            .limit(limit)
        )
        return [row.customer_id for row in rows]


def _refused(exc: DBAPIError) -> SignupRefused:
    diag = getattr(exc.orig, "diag", None)
    reason = signup_refusal(getattr(diag, "sqlstate", None) or getattr(exc.orig, "sqlstate", None))
    message = getattr(diag, "message_primary", None) or "this device cannot sign up"
    return SignupRefused(reason, message)
