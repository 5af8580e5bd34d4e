"""Payments (M-Pesa, cash, bank, card) and the wallet ledger whose sum is the balance."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Identity, Index, String, func
from sqlalchemy.orm import Mapped, mapped_column

from easyisp_core.models.base import Base, Money, TenantScoped, Timestamps, UUIDPk, pg_enum
from easyisp_core.models.enums import PaymentMethod, PaymentStatus, WalletEntryKind


class Payment(TenantScoped, Timestamps, Base):
    __tablename__ = "payments"
    __table_args__ = (
        CheckConstraint("amount > 0", name="amount_positive"),
        # External reference (M-Pesa receipt, bank ref): one payment per receipt, ever.
        # NULL stays allowed for cash.
        CheckConstraint(
            "method = 'CASH' OR status <> 'COMPLETED' OR transaction_id IS NOT NULL",
            name="non_cash_has_reference",
        ),
        CheckConstraint("status <> 'COMPLETED' OR paid_at IS NOT NULL", name="completed_has_time"),
        Index("ix_payments_tenant_id_status", "tenant_id", "status"),
        # Keyset paging of the console's payments list (0016): each sort, id as tiebreak.
        Index("ix_payments_tenant_id_created_at_id", "tenant_id", "created_at", "id"),
        Index("ix_payments_tenant_id_amount_id", "tenant_id", "amount", "id"),
        # Filter as you type (ILIKE '%…%' on each searched column).
        Index(
            "ix_payments_transaction_id_trgm",
            "transaction_id",
            postgresql_using="gin",
            postgresql_ops={"transaction_id": "gin_trgm_ops"},
        ),
        Index(
            "ix_payments_phone_trgm",
            "phone",
            postgresql_using="gin",
            postgresql_ops={"phone": "gin_trgm_ops"},
        ),
        Index("ix_payments_customer_id_created_at", "customer_id", "created_at"),
        Index("ix_payments_tenant_id_phone", "tenant_id", "phone"),
    )

    id: Mapped[UUIDPk]
    customer_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("customers.id", ondelete="RESTRICT")
    )
    amount: Mapped[Money]
    method: Mapped[PaymentMethod] = mapped_column(pg_enum(PaymentMethod, "payment_method"))
    status: Mapped[PaymentStatus] = mapped_column(
        pg_enum(PaymentStatus, "payment_status"), server_default=PaymentStatus.PENDING.value
    )
    transaction_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    phone: Mapped[str | None] = mapped_column(String(12))
    account_reference: Mapped[str | None] = mapped_column(String(40))
    description: Mapped[str | None] = mapped_column(String(300))
    package_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("packages.id", ondelete="SET NULL")
    )
    invoice_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("invoices.id", ondelete="SET NULL")
    )
    recorded_by: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    paid_at: Mapped[datetime | None]


class WalletTransaction(TenantScoped, Base):
    """Append-only wallet ledger. A trigger adds each amount to customers.wallet_balance."""

    __tablename__ = "wallet_transactions"
    __table_args__ = (
        CheckConstraint("amount <> 0", name="amount_not_zero"),
        Index("ix_wallet_transactions_customer_id_id", "customer_id", "id"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(always=True), primary_key=True)
    customer_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("customers.id", ondelete="RESTRICT"))
    amount: Mapped[Money]  # signed: credit > 0, debit < 0
    kind: Mapped[WalletEntryKind] = mapped_column(pg_enum(WalletEntryKind, "wallet_entry_kind"))
    # Filled by the trigger: the balance right after this entry.
    balance_after: Mapped[Decimal | None]
    payment_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("payments.id", ondelete="RESTRICT")
    )
    description: Mapped[str | None] = mapped_column(String(300))
    created_by: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
