"""Payments and the wallet ledger."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from easyisp_core.models import Payment, WalletTransaction


class PaymentRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, payment: Payment) -> Payment:
        self.session.add(payment)
        return payment

    def by_transaction_id(self, transaction_id: str) -> Payment | None:
        return self.session.scalar(select(Payment).where(Payment.transaction_id == transaction_id))

    def for_customer(self, customer_id: uuid.UUID, limit: int = 100) -> Sequence[Payment]:
        return self.session.scalars(
            select(Payment)
            .where(Payment.customer_id == customer_id)
            .order_by(Payment.created_at.desc())
            .limit(limit)
        ).all()


class WalletRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def post(self, entry: WalletTransaction) -> WalletTransaction:
        """Append an entry; the database trigger applies it to the balance (and refuses
        an overdraw), and fills balance_after."""
        self.session.add(entry)
        self.session.flush()
        self.session.refresh(entry, attribute_names=["balance_after"])
        return entry

    def history(self, customer_id: uuid.UUID, limit: int = 100) -> Sequence[WalletTransaction]:
        return self.session.scalars(
            select(WalletTransaction)
            .where(WalletTransaction.customer_id == customer_id)
            .order_by(WalletTransaction.id.desc())
            .limit(limit)
        ).all()
