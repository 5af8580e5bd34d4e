"""The site service's side of a Transaction Status question: what to send, and recording that
Daraja took it (an answer that outran that record is applied then)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from easyisp_core.crypto import SecretBox
from easyisp_core.errors import ValidationFailed
from easyisp_core.models.enums import MpesaCallbackKind
from easyisp_core.repositories.hotspot_purchases import HotspotPurchaseRepository
from easyisp_core.repositories.mpesa_callbacks import MpesaCallbackRepository
from easyisp_core.repositories.mpesa_status_queries import StatusQueryRepository
from easyisp_core.services.mpesa_callbacks import process
from easyisp_core.services.mpesa_status import mark_sent, record_refused
from easyisp_core.services.stk_purchase import GatewaySettings, gateway_settings


@dataclass(frozen=True)
class StatusToSend:
    query_id: uuid.UUID
    receipt: str
    gateway: GatewaySettings
    initiator_name: str
    security_credential: str


# A claimed question whose sender has not recorded an outcome by then is taken over: well past
# the Daraja client's 30 s timeout, so a live sender is never overtaken.
CLAIM_TIMEOUT = timedelta(minutes=5)


def queued_questions(
    session: Session, box: SecretBox, now: datetime, limit: int = 20
) -> list[StatusToSend]:
    """Claim queued questions for this sender (committed with the caller's transaction, before
    Daraja is called) with what sending them needs (credentials decrypted). A question whose
    gateway cannot ask (gone, no initiator set up) is FAILED here with the reason."""
    queries = StatusQueryRepository(session)
    gateways = HotspotPurchaseRepository(session)
    ready = []
    for query in queries.claim_queued(now, now - CLAIM_TIMEOUT, limit):
        try:
            settings = gateway_settings(session, box, gateways.gateway(query.gateway_id))
        except ValidationFailed as exc:
            record_refused(session, query.id, exc.user_message, now)
            continue
        credentials = settings.credentials
        if not credentials.initiator_name or not credentials.security_credential:
            record_refused(
                session,
                query.id,
                "the M-Pesa gateway has no initiator set up for Transaction Status "
                "(easyisp gateway add-mpesa --initiator-name)",
                now,
            )
            continue
        ready.append(
            StatusToSend(
                query.id,
                query.receipt,
                settings,
                credentials.initiator_name,
                credentials.security_credential,
            )
        )
    return ready


def record_sent(
    session: Session, query_id: uuid.UUID, originator: str, conversation: str, now: datetime
) -> int:
    """Daraja accepted the question; apply any answer that arrived before this record.
    Returns how many such answers were applied."""
    mark_sent(session, query_id, originator, conversation, now)
    callbacks = MpesaCallbackRepository(session)
    early = [
        *callbacks.pending_first(MpesaCallbackKind.STATUS_RESULT, originator),
        *callbacks.pending_first(MpesaCallbackKind.STATUS_TIMEOUT, originator),
    ]
    for callback_id in early:
        process(session, callback_id, now)
    return len(early)


def release(session: Session, query_id: uuid.UUID) -> None:
    """Daraja asked us to come back later (rate limit, outage): queued for the next run."""
    StatusQueryRepository(session).release(query_id)
