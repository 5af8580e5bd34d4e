"""STK Push requests started from the captive portal, waiting for Daraja's callback."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String
from sqlalchemy.dialects.postgresql import INET, MACADDR
from sqlalchemy.orm import Mapped, mapped_column

from easyisp_core.models.base import Base, Money, TenantScoped, Timestamps, UUIDPk, pg_enum
from easyisp_core.models.enums import HotspotPaymentStatus


class PendingHotspotPayment(TenantScoped, Timestamps, Base):
    __tablename__ = "pending_hotspot_payments"
    __table_args__ = (
        CheckConstraint("amount > 0", name="amount_positive"),
        Index("ix_pending_hotspot_payments_tenant_id_status", "tenant_id", "status"),
        Index("ix_pending_hotspot_payments_status_expires_at", "status", "expires_at"),
        Index("ix_pending_hotspot_payments_phone", "phone"),
    )

    id: Mapped[UUIDPk]
    checkout_request_id: Mapped[str] = mapped_column(String(64), unique=True)
    merchant_request_id: Mapped[str | None] = mapped_column(String(64))
    phone: Mapped[str] = mapped_column(String(12))
    amount: Mapped[Money]
    package_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("packages.id", ondelete="RESTRICT"))
    nas_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("nas.id", ondelete="SET NULL"))
    mac_address: Mapped[str | None] = mapped_column(MACADDR)
    ip_address: Mapped[str | None] = mapped_column(INET)
    status: Mapped[HotspotPaymentStatus] = mapped_column(
        pg_enum(HotspotPaymentStatus, "hotspot_payment_status"),
        server_default=HotspotPaymentStatus.PENDING.value,
    )
    payment_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("payments.id", ondelete="SET NULL")
    )
    customer_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("customers.id", ondelete="SET NULL")
    )
    result_code: Mapped[int | None]
    result_description: Mapped[str | None] = mapped_column(String(300))
    expires_at: Mapped[datetime]
