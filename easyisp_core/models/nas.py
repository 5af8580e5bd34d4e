"""NAS: a MikroTik router that sends RADIUS requests and takes API commands."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Index,
    LargeBinary,
    SmallInteger,
    String,
    UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import INET
from sqlalchemy.orm import Mapped, mapped_column

from easyisp_core.models.base import Base, TenantScoped, Timestamps, UUIDPk, pg_enum
from easyisp_core.models.enums import NasStatus


class Nas(TenantScoped, Timestamps, Base):
    __tablename__ = "nas"
    __table_args__ = (
        UniqueConstraint("tenant_id", "name"),
        # The RADIUS server maps a packet's source address to exactly one router and tenant.
        UniqueConstraint("ip_address"),
        UniqueConstraint("vpn_ip"),
        CheckConstraint("api_port BETWEEN 1 AND 65535", name="api_port_range"),
        CheckConstraint("coa_port BETWEEN 1 AND 65535", name="coa_port_range"),
        CheckConstraint("api_tls_fingerprint ~ '^[0-9a-f]{64}$'", name="api_tls_fingerprint_hex"),
        Index("ix_nas_tenant_id_status", "tenant_id", "status"),
    )

    id: Mapped[UUIDPk]
    name: Mapped[str] = mapped_column(String(100))
    ip_address: Mapped[str] = mapped_column(INET)
    # The seed's `secret` (RADIUS shared secret), AES-GCM encrypted with the site key.
    secret_enc: Mapped[bytes] = mapped_column(LargeBinary, deferred=True, deferred_raiseload=True)
    api_username: Mapped[str | None] = mapped_column(String(100))
    api_password_enc: Mapped[bytes | None] = mapped_column(
        LargeBinary, deferred=True, deferred_raiseload=True
    )
    api_port: Mapped[int] = mapped_column(server_default="8728")
    api_use_tls: Mapped[bool] = mapped_column(server_default="false")
    coa_port: Mapped[int] = mapped_column(server_default="3799")
    status: Mapped[NasStatus] = mapped_column(
        pg_enum(NasStatus, "nas_status"), server_default=NasStatus.PENDING.value
    )
    vpn_ip: Mapped[str | None] = mapped_column(INET)
    router_group_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("router_groups.id", ondelete="SET NULL")
    )
    location: Mapped[str | None] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(String(500))
    routeros_version: Mapped[str | None] = mapped_column(String(40))
    # Blast-RADIUS: demand Message-Authenticator in requests (on for new routers).
    require_message_authenticator: Mapped[bool] = mapped_column(server_default="true")
    last_seen_at: Mapped[datetime | None]
    # Where the API is reached when neither vpn_ip nor ip_address (a port forward, a simulator).
    api_host: Mapped[str | None] = mapped_column(String(255))
    # SHA-256 (hex) of the API-SSL certificate first seen; another one is refused.
    api_tls_fingerprint: Mapped[str | None] = mapped_column(String(64))
    # Health: written by the site service's router poll, read by the console (migration 0010).
    router_identity: Mapped[str | None] = mapped_column(String(100))
    board_name: Mapped[str | None] = mapped_column(String(100))
    uptime: Mapped[str | None] = mapped_column(String(40))  # RouterOS text, e.g. "2d20h12m20s"
    cpu_load: Mapped[int | None] = mapped_column(SmallInteger)  # percent
    free_memory: Mapped[int | None] = mapped_column(BigInteger)  # bytes
    total_memory: Mapped[int | None] = mapped_column(BigInteger)  # bytes
    health_checked_at: Mapped[datetime | None]
    # The last poll's failure in plain words; NULL after a successful poll.
    health_error: Mapped[str | None] = mapped_column(String(500))
    health_failures: Mapped[int] = mapped_column(server_default="0")  # polls in a row
    # Written by the RADIUS listeners (migration 0033): requests from this router failed the
    # Message-Authenticator / Request Authenticator check with no valid one in the same
    # interval since then, i.e. its RADIUS secret is probably not ours. NULL once one passes.
    secret_mismatch_since: Mapped[datetime | None]
