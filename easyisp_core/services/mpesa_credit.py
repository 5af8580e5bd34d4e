"""Credit an M-Pesa receipt to a wallet once, buy the package when the wallet covers it, and
ask the RADIUS side to re-authorise the subscriber. Shared by every route a receipt can take
(STK callback, C2B confirmation, suspense resolution, reconciliation)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy.orm import Session

from easyisp_core.models.enums import PaymentMethod
from easyisp_core.repositories.mpesa_payments import (
    ReauthorisationRepository,
    ReceiptRepository,
    SuspenseRepository,
    WalletCustomerRepository,
)
from easyisp_core.repositories.payments import PaymentRepository, WalletRepository


@dataclass(frozen=True)
class Credit:
    payment_id: uuid.UUID
    # False when this receipt had already been credited (by any route): nothing changed.
    new: bool
    renewed_until: datetime | None = None
    reauthorise_command: int | None = None


def credit_receipt(
    session: Session,
    *,
    customer_id: uuid.UUID,
    amount: Decimal,
    receipt: str,
    note: str,
    now: datetime,
) -> Credit:
    """One payment per receipt: the second route to report it gets the first one's payment.

    Locks are taken in one order everywhere (the receipt, then the customer) so concurrent
    credits wait for each other instead of deadlocking. Runs in the caller's transaction;
    the caller commits."""
    receipts = ReceiptRepository(session)
    receipts.lock(receipt)
    existing = receipts.payment_id(receipt)
    if existing is not None:
        return Credit(existing, new=False)
    WalletCustomerRepository(session).lock(customer_id)
    payment_id = PaymentRepository(session).record_completed(
        customer_id, amount, PaymentMethod.MPESA, receipt, note
    )
    SuspenseRepository(session).close_credited(receipt, customer_id, payment_id, now)
    renewed = renew_if_covered(session, customer_id, now)
    command = (
        ReauthorisationRepository(session).queue_disconnect_if_online(customer_id, "renewed")
        if renewed is not None
        else None
    )
    return Credit(payment_id, new=True, renewed_until=renewed, reauthorise_command=command)


def renew_if_covered(session: Session, customer_id: uuid.UUID, now: datetime) -> datetime | None:
    """Buy the customer's package from the wallet once when the balance covers it; the
    expiry grows from the later of now and the current expiry. None when not renewed."""
    wallet = WalletCustomerRepository(session).wallet(customer_id)
    if wallet.package_price is None or wallet.balance < wallet.package_price:
        return None
    return WalletRepository(session).renew_from_wallet(customer_id, now)
