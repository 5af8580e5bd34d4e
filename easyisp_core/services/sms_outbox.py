"""Sending from the SMS outbox (sms_logs): what the site service's sender reads and records.

At most once: a row is claimed (committed) before the gateway is called and released only by
recording the outcome. The providers take no idempotency key, so a row whose claim outlived
any possible send (the service stopped mid-send) is closed as FAILED, never sent again: a
duplicate "payment received" SMS makes a customer think they paid twice.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy.orm import Session

from easyisp_core.crypto import SecretBox
from easyisp_core.models.enums import SmsStatus
from easyisp_core.repositories.sms_outbox import ClaimedRow, SmsOutboxRepository
from easyisp_core.schemas.gateway_config import SmsCredentials, SmsGatewayConfig
from easyisp_core.schemas.tenant_config import TenantConfig
from easyisp_core.services.gateways import SMS_CREDENTIALS

MAX_ATTEMPTS = 6
# Longer than any send can take (HTTP timeout 30 s), so only a dead sender's rows qualify.
ABANDONED_AFTER = timedelta(minutes=10)
# A message not sent within a day is dropped, not sent late.
EXPIRES_AFTER = timedelta(hours=24)
EXPIRED_REASON = "expired: not sent within 24 hours of being queued"
ABANDONED_REASON = (
    "outcome unknown: the service stopped while sending; not resent to avoid a duplicate"
)

__all__ = ["ClaimedRow", "GatewaySetup"]


@dataclass(frozen=True)
class GatewaySetup:
    id: uuid.UUID
    provider: str
    sender_id: str | None
    config: SmsGatewayConfig
    credentials: SmsCredentials


def retry_delay(attempts: int) -> timedelta:
    """1, 2, 4, 8, 16 minutes … capped at an hour."""
    return timedelta(seconds=min(60 * 2 ** max(attempts - 1, 0), 3600))


def claim_due(session: Session, now: datetime, limit: int) -> list[ClaimedRow]:
    repo = SmsOutboxRepository(session)
    repo.fail_abandoned(now - ABANDONED_AFTER, ABANDONED_REASON)
    repo.expire_old(now - EXPIRES_AFTER, EXPIRED_REASON)
    return repo.claim(now, limit)


def gateway_setup(session: Session, box: SecretBox, tenant_id: uuid.UUID) -> GatewaySetup | None:
    """The tenant's active SMS gateway with its decrypted credentials; None if it has none.
    Raises pydantic.ValidationError when the stored settings are unreadable."""
    repo = SmsOutboxRepository(session)
    gateway = repo.active_gateway(tenant_id)
    if gateway is None:
        return None
    sealed = repo.credentials(gateway.id)
    credentials = SmsCredentials.model_validate(
        json.loads(box.decrypt(sealed, SMS_CREDENTIALS)) if sealed else {}
    )
    tenant = TenantConfig.model_validate(repo.tenant_config(tenant_id))
    return GatewaySetup(
        gateway.id,
        gateway.provider,
        gateway.sender_id or tenant.sms.sender_id,
        SmsGatewayConfig.model_validate(gateway.config),
        credentials,
    )


def record_sent(
    session: Session,
    row: ClaimedRow,
    gateway: GatewaySetup,
    message_id: str | None,
    cost: Decimal | None,
) -> None:
    SmsOutboxRepository(session).finish(
        row,
        status=SmsStatus.SENT.value,
        gateway_id=gateway.id,
        provider=gateway.provider,
        message_id=message_id,
        cost=cost,
    )


def record_refusal(
    session: Session,
    row: ClaimedRow,
    gateway: GatewaySetup | None,
    reason: str,
    *,
    retryable: bool,
    now: datetime,
) -> bool:
    """FAILED, or QUEUED again after a backoff when retrying can help and tries remain.
    True when it will be retried."""
    retry = retryable and row.attempts < MAX_ATTEMPTS
    SmsOutboxRepository(session).finish(
        row,
        status=(SmsStatus.QUEUED if retry else SmsStatus.FAILED).value,
        gateway_id=gateway.id if gateway else None,
        provider=gateway.provider if gateway else None,
        error=reason if not retry else f"attempt {row.attempts}: {reason}",
        next_attempt_at=now + retry_delay(row.attempts) if retry else None,
    )
    return retry


def apply_delivery_report(
    session: Session,
    gateway_id: uuid.UUID,
    message_id: str,
    delivered: bool,
    reason: str | None,
    now: datetime,
) -> int:
    status = SmsStatus.DELIVERED if delivered else SmsStatus.FAILED
    return SmsOutboxRepository(session).apply_delivery(
        gateway_id, message_id, status.value, None if delivered else reason, now
    )


def gateway_by_token(session: Session, token: str) -> tuple[uuid.UUID, str] | None:
    return SmsOutboxRepository(session).gateway_by_token(token)
