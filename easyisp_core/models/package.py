"""Packages: the internet plans customers buy (speeds in Mbps, as the seed defines)."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Index,
    Numeric,
    SmallInteger,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from easyisp_core.models.base import Base, Money, TenantScoped, Timestamps, UUIDPk, pg_enum
from easyisp_core.models.enums import PackageType, ValidityUnit

Mbps = Numeric(10, 3)


class Package(TenantScoped, Timestamps, Base):
    __tablename__ = "packages"
    __table_args__ = (
        UniqueConstraint("tenant_id", "name"),
        CheckConstraint("price >= 0", name="price_not_negative"),
        CheckConstraint("download_speed > 0 AND upload_speed > 0", name="speeds_positive"),
        CheckConstraint(
            "(burst_download IS NULL) = (burst_upload IS NULL)", name="burst_both_or_neither"
        ),
        CheckConstraint(
            "burst_download IS NULL OR (burst_download >= download_speed "
            "AND burst_upload >= upload_speed AND burst_threshold_download IS NOT NULL "
            "AND burst_threshold_upload IS NOT NULL AND burst_time IS NOT NULL)",
            name="burst_complete",
        ),
        CheckConstraint("priority BETWEEN 1 AND 8", name="priority_range"),
        CheckConstraint("validity_value > 0", name="validity_positive"),
        CheckConstraint("session_time IS NULL OR session_time > 0", name="session_time_positive"),
        CheckConstraint("data_cap_bytes IS NULL OR data_cap_bytes > 0", name="data_cap_positive"),
        CheckConstraint("shared_users BETWEEN 1 AND 100", name="shared_users_range"),
        Index("ix_packages_tenant_id_type_is_active", "tenant_id", "type", "is_active"),
    )

    id: Mapped[UUIDPk]
    name: Mapped[str] = mapped_column(String(100))
    type: Mapped[PackageType] = mapped_column(pg_enum(PackageType, "package_type"))
    price: Mapped[Money]
    download_speed: Mapped[Decimal] = mapped_column(Mbps)
    upload_speed: Mapped[Decimal] = mapped_column(Mbps)
    burst_download: Mapped[Decimal | None] = mapped_column(Mbps)
    burst_upload: Mapped[Decimal | None] = mapped_column(Mbps)
    burst_threshold_download: Mapped[Decimal | None] = mapped_column(Mbps)
    burst_threshold_upload: Mapped[Decimal | None] = mapped_column(Mbps)
    burst_time: Mapped[int | None] = mapped_column(SmallInteger)  # seconds
    priority: Mapped[int] = mapped_column(SmallInteger, server_default="8")
    # The seed's sessionTime splits in two: how long a purchase lasts, and a strict per-session cap.
    validity_value: Mapped[int]
    validity_unit: Mapped[ValidityUnit] = mapped_column(pg_enum(ValidityUnit, "validity_unit"))
    session_time: Mapped[int | None]  # seconds, Session-Timeout cap per session
    data_cap_bytes: Mapped[int | None] = mapped_column(BigInteger)  # Mikrotik-Total-Limit
    shared_users: Mapped[int] = mapped_column(SmallInteger, server_default="1")
    address_pool: Mapped[str | None] = mapped_column(String(64))
    description: Mapped[str | None] = mapped_column(String(500))
    is_active: Mapped[bool] = mapped_column(server_default="true")
