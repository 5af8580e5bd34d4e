"""The raw M-Pesa callback store: insert first, find copies, lock one for processing."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, text, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from easyisp_core.models import MpesaCallback, PaymentGateway
from easyisp_core.models.enums import MpesaCallbackKind, MpesaCallbackOutcome


@dataclass(frozen=True)
class NewCallback:
    tenant_id: uuid.UUID | None
    gateway_id: uuid.UUID | None
    kind: MpesaCallbackKind
    external_id: str | None
    result_code: int
    trusted: bool
    source_address: str | None
    body: dict[str, Any]
    outcome: MpesaCallbackOutcome = MpesaCallbackOutcome.PENDING
    review_reason: str | None = None


class MpesaCallbackRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def gateway_by_token(self, token: str) -> PaymentGateway | None:
        return self.session.scalar(
            select(PaymentGateway).where(
                PaymentGateway.callback_token == token, PaymentGateway.is_active
            )
        )

    def gateway(self, gateway_id: uuid.UUID) -> PaymentGateway | None:
        return self.session.get(PaymentGateway, gateway_id)

    def insert_first(self, new: NewCallback) -> int | None:
        """Insert as the first trusted delivery of its id; None when one is already stored
        (a concurrent copy waits here until the first one's transaction ends)."""
        statement = (
            insert(MpesaCallback)
            .values(**_values(new))
            .on_conflict_do_nothing(
                index_elements=["gateway_id", "kind", "external_id", "result_code"],
                index_where=text("trusted AND duplicate_of IS NULL"),
            )
            .returning(MpesaCallback.id)
        )
        return self.session.execute(statement).scalar_one_or_none()

    def insert(self, new: NewCallback, *, duplicate_of: int | None = None) -> int:
        statement = (
            insert(MpesaCallback)
            .values(**_values(new), duplicate_of=duplicate_of)
            .returning(MpesaCallback.id)
        )
        return self.session.execute(statement).scalar_one()

    def first_delivery(self, new: NewCallback) -> tuple[int, dict[str, Any]]:
        """The stored first delivery that `new` is a copy of: (id, body)."""
        row = self.session.execute(
            select(MpesaCallback.id, MpesaCallback.body).where(
                MpesaCallback.gateway_id == new.gateway_id,
                MpesaCallback.kind == new.kind,
                MpesaCallback.external_id == new.external_id,
                MpesaCallback.result_code == new.result_code,
                MpesaCallback.trusted,
                MpesaCallback.duplicate_of.is_(None),
            )
        ).one()
        return row.id, row.body

    def lock(self, callback_id: int) -> MpesaCallback | None:
        return self.session.scalar(
            select(MpesaCallback).where(MpesaCallback.id == callback_id).with_for_update()
        )

    def get(self, callback_id: int) -> MpesaCallback | None:
        return self.session.get(MpesaCallback, callback_id)

    def set_outcome(
        self,
        callback_id: int,
        outcome: MpesaCallbackOutcome,
        reason: str | None,
        payment_id: uuid.UUID | None,
        at: datetime,
    ) -> None:
        self.session.execute(
            update(MpesaCallback)
            .where(MpesaCallback.id == callback_id)
            .values(
                outcome=outcome,
                review_reason=reason[:300] if reason else None,
                payment_id=payment_id,
                processed_at=at,
            )
        )

    def pending_ids(self, received_before: datetime, limit: int) -> list[int]:
        """Stored but never processed (the process stopped between storing and applying)."""
        return list(
            self.session.scalars(
                select(MpesaCallback.id)
                .where(
                    MpesaCallback.outcome == MpesaCallbackOutcome.PENDING,
                    MpesaCallback.received_at < received_before,
                )
                .order_by(MpesaCallback.received_at)
                .limit(limit)
            )
        )

    def pending_first(self, kind: MpesaCallbackKind, external_id: str) -> list[int]:
        """Trusted first deliveries of this id still waiting to be processed."""
        return list(
            self.session.scalars(
                select(MpesaCallback.id)
                .where(
                    MpesaCallback.kind == kind,
                    MpesaCallback.external_id == external_id,
                    MpesaCallback.outcome == MpesaCallbackOutcome.PENDING,
                    MpesaCallback.trusted,
                    MpesaCallback.duplicate_of.is_(None),
                )
                .order_by(MpesaCallback.id)
            )
        )

    def close_review(self, callback_id: int, note: str) -> None:
        """REVIEW → IGNORED with the note; the database function checks the permission
        and the outcome and writes the audit trail."""
        self.session.execute(
            text("SELECT easyisp_close_review(:c, :n)"), {"c": callback_id, "n": note}
        )

    def for_review(self, tenant_id: uuid.UUID | None, limit: int) -> list[MpesaCallback]:
        query = select(MpesaCallback).where(MpesaCallback.outcome == MpesaCallbackOutcome.REVIEW)
        query = query.where(
            MpesaCallback.tenant_id.is_(None)
            if tenant_id is None
            else MpesaCallback.tenant_id == tenant_id
        )
        return list(
            self.session.scalars(query.order_by(MpesaCallback.received_at.desc()).limit(limit))
        )


def _values(new: NewCallback) -> dict[str, Any]:
    return {
        "tenant_id": new.tenant_id,
        "gateway_id": new.gateway_id,
        "kind": new.kind,
        "external_id": new.external_id,
        "result_code": new.result_code,
        "trusted": new.trusted,
        "source_address": new.source_address,
        "body": new.body,
        "outcome": new.outcome,
        "review_reason": new.review_reason[:300] if new.review_reason else None,
    }
