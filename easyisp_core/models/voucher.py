"""Vouchers (prepaid hotspot codes) and the batches they are printed in."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.dialects.postgresql import MACADDR
from sqlalchemy.orm import Mapped, mapped_column

from easyisp_core.models.base import Base, Money, TenantScoped, Timestamps, UUIDPk, pg_enum
from easyisp_core.models.enums import VoucherStatus


class VoucherBatch(TenantScoped, Timestamps, Base):
    __tablename__ = "voucher_batches"
    __table_args__ = (
        UniqueConstraint("tenant_id", "name"),
        CheckConstraint("quantity > 0", name="quantity_positive"),
    )

    id: Mapped[UUIDPk]
    name: Mapped[str] = mapped_column(String(100))
    package_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("packages.id", ondelete="RESTRICT"))
    quantity: Mapped[int]
    prefix: Mapped[str | None] = mapped_column(String(10))
    created_by: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )


class Voucher(TenantScoped, Timestamps, Base):
    __tablename__ = "vouchers"
    __table_args__ = (
        # The code is the hotspot username, so it must be unique within the tenant.
        UniqueConstraint("tenant_id", "code"),
        CheckConstraint("code ~ '^[A-Za-z0-9-]{4,32}$'", name="code_format"),
        CheckConstraint("status <> 'USED' OR used_at IS NOT NULL", name="used_has_time"),
        Index("ix_vouchers_tenant_id_status", "tenant_id", "status"),
        Index("ix_vouchers_batch_id", "batch_id"),
        Index("ix_vouchers_code", "code"),
    )

    id: Mapped[UUIDPk]
    code: Mapped[str] = mapped_column(String(32))
    package_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("packages.id", ondelete="RESTRICT"))
    batch_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("voucher_batches.id", ondelete="SET NULL")
    )
    status: Mapped[VoucherStatus] = mapped_column(
        pg_enum(VoucherStatus, "voucher_status"), server_default=VoucherStatus.AVAILABLE.value
    )
    price: Mapped[Money]
    # An unused voucher can no longer be redeemed after this moment.
    valid_until: Mapped[datetime | None]
    used_at: Mapped[datetime | None]
    used_by_mac: Mapped[str | None] = mapped_column(MACADDR)
    # Set on first use: used_at + the package's validity.
    expires_at: Mapped[datetime | None]
