"""Recording payments, crediting wallets and renewing packages from the wallet."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from easyisp_core.errors import Conflict, ValidationFailed
from easyisp_core.models import Payment, WalletTransaction
from easyisp_core.models.enums import CustomerStatus, PaymentMethod, PaymentStatus, WalletEntryKind
from easyisp_core.repositories.customers import CustomerRepository
from easyisp_core.repositories.integrity import translated_integrity_errors
from easyisp_core.repositories.packages import PackageRepository
from easyisp_core.repositories.payments import PaymentRepository, WalletRepository
from easyisp_core.repositories.tenants import TenantRepository
from easyisp_core.rules.validity import add_validity, renewal_start
from easyisp_core.schemas.validation import parse
from easyisp_core.services.results import CustomerInfo, PaymentInfo
from easyisp_core.services.tenants import tenant_config


class NewPayment(BaseModel):
    model_config = ConfigDict(extra="forbid")

    tenant: str
    customer: str = Field(description="customer username")
    amount: Decimal = Field(gt=0, max_digits=14, decimal_places=2)
    method: PaymentMethod
    transaction_id: str | None = Field(default=None, min_length=4, max_length=64)
    description: str | None = Field(default=None, max_length=300)
    recorded_by: uuid.UUID | None = None


@dataclass(frozen=True)
class RenewalResult:
    customer: CustomerInfo
    charged: Decimal
    new_expiry: datetime


def record_payment(session: Session, data: NewPayment | dict[str, Any]) -> PaymentInfo:
    """A completed payment taken by staff: stored, and credited to the customer's wallet.

    The same external reference never credits twice (unique transaction_id)."""
    new = data if isinstance(data, NewPayment) else parse(NewPayment, data)
    if new.method is not PaymentMethod.CASH and not new.transaction_id:
        raise ValidationFailed({"transaction_id": "a reference is required for non-cash payments"})
    payments = PaymentRepository(session)
    if new.transaction_id and payments.by_transaction_id(new.transaction_id) is not None:
        raise Conflict(f"Transaction {new.transaction_id} was already recorded.")
    tenant = TenantRepository(session).get_by_name(new.tenant)
    customer = CustomerRepository(session).get_by_username(tenant.id, new.customer)
    payment = Payment(
        tenant_id=tenant.id,
        customer_id=customer.id,
        amount=new.amount,
        method=new.method,
        status=PaymentStatus.COMPLETED,
        transaction_id=new.transaction_id,
        phone=customer.phone,
        account_reference=customer.account_number,
        description=new.description,
        recorded_by=new.recorded_by,
        paid_at=datetime.now(UTC),
    )
    with translated_integrity_errors(session):
        payments.add(payment)
    WalletRepository(session).post(
        WalletTransaction(
            tenant_id=tenant.id,
            customer_id=customer.id,
            amount=new.amount,
            kind=WalletEntryKind.TOPUP,
            payment_id=payment.id,
            description=f"{new.method.value} payment",
            created_by=new.recorded_by,
        )
    )
    return PaymentInfo.of(payment)


def renew_from_wallet(
    session: Session, tenant_name: str, username: str, *, now: datetime | None = None
) -> RenewalResult:
    """Charge the current package's price to the wallet and extend the expiry from the later
    of now and the current expiry. Refused (nothing changes) when the wallet is short."""
    now = now or datetime.now(UTC)
    tenant = TenantRepository(session).get_by_name(tenant_name)
    customers = CustomerRepository(session)
    customer = customers.lock(customers.get_by_username(tenant.id, username))
    if customer.package_id is None:
        raise ValidationFailed({"package": "the customer has no package to renew"})
    package = PackageRepository(session).get(tenant.id, customer.package_id)
    if customer.wallet_balance < package.price:
        raise ValidationFailed(
            {"wallet": f"balance {customer.wallet_balance} is less than {package.price}"}
        )
    if package.price > 0:
        WalletRepository(session).post(
            WalletTransaction(
                tenant_id=tenant.id,
                customer_id=customer.id,
                amount=-package.price,
                kind=WalletEntryKind.PACKAGE_PURCHASE,
                description=f"Renewal: {package.name}",
            )
        )
    tz = ZoneInfo(tenant_config(tenant).timezone)
    start = renewal_start(now, customer.expires_at)
    customer.expires_at = add_validity(start, package.validity_value, package.validity_unit, tz)
    if customer.status is CustomerStatus.EXPIRED:
        customer.status = CustomerStatus.ACTIVE
    session.flush()
    session.refresh(customer)
    return RenewalResult(CustomerInfo.of(customer), package.price, customer.expires_at)
