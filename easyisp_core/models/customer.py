"""Customers: the subscribers. Current package, expiry and the cached wallet balance live here."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import (
    CheckConstraint,
    Computed,
    ForeignKey,
    Index,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import INET, MACADDR
from sqlalchemy.orm import Mapped, mapped_column

from easyisp_core.models.base import Base, Money, TenantScoped, Timestamps, UUIDPk, pg_enum
from easyisp_core.models.enums import ConnectionType, CustomerStatus

SEARCH_EXPRESSION = (
    "lower(full_name || ' ' || username || ' ' || account_number || ' ' || coalesce(phone, ''))"
)


class Customer(TenantScoped, Timestamps, Base):
    __tablename__ = "customers"
    __table_args__ = (
        UniqueConstraint("tenant_id", "username"),
        # Paybill payments name the customer by account number.
        UniqueConstraint("tenant_id", "account_number"),
        CheckConstraint("username ~ '^[A-Za-z0-9_.@-]{3,64}$'", name="username_format"),
        CheckConstraint("phone IS NULL OR phone ~ '^254[17][0-9]{8}$'", name="phone_e164_ke"),
        # The balance is the sum of the wallet ledger (kept by trigger); prepaid never goes below 0.
        CheckConstraint("wallet_balance >= 0", name="wallet_not_negative"),
        CheckConstraint(
            "connection_type <> 'STATIC' OR static_ip IS NOT NULL", name="static_needs_ip"
        ),
        Index("ix_customers_username", "username"),
        Index("ix_customers_tenant_id_full_name_id", "tenant_id", "full_name", "id"),
        # Keyset paging of the console's customer list: every sortable column, id as tiebreak.
        Index("ix_customers_tenant_id_expires_at_id", "tenant_id", "expires_at", "id"),
        # Also the seed's (tenant_id, status) filter index.
        Index("ix_customers_tenant_id_status_id", "tenant_id", "status", "id"),
        Index("ix_customers_tenant_id_created_at_id", "tenant_id", "created_at", "id"),
        Index("ix_customers_tenant_id_phone", "tenant_id", "phone"),
        Index("ix_customers_mac_address", "mac_address"),
        Index("ix_customers_static_ip", "static_ip"),
        Index("ix_customers_package_id", "package_id"),
        Index(
            "ix_customers_search_trgm",
            "search",
            postgresql_using="gin",
            postgresql_ops={"search": "gin_trgm_ops"},
        ),
    )

    id: Mapped[UUIDPk]
    account_number: Mapped[str] = mapped_column(String(20))
    username: Mapped[str] = mapped_column(String(64))
    # PPPoE password, needed in clear for CHAP/MS-CHAPv2: AES-GCM encrypted with the site key.
    password_enc: Mapped[bytes | None] = mapped_column(
        LargeBinary, deferred=True, deferred_raiseload=True
    )
    full_name: Mapped[str] = mapped_column(String(200))
    phone: Mapped[str | None] = mapped_column(String(12))
    email: Mapped[str | None] = mapped_column(String(254))
    id_number: Mapped[str | None] = mapped_column(String(20))
    address: Mapped[str | None] = mapped_column(String(300))
    connection_type: Mapped[ConnectionType] = mapped_column(
        pg_enum(ConnectionType, "connection_type")
    )
    status: Mapped[CustomerStatus] = mapped_column(
        pg_enum(CustomerStatus, "customer_status"), server_default=CustomerStatus.ACTIVE.value
    )
    package_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("packages.id", ondelete="RESTRICT")
    )
    expires_at: Mapped[datetime | None]
    wallet_balance: Mapped[Money] = mapped_column(server_default="0")
    mac_address: Mapped[str | None] = mapped_column(MACADDR)
    static_ip: Mapped[str | None] = mapped_column(INET)
    nas_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("nas.id", ondelete="SET NULL"))
    notes: Mapped[str | None] = mapped_column(Text)
    search: Mapped[str] = mapped_column(Text, Computed(SEARCH_EXPRESSION, persisted=True))
