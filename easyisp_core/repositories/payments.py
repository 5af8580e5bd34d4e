"""Payments and the wallet ledger. Money moves only through database functions that check
the caller's permission (record, refund, adjust, renew); nobody edits a past payment."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from easyisp_core.models import Payment
from easyisp_core.models.enums import PaymentMethod


class PaymentRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def record_completed(
        self,
        customer_id: uuid.UUID,
        amount: Decimal,
        method: PaymentMethod,
        reference: str | None,
        note: str | None,
    ) -> uuid.UUID:
        """A completed payment credited to the customer's wallet, in one database call."""
        value = self.session.execute(
            text(
                "SELECT easyisp_record_payment(:c, :amount, CAST(:method AS payment_method), "
                ":reference, :note)"
            ),
            {
                "c": customer_id,
                "amount": amount,
                "method": method.value,
                "reference": reference,
                "note": note,
            },
        ).scalar_one()
        return uuid.UUID(str(value))

    def refund(self, payment_id: uuid.UUID, reason: str) -> None:
        self.session.execute(
            text("SELECT easyisp_refund_payment(:p, :reason)"), {"p": payment_id, "reason": reason}
        )

    def get(self, payment_id: uuid.UUID) -> Payment | None:
        return self.session.get(Payment, payment_id)

    def by_transaction_id(self, transaction_id: str) -> Payment | None:
        return self.session.scalar(select(Payment).where(Payment.transaction_id == transaction_id))


class WalletRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def adjust(self, customer_id: uuid.UUID, amount: Decimal, reason: str) -> Decimal:
        value = self.session.execute(
            text("SELECT easyisp_adjust_wallet(:c, :amount, :reason)"),
            {"c": customer_id, "amount": amount, "reason": reason},
        ).scalar_one()
        return Decimal(value)

    def renew_from_wallet(self, customer_id: uuid.UUID, at: datetime | None = None) -> datetime:
        """Charge the package and extend the expiry (database function, tenant time zone)."""
        # COALESCE keeps one statement: the database's now() unless a time is given.
        value: datetime = self.session.execute(
            text("SELECT easyisp_renew_from_wallet(:c, coalesce(CAST(:at AS timestamptz), now()))"),
            {"c": customer_id, "at": at},
        ).scalar_one()
        return value
