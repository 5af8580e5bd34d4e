"""Recording payments, crediting wallets, refunds and renewals from the wallet.

The money moves inside database functions that check the caller's permission, so a cashier
can record a payment but cannot edit or delete one, whatever tool they connect with."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from easyisp_core.errors import Conflict, NotFound, ValidationFailed
from easyisp_core.models.enums import PaymentMethod
from easyisp_core.repositories.customers import CustomerRepository
from easyisp_core.repositories.integrity import translated_db_errors
from easyisp_core.repositories.payments import PaymentRepository, WalletRepository
from easyisp_core.repositories.tenants import TenantRepository
from easyisp_core.schemas.validation import parse
from easyisp_core.services.results import CustomerInfo, PaymentInfo


class NewPayment(BaseModel):
    model_config = ConfigDict(extra="forbid")

    tenant: str
    customer: str = Field(description="customer username")
    amount: Decimal = Field(gt=0, max_digits=14, decimal_places=2)
    method: PaymentMethod
    transaction_id: str | None = Field(default=None, min_length=4, max_length=64)
    description: str | None = Field(default=None, max_length=300)


@dataclass(frozen=True)
class RenewalResult:
    customer: CustomerInfo
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
    with translated_db_errors(session):
        payment_id = payments.record_completed(
            customer.id, new.amount, new.method, new.transaction_id, new.description
        )
    payment = payments.get(payment_id)
    assert payment is not None
    return PaymentInfo.of(payment)


def refund_payment(session: Session, payment_id: uuid.UUID, reason: str) -> PaymentInfo:
    """Mark a payment refunded and take the amount back out of the wallet (refused when the
    credit was already spent)."""
    payments = PaymentRepository(session)
    with translated_db_errors(session):
        payments.refund(payment_id, reason)
    payment = payments.get(payment_id)
    if payment is None:
        raise NotFound("No such payment.")
    session.refresh(payment)
    return PaymentInfo.of(payment)


def renew_from_wallet(
    session: Session, tenant_name: str, username: str, *, now: datetime | None = None
) -> RenewalResult:
    """Charge the current package's price to the wallet and extend the expiry from the later
    of now and the current expiry. Refused (nothing changes) when the wallet is short."""
    tenant = TenantRepository(session).get_by_name(tenant_name)
    customers = CustomerRepository(session)
    customer = customers.get_by_username(tenant.id, username)
    with translated_db_errors(session):
        new_expiry = WalletRepository(session).renew_from_wallet(customer.id, now)
    session.refresh(customer)
    return RenewalResult(CustomerInfo.of(customer), new_expiry)


def adjust_wallet(
    session: Session, tenant_name: str, username: str, amount: Decimal, reason: str
) -> Decimal:
    """A manual correction of a wallet (with a reason, audited); returns the new balance."""
    tenant = TenantRepository(session).get_by_name(tenant_name)
    customer = CustomerRepository(session).get_by_username(tenant.id, username)
    with translated_db_errors(session):
        return WalletRepository(session).adjust(customer.id, amount, reason)
