"""The console-to-service command queue, the service heartbeat and per-tenant counters."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    ForeignKey,
    Identity,
    Index,
    SmallInteger,
    String,
    Text,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from easyisp_core.models.base import Base, TenantScoped, pg_enum
from easyisp_core.models.enums import ServiceCommandKind, ServiceCommandStatus


class ServiceCommand(TenantScoped, Base):
    """Work the console asks the site service to do (disconnect, CoA, router sync).

    The console cannot reach routers itself; it inserts a row, a trigger NOTIFYs the service,
    and the service writes the outcome back into the same row.
    """

    __tablename__ = "service_commands"
    __table_args__ = (
        Index(
            "ix_service_commands_queued",
            "created_at",
            postgresql_where=text("status IN ('QUEUED', 'RUNNING')"),
        ),
        Index("ix_service_commands_customer_id", "customer_id"),
        Index("ix_service_commands_tenant_id_created_at", "tenant_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(always=True), primary_key=True)
    kind: Mapped[ServiceCommandKind] = mapped_column(
        pg_enum(ServiceCommandKind, "service_command_kind")
    )
    status: Mapped[ServiceCommandStatus] = mapped_column(
        pg_enum(ServiceCommandStatus, "service_command_status"),
        server_default=ServiceCommandStatus.QUEUED.value,
    )
    customer_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("customers.id", ondelete="CASCADE")
    )
    nas_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("nas.id", ondelete="CASCADE"))
    payload: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default=text("'{}'::jsonb"))
    attempts: Mapped[int] = mapped_column(SmallInteger, server_default="0")
    result: Mapped[str | None] = mapped_column(Text)
    # Each step the service took ({"at", "step", "detail"}), shown in the customer's history.
    steps: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, server_default=text("'[]'::jsonb"))
    # A command being retried is due again at this time (None: due now).
    next_attempt_at: Mapped[datetime | None]
    requested_by: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]


class ServiceHeartbeat(Base):
    """One row per running site-service instance. Site-wide, so it has no tenant_id."""

    __tablename__ = "service_heartbeats"

    instance: Mapped[str] = mapped_column(String(100), primary_key=True)
    hostname: Mapped[str] = mapped_column(String(200))
    version: Mapped[str] = mapped_column(String(40))
    pid: Mapped[int]
    started_at: Mapped[datetime]
    last_beat_at: Mapped[datetime] = mapped_column(server_default=func.now())
    counters: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default=text("'{}'::jsonb"))


class TenantCounter(Base):
    """Gap-tolerant per-tenant numbering (invoice numbers, account numbers)."""

    __tablename__ = "tenant_counters"

    tenant_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True
    )
    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    next_value: Mapped[int] = mapped_column(BigInteger, server_default="1")
