"""SMS history, range-partitioned by month on created_at (the seed's improvement #3)."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal

from sqlalchemy import (
    BigInteger,
    ForeignKey,
    Identity,
    Index,
    Numeric,
    SmallInteger,
    String,
    Text,
    func,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from easyisp_core.models.base import Base, TenantScoped, pg_enum
from easyisp_core.models.enums import SmsStatus


class SmsLog(TenantScoped, Base):
    __tablename__ = "sms_logs"
    __table_args__ = (
        Index("ix_sms_logs_tenant_id_status", "tenant_id", "status"),
        Index("ix_sms_logs_tenant_id_created_at", "tenant_id", "created_at"),
        Index("ix_sms_logs_customer_id", "customer_id"),
        Index("ix_sms_logs_provider_message_id", "provider_message_id"),
        # The outbox: what is due to be sent (migration 0021).
        Index("ix_sms_logs_due", "next_attempt_at", postgresql_where=text("status = 'QUEUED'")),
        Index(
            "ix_sms_logs_tenant_id_dedupe_key",
            "tenant_id",
            "dedupe_key",
            postgresql_where=text("dedupe_key IS NOT NULL"),
        ),
        {"postgresql_partition_by": "RANGE (created_at)"},
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(always=True), primary_key=True)
    # The partition key must be part of the primary key.
    created_at: Mapped[datetime] = mapped_column(primary_key=True, server_default=func.now())
    customer_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("customers.id", ondelete="SET NULL")
    )
    gateway_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("sms_gateways.id", ondelete="SET NULL")
    )
    phone: Mapped[str] = mapped_column(String(15))
    message: Mapped[str] = mapped_column(Text)
    status: Mapped[SmsStatus] = mapped_column(
        pg_enum(SmsStatus, "sms_status"), server_default=SmsStatus.QUEUED.value
    )
    provider: Mapped[str | None] = mapped_column(String(40))
    provider_message_id: Mapped[str | None] = mapped_column(String(100))
    cost: Mapped[Decimal | None] = mapped_column(Numeric(10, 4))
    error: Mapped[str | None] = mapped_column(String(500))
    delivered_at: Mapped[datetime | None]
    # Outbox bookkeeping (migration 0021): sends tried, when the next may start, and when a
    # sender claimed the row (set and committed before the gateway is called).
    attempts: Mapped[int] = mapped_column(SmallInteger, server_default="0")
    next_attempt_at: Mapped[datetime] = mapped_column(server_default=func.now())
    sending_since: Mapped[datetime | None]
    # What queued it (PAYMENT_RECEIPT, EXPIRY_REMINDER) and the key that keeps it single.
    kind: Mapped[str | None] = mapped_column(String(20))
    dedupe_key: Mapped[str | None] = mapped_column(String(120))
