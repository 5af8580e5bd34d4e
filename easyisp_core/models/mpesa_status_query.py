"""Transaction Status questions about receipts reported to us that we do not hold (staff's
"credit missing receipt", the portal's "I have already paid"): queued, sent by the site
service, answered at the gateway's ResultURL."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal

from sqlalchemy import ForeignKey, Index, Numeric, String, text
from sqlalchemy.orm import Mapped, mapped_column

from easyisp_core.models.base import Base, TenantScoped, Timestamps, UUIDPk, pg_enum
from easyisp_core.models.enums import StatusQueryState


class MpesaStatusQuery(TenantScoped, Timestamps, Base):
    __tablename__ = "mpesa_status_queries"
    __table_args__ = (
        # The answer names the question by the OriginatorConversationID Daraja gave it.
        Index(
            "uq_mpesa_status_queries_originator",
            "originator_conversation_id",
            unique=True,
            postgresql_where=text("originator_conversation_id IS NOT NULL"),
        ),
        Index(
            "ix_mpesa_status_queries_queued",
            "created_at",
            postgresql_where=text("state = 'QUEUED'"),
        ),
        Index("ix_mpesa_status_queries_receipt", "receipt"),
        # The console lists a customer's questions, newest first.
        Index("ix_mpesa_status_queries_customer", "customer_id", "created_at"),
    )

    id: Mapped[UUIDPk]
    gateway_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("payment_gateways.id", ondelete="CASCADE")
    )
    receipt: Mapped[str] = mapped_column(String(64))
    # Who the money is for: the customer the receipt was reported for.
    customer_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    # "console" (staff) or "portal" (a subscriber's "I have already paid").
    origin: Mapped[str] = mapped_column(String(20))
    requested_by: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"),
        server_default=text("easyisp_current_user_id()"),
    )
    state: Mapped[StatusQueryState] = mapped_column(
        pg_enum(StatusQueryState, "mpesa_status_query_state"),
        server_default=StatusQueryState.QUEUED.value,
    )
    originator_conversation_id: Mapped[str | None] = mapped_column(String(100))
    conversation_id: Mapped[str | None] = mapped_column(String(100))
    # What M-Pesa said (amount, payer, reason for review or failure), for the console.
    result: Mapped[str | None] = mapped_column(String(500))
    amount: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    payment_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("payments.id", ondelete="SET NULL")
    )
    # Claimed by a site-service instance that is calling Daraja with it (None otherwise):
    # other instances skip it until the claim is older than the sender's timeout.
    sending_since: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
