"""Operating expenses (rent, bandwidth, salaries), optionally recurring."""

from __future__ import annotations

import uuid
from datetime import date

from sqlalchemy import CheckConstraint, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from easyisp_core.models.base import Base, Money, TenantScoped, Timestamps, UUIDPk


class Expense(TenantScoped, Timestamps, Base):
    __tablename__ = "expenses"
    __table_args__ = (
        CheckConstraint("amount > 0", name="amount_positive"),
        CheckConstraint(
            "recurrence IS NULL OR recurrence IN ('WEEKLY', 'MONTHLY', 'QUARTERLY', 'YEARLY')",
            name="recurrence_known",
        ),
        CheckConstraint("is_recurring = (recurrence IS NOT NULL)", name="recurring_has_period"),
        Index("ix_expenses_tenant_id_expense_date", "tenant_id", "expense_date"),
        Index("ix_expenses_tenant_id_category", "tenant_id", "category"),
    )

    id: Mapped[UUIDPk]
    category: Mapped[str] = mapped_column(String(60))
    description: Mapped[str] = mapped_column(String(300))
    amount: Mapped[Money]
    expense_date: Mapped[date]
    is_recurring: Mapped[bool] = mapped_column(server_default="false")
    recurrence: Mapped[str | None] = mapped_column(String(10))
    vendor: Mapped[str | None] = mapped_column(String(200))
    reference: Mapped[str | None] = mapped_column(String(100))
    account_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("chart_of_accounts.id", ondelete="RESTRICT")
    )
    recorded_by: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
