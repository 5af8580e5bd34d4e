"""Transaction Status questions: queued, claimed by the site service, matched to answers."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal

from sqlalchemy import func, insert, or_, select, update
from sqlalchemy.orm import Session

from easyisp_core.models import Customer, MpesaStatusQuery
from easyisp_core.models.enums import ConnectionType, GatewayPurpose, StatusQueryState


class StatusQueryRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def gateway_id_for(self, tenant_id: uuid.UUID, purpose: GatewayPurpose) -> uuid.UUID | None:
        """The gateway a question goes through, for callers who may not read gateways
        (cashiers): a definer function that reveals only its id (migration 0029)."""
        return self.session.scalar(
            select(func.easyisp_status_query_gateway(tenant_id, purpose.value))
        )

    def add(
        self,
        *,
        tenant_id: uuid.UUID,
        gateway_id: uuid.UUID,
        receipt: str,
        customer_id: uuid.UUID,
        origin: str,
    ) -> uuid.UUID:
        # Only the granted columns (migration 0027): staff may insert the question alone,
        # the rest (timestamps, state) are the database's defaults.
        return self.session.execute(
            insert(MpesaStatusQuery)
            .values(
                tenant_id=tenant_id,
                gateway_id=gateway_id,
                receipt=receipt,
                customer_id=customer_id,
                origin=origin,
            )
            .returning(MpesaStatusQuery.id)
        ).scalar_one()

    def open_for(self, tenant_id: uuid.UUID, receipt: str) -> MpesaStatusQuery | None:
        """A question about this receipt still waiting for its answer."""
        return self.session.scalar(
            select(MpesaStatusQuery)
            .where(
                MpesaStatusQuery.tenant_id == tenant_id,
                MpesaStatusQuery.receipt == receipt,
                MpesaStatusQuery.state.in_([StatusQueryState.QUEUED, StatusQueryState.SENT]),
            )
            .limit(1)
        )

    def get(self, query_id: uuid.UUID) -> MpesaStatusQuery | None:
        return self.session.get(MpesaStatusQuery, query_id)

    def claim_queued(
        self, now: datetime, claim_expired_before: datetime, limit: int
    ) -> list[MpesaStatusQuery]:
        """Mark up to `limit` queued questions as being sent by this caller, oldest first.
        SKIP LOCKED: a second instance skips rows the first is claiming instead of waiting;
        once the claim commits, `sending_since` keeps every later claim away until it is
        older than `claim_expired_before` (the sender died before recording the outcome)."""
        due = (
            select(MpesaStatusQuery.id)
            .where(
                MpesaStatusQuery.state == StatusQueryState.QUEUED,
                or_(
                    MpesaStatusQuery.sending_since.is_(None),
                    MpesaStatusQuery.sending_since < claim_expired_before,
                ),
            )
            .order_by(MpesaStatusQuery.created_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        claimed = self.session.scalars(
            update(MpesaStatusQuery)
            .where(MpesaStatusQuery.id.in_(due.scalar_subquery()))
            .values(sending_since=now)
            .returning(MpesaStatusQuery)
            .execution_options(synchronize_session=False, populate_existing=True)
        ).all()
        return sorted(claimed, key=lambda query: query.created_at)

    def release(self, query_id: uuid.UUID) -> None:
        """Hand a claimed question back to the queue (Daraja asked us to come back later)."""
        self.session.execute(
            update(MpesaStatusQuery)
            .where(
                MpesaStatusQuery.id == query_id,
                MpesaStatusQuery.state == StatusQueryState.QUEUED,
            )
            .values(sending_since=None)
        )

    def lock_by_originator(self, originator: str) -> MpesaStatusQuery | None:
        return self.session.scalar(
            select(MpesaStatusQuery)
            .where(MpesaStatusQuery.originator_conversation_id == originator)
            .with_for_update()
        )

    def set_state(
        self,
        query_id: uuid.UUID,
        state: StatusQueryState,
        result: str | None,
        now: datetime,
        *,
        originator: str | None = None,
        conversation: str | None = None,
        amount: Decimal | None = None,
        payment_id: uuid.UUID | None = None,
    ) -> None:
        values: dict[str, object] = {
            "state": state,
            "result": result and result[:500],
            "sending_since": None,  # no longer anyone's to send
        }
        if state is StatusQueryState.SENT:
            values |= {
                "sent_at": now,
                "originator_conversation_id": originator,
                "conversation_id": conversation,
            }
        else:
            values["finished_at"] = now
        if amount is not None:
            values["amount"] = amount
        if payment_id is not None:
            values["payment_id"] = payment_id
        self.session.execute(
            update(MpesaStatusQuery).where(MpesaStatusQuery.id == query_id).values(**values)
        )

    def connection_type(self, customer_id: uuid.UUID) -> ConnectionType | None:
        return self.session.scalar(
            select(Customer.connection_type).where(Customer.id == customer_id)
        )

    def recent(self, tenant_id: uuid.UUID, limit: int) -> list[MpesaStatusQuery]:
        return list(
            self.session.scalars(
                select(MpesaStatusQuery)
                .where(MpesaStatusQuery.tenant_id == tenant_id)
                .order_by(MpesaStatusQuery.created_at.desc())
                .limit(limit)
            )
        )

    def for_customer(self, customer_id: uuid.UUID, limit: int) -> list[MpesaStatusQuery]:
        return list(
            self.session.scalars(
                select(MpesaStatusQuery)
                .where(MpesaStatusQuery.customer_id == customer_id)
                .order_by(MpesaStatusQuery.created_at.desc())
                .limit(limit)
            )
        )
