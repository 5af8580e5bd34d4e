"""Every M-Pesa callback as it arrived (stored before anything else), and the suspense list
of C2B money that names no known customer."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Identity,
    Index,
    String,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import INET, JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from easyisp_core.models.base import Base, Money, TenantScoped, Timestamps, UUIDPk, pg_enum
from easyisp_core.models.enums import MpesaCallbackKind, MpesaCallbackOutcome, SuspenseStatus


class MpesaCallback(Base):
    """One delivery of a Daraja callback. The first trusted delivery of an id is unique;
    later copies are stored too (duplicate_of) so nothing that arrived is ever lost."""

    __tablename__ = "mpesa_callbacks"
    __table_args__ = (
        # CheckoutRequestID (STK, per result code: a 1037 may be followed by a success) or
        # TransID (C2B): processed once per gateway. Untrusted deliveries never take the key,
        # so a forged copy arriving first cannot block the real one.
        Index(
            "uq_mpesa_callbacks_first_delivery",
            "gateway_id",
            "kind",
            "external_id",
            "result_code",
            unique=True,
            postgresql_where=text("trusted AND duplicate_of IS NULL"),
        ),
        Index(
            "ix_mpesa_callbacks_tenant_id_outcome_received_at",
            "tenant_id",
            "outcome",
            "received_at",
        ),
        Index(
            "ix_mpesa_callbacks_pending",
            "received_at",
            postgresql_where=text("outcome = 'PENDING'"),
        ),
        Index("ix_mpesa_callbacks_external_id", "external_id"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(always=True), primary_key=True)
    # NULL when the path token named no gateway (a forged or mistyped URL).
    tenant_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("tenants.id", ondelete="RESTRICT")
    )
    gateway_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("payment_gateways.id", ondelete="SET NULL")
    )
    kind: Mapped[MpesaCallbackKind] = mapped_column(
        pg_enum(MpesaCallbackKind, "mpesa_callback_kind")
    )
    external_id: Mapped[str | None] = mapped_column(String(64))
    result_code: Mapped[int] = mapped_column(server_default="0")
    # Known token and an allowed source address.
    trusted: Mapped[bool]
    duplicate_of: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("mpesa_callbacks.id", ondelete="SET NULL")
    )
    source_address: Mapped[str | None] = mapped_column(INET)
    body: Mapped[dict[str, Any]] = mapped_column(JSONB)
    received_at: Mapped[datetime] = mapped_column(server_default=func.now())
    outcome: Mapped[MpesaCallbackOutcome] = mapped_column(
        pg_enum(MpesaCallbackOutcome, "mpesa_callback_outcome"),
        server_default=MpesaCallbackOutcome.PENDING.value,
    )
    review_reason: Mapped[str | None] = mapped_column(String(300))
    payment_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("payments.id", ondelete="SET NULL")
    )
    processed_at: Mapped[datetime | None]
    # Set when staff close a review entry (easyisp_close_review).
    reviewed_by: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="RESTRICT")
    )
    reviewed_at: Mapped[datetime | None]
    review_note: Mapped[str | None] = mapped_column(String(300))


class MpesaSuspense(TenantScoped, Timestamps, Base):
    """Money received by paybill/till that names no customer, until staff assign it."""

    __tablename__ = "mpesa_suspense"
    __table_args__ = (
        CheckConstraint("amount > 0", name="amount_positive"),
        CheckConstraint(
            "status <> 'RESOLVED' OR (customer_id IS NOT NULL AND payment_id IS NOT NULL)",
            name="resolved_has_payment",
        ),
        Index("ix_mpesa_suspense_tenant_id_status_created_at", "tenant_id", "status", "created_at"),
    )

    id: Mapped[UUIDPk]
    receipt: Mapped[str] = mapped_column(String(64), unique=True)
    amount: Mapped[Money]
    callback_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("mpesa_callbacks.id", ondelete="SET NULL")
    )
    msisdn: Mapped[str | None] = mapped_column(String(64))  # hashed or masked by Daraja
    account_reference: Mapped[str | None] = mapped_column(String(40))
    payer_name: Mapped[str | None] = mapped_column(String(200))
    paid_at: Mapped[datetime | None]
    reason: Mapped[str] = mapped_column(String(300))
    status: Mapped[SuspenseStatus] = mapped_column(
        pg_enum(SuspenseStatus, "mpesa_suspense_status"),
        server_default=SuspenseStatus.OPEN.value,
    )
    customer_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("customers.id", ondelete="SET NULL")
    )
    payment_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("payments.id", ondelete="SET NULL")
    )
    resolved_by: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    resolved_at: Mapped[datetime | None]
