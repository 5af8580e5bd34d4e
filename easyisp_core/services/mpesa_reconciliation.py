"""Reconcile an M-Pesa organisation statement against our payments, and credit a receipt
the statement has but we never recorded (a callback that never came)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy.orm import Session

from easyisp_core.errors import NotFound
from easyisp_core.repositories.mpesa_payments import (
    ReceiptRepository,
    SuspenseRepository,
    WalletCustomerRepository,
)
from easyisp_core.rules.mpesa import normalize_account
from easyisp_core.schemas.mpesa_statement import StatementLine
from easyisp_core.services.mpesa_credit import Credit, credit_receipt
from easyisp_core.services.mpesa_suspense import resolve_suspense


@dataclass(frozen=True)
class OurPayment:
    receipt: str
    amount: Decimal
    paid_at: datetime | None


@dataclass(frozen=True)
class Reconciliation:
    matched: list[StatementLine]
    # In both, but the amounts differ: somebody must look.
    amount_differs: list[tuple[StatementLine, Decimal]]
    missing_in_ours: list[StatementLine]
    # Our completed M-Pesa payments inside the statement's period that it does not list.
    missing_in_statement: list[OurPayment]


def reconcile(session: Session, tenant_id: uuid.UUID, lines: list[StatementLine]) -> Reconciliation:
    receipts = ReceiptRepository(session)
    ours = receipts.amounts_by_receipt(tenant_id, [line.receipt for line in lines])
    matched, differs, missing = [], [], []
    for line in lines:
        amount = ours.get(line.receipt)
        if amount is None:
            missing.append(line)
        elif amount == line.paid_in:
            matched.append(line)
        else:
            differs.append((line, amount))
    in_statement = {line.receipt for line in lines}
    not_listed: list[OurPayment] = []
    if lines:
        since = min(line.completed_at for line in lines)
        # The statement gives whole seconds; our times carry the fraction.
        until = max(line.completed_at for line in lines) + timedelta(seconds=1)
        not_listed = [
            OurPayment(receipt, amount, paid_at)
            for receipt, amount, paid_at in receipts.completed_mpesa(tenant_id, since, until)
            if receipt not in in_statement
        ]
    return Reconciliation(matched, differs, missing, not_listed)


def credit_missing(
    session: Session,
    tenant_id: uuid.UUID,
    line: StatementLine,
    now: datetime,
    customer_id: uuid.UUID | None = None,
) -> Credit:
    """Credit a statement line we never recorded, to `customer_id` or to the customer its
    A/C No. names. Crediting a receipt already recorded changes nothing (Credit.new False)."""
    customers = WalletCustomerRepository(session)
    if customer_id is None and line.account:
        customer_id = customers.find_by_account(tenant_id, normalize_account(line.account))
    if customer_id is None or customers.tenant_of(customer_id) != tenant_id:
        raise NotFound(f"Name the customer to credit receipt {line.receipt} to.")
    waiting = SuspenseRepository(session).open_by_receipt(line.receipt)
    if waiting is not None:
        # The money is in suspense: settle it there (the database function staff may call).
        resolved = resolve_suspense(session, waiting, customer_id, now)
        return Credit(
            resolved.payment_id, True, resolved.renewed_until, resolved.reauthorise_command
        )
    return credit_receipt(
        session,
        customer_id=customer_id,
        amount=line.paid_in,
        receipt=line.receipt,
        note=f"M-Pesa {line.receipt} from statement reconciliation",
        now=now,
    )
