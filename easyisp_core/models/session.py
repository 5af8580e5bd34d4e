"""RADIUS sessions (active and history), range-partitioned by month on started_at."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Identity, Index, String, func, text
from sqlalchemy.dialects.postgresql import INET
from sqlalchemy.orm import Mapped, mapped_column

from easyisp_core.models.base import Base, TenantScoped


class Session(TenantScoped, Base):
    __tablename__ = "sessions"
    __table_args__ = (
        # Keyset paging of the console's sessions list (0016), all and open ("Online now").
        Index("ix_sessions_tenant_id_started_at_id", "tenant_id", "started_at", "id"),
        Index("ix_sessions_tenant_id_username_id", "tenant_id", "username", "id"),
        Index(
            "ix_sessions_open_tenant_id_started_at_id",
            "tenant_id",
            "started_at",
            "id",
            postgresql_where=text("stopped_at IS NULL"),
        ),
        Index(
            "ix_sessions_open_tenant_id_username_id",
            "tenant_id",
            "username",
            "id",
            postgresql_where=text("stopped_at IS NULL"),
        ),
        # Filter as you type: username, MAC and the IP's host part, ILIKE '%…%'.
        Index(
            "ix_sessions_username_trgm",
            "username",
            postgresql_using="gin",
            postgresql_ops={"username": "gin_trgm_ops"},
        ),
        Index(
            "ix_sessions_calling_station_id_trgm",
            "calling_station_id",
            postgresql_using="gin",
            postgresql_ops={"calling_station_id": "gin_trgm_ops"},
        ),
        Index(
            "ix_sessions_framed_ip_host_trgm",
            func.host(text("framed_ip")),
            postgresql_using="gin",
            postgresql_ops={"host": "gin_trgm_ops"},
        ),
        Index("ix_sessions_customer_id_started_at", "customer_id", "started_at"),
        Index("ix_sessions_username", "username"),
        Index("ix_sessions_session_id", "session_id"),
        Index("ix_sessions_framed_ip", "framed_ip"),
        # One row per (router, Acct-Session-Id, start): two accounting writers cannot both
        # insert a session. A unique index on a partitioned table must hold the partition
        # key, which started_at is.
        Index("ux_sessions_identity", "nas_id", "session_id", "started_at", unique=True),
        # Open sessions per router: Accounting-On/Off and stale-session sweeps.
        Index(
            "ix_sessions_nas_id_open",
            "nas_id",
            postgresql_where=text("stopped_at IS NULL"),
        ),
        {"postgresql_partition_by": "RANGE (started_at)"},
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(always=True), primary_key=True)
    started_at: Mapped[datetime] = mapped_column(primary_key=True, server_default=func.now())
    nas_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("nas.id", ondelete="SET NULL"))
    customer_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("customers.id", ondelete="SET NULL")
    )
    username: Mapped[str] = mapped_column(String(64))
    # RADIUS Acct-Session-Id (the seed's sessionId) and our hash over NAS + session id.
    session_id: Mapped[str] = mapped_column(String(64))
    unique_session_id: Mapped[str | None] = mapped_column(String(64))
    service_type: Mapped[str | None] = mapped_column(String(16))  # PPPOE / HOTSPOT
    framed_ip: Mapped[str | None] = mapped_column(INET)
    calling_station_id: Mapped[str | None] = mapped_column(String(64))  # subscriber MAC
    called_station_id: Mapped[str | None] = mapped_column(String(64))
    nas_port_id: Mapped[str | None] = mapped_column(String(64))
    input_octets: Mapped[int] = mapped_column(BigInteger, server_default="0")
    output_octets: Mapped[int] = mapped_column(BigInteger, server_default="0")
    input_packets: Mapped[int] = mapped_column(BigInteger, server_default="0")
    output_packets: Mapped[int] = mapped_column(BigInteger, server_default="0")
    session_time: Mapped[int] = mapped_column(server_default="0")  # seconds
    last_update_at: Mapped[datetime | None]
    stopped_at: Mapped[datetime | None]
    terminate_cause: Mapped[str | None] = mapped_column(String(40))
    class_value: Mapped[str | None] = mapped_column(String(64))  # RADIUS Class we issued
