"""sms_logs as an outbox: claiming due rows, recording what the gateway said, delivery reports.

Rows are addressed by (id, created_at): sms_logs is partitioned by created_at, and naming the
partition key lets PostgreSQL touch one partition."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from easyisp_core.models import SmsGateway, Tenant


@dataclass(frozen=True)
class ClaimedRow:
    id: int
    created_at: datetime
    tenant_id: uuid.UUID
    phone: str
    message: str
    attempts: int


@dataclass(frozen=True)
class GatewayRow:
    id: uuid.UUID
    provider: str
    sender_id: str | None
    config: dict[str, Any]


class SmsOutboxRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def claim(self, now: datetime, limit: int) -> list[ClaimedRow]:
        """Mark up to `limit` due rows as being sent by this caller. SKIP LOCKED: a second
        sender skips rows the first is claiming instead of waiting for them; once the claim
        commits, `sending_since` keeps every later claim away."""
        rows = self.session.execute(
            text(
                """
                UPDATE sms_logs s
                   SET sending_since = :now, attempts = s.attempts + 1
                  FROM (SELECT id, created_at FROM sms_logs
                         WHERE status = 'QUEUED' AND sending_since IS NULL
                           AND next_attempt_at <= :now
                         ORDER BY next_attempt_at, id
                         LIMIT :limit
                           FOR UPDATE SKIP LOCKED) due
                 WHERE s.id = due.id AND s.created_at = due.created_at
             RETURNING s.id, s.created_at, s.tenant_id, s.phone, s.message, s.attempts
                """
            ),
            {"now": now, "limit": limit},
        ).all()
        return [ClaimedRow(*row) for row in rows]

    def fail_abandoned(self, claimed_before: datetime, reason: str) -> int:
        """Rows claimed long ago and never recorded: the sender stopped mid-send. They may or
        may not have gone out, so they are closed as FAILED rather than sent again."""
        result = self.session.execute(
            text(
                "UPDATE sms_logs SET status = 'FAILED', error = :reason, sending_since = NULL "
                "WHERE status = 'QUEUED' AND sending_since < :before"
            ),
            {"reason": reason, "before": claimed_before},
        )
        return int(result.rowcount)  # type: ignore[attr-defined]

    def expire_old(self, queued_before: datetime, reason: str) -> int:
        """Rows still waiting long after they were queued: a late reminder or receipt would
        confuse more than help (and a restored or demo database must not flush its backlog)."""
        result = self.session.execute(
            text(
                "UPDATE sms_logs SET status = 'FAILED', error = :reason "
                "WHERE status = 'QUEUED' AND sending_since IS NULL AND created_at < :before"
            ),
            {"reason": reason, "before": queued_before},
        )
        return int(result.rowcount)  # type: ignore[attr-defined]

    def active_gateway(self, tenant_id: uuid.UUID) -> GatewayRow | None:
        """The tenant's sending gateway: the default one if active, else the first active."""
        row = self.session.execute(
            select(SmsGateway.id, SmsGateway.provider, SmsGateway.sender_id, SmsGateway.config)
            .where(SmsGateway.tenant_id == tenant_id, SmsGateway.is_active)
            .order_by(SmsGateway.is_default.desc(), SmsGateway.name)
            .limit(1)
        ).first()
        if row is None:
            return None
        return GatewayRow(row.id, str(row.provider), row.sender_id, dict(row.config))

    def credentials(self, gateway_id: uuid.UUID) -> bytes | None:
        return self.session.scalar(
            select(SmsGateway.credentials_enc).where(SmsGateway.id == gateway_id)
        )

    def tenant_config(self, tenant_id: uuid.UUID) -> dict[str, Any]:
        config = self.session.scalar(select(Tenant.config).where(Tenant.id == tenant_id))
        return dict(config or {})

    def finish(
        self,
        row: ClaimedRow,
        *,
        status: str,
        gateway_id: uuid.UUID | None,
        provider: str | None,
        message_id: str | None = None,
        cost: Decimal | None = None,
        error: str | None = None,
        next_attempt_at: datetime | None = None,
    ) -> None:
        """Record the outcome and release the claim (QUEUED again with a later next_attempt_at
        when it is to be retried)."""
        self.session.execute(
            text(
                """
                UPDATE sms_logs
                   SET status = CAST(:status AS sms_status), gateway_id = :gateway,
                       provider = :provider, provider_message_id = :message_id, cost = :cost,
                       error = :error, sending_since = NULL,
                       next_attempt_at = coalesce(:next_at, next_attempt_at)
                 WHERE id = :id AND created_at = :created_at
                """
            ),
            {
                "status": status,
                "gateway": gateway_id,
                "provider": provider,
                "message_id": message_id,
                "cost": cost,
                "error": None if error is None else error[:500],
                "next_at": next_attempt_at,
                "id": row.id,
                "created_at": row.created_at,
            },
        )

    def gateway_by_token(self, token: str) -> tuple[uuid.UUID, str] | None:
        row = self.session.execute(
            select(SmsGateway.id, SmsGateway.provider).where(SmsGateway.callback_token == token)
        ).first()
        return None if row is None else (row.id, str(row.provider))

    def apply_delivery(
        self,
        gateway_id: uuid.UUID,
        message_id: str,
        status: str,
        error: str | None,
        now: datetime,
    ) -> int:
        """SENT -> DELIVERED or FAILED; a repeated or late report changes nothing further."""
        result = self.session.execute(
            text(
                """
                UPDATE sms_logs
                   SET status = CAST(:status AS sms_status),
                       delivered_at = CASE WHEN :status = 'DELIVERED' THEN :now END,
                       error = :error
                 WHERE gateway_id = :gateway AND provider_message_id = :message_id
                   AND status = 'SENT'
                """
            ),
            {
                "status": status,
                "now": now,
                "error": None if error is None else error[:500],
                "gateway": gateway_id,
                "message_id": message_id,
            },
        )
        return int(result.rowcount)  # type: ignore[attr-defined]


def suppress_receipts_in_transaction(session: Session) -> None:
    """Payments written in this transaction queue no receipt SMS (loading history)."""
    session.execute(text("SELECT set_config('easyisp.sms_receipts', 'off', true)"))
