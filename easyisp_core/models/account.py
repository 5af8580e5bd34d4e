"""Chart of accounts: the general ledger's accounts (code 1001 = Cash, ...)."""

from __future__ import annotations

import uuid

from sqlalchemy import CheckConstraint, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from easyisp_core.models.base import Base, TenantScoped, Timestamps, UUIDPk, pg_enum
from easyisp_core.models.enums import AccountType


class ChartOfAccount(TenantScoped, Timestamps, Base):
    __tablename__ = "chart_of_accounts"
    __table_args__ = (
        UniqueConstraint("tenant_id", "code"),
        CheckConstraint("code ~ '^[0-9]{3,10}$'", name="code_digits"),
        CheckConstraint("parent_id IS NULL OR parent_id <> id", name="not_own_parent"),
    )

    id: Mapped[UUIDPk]
    code: Mapped[str] = mapped_column(String(10))
    name: Mapped[str] = mapped_column(String(120))
    type: Mapped[AccountType] = mapped_column(pg_enum(AccountType, "account_type"))
    parent_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("chart_of_accounts.id", ondelete="RESTRICT")
    )
    description: Mapped[str | None] = mapped_column(String(300))
    is_active: Mapped[bool] = mapped_column(server_default="true")
