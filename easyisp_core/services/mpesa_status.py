"""Transaction Status for receipts reported to us that we do not hold.

Staff ("credit missing receipt") or the portal ("I have already paid") report a receipt for a
customer; `ask_status()` queues a question (mpesa_status_queries). The site service sends it to
Daraja (radius_service/mpesa/status_flow.py) and Daraja answers at the gateway's ResultURL
(/pay/<token>/status/result) or, when the answer timed out in its queue, at the
QueueTimeOutURL (/pay/<token>/status/timeout). The answer is stored raw first like every
callback (unique per gateway on its OriginatorConversationID), then `apply_status_result()`
runs once inside services.mpesa_callbacks.process(): a completed receipt paid to this
gateway's shortcode is credited to the customer it was reported for through credit_receipt(),
so the receipt is the payment's transaction id and any other route reporting it later credits
nothing more. Anything else changes no balance and is kept for review."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy.orm import Session

from easyisp_core.errors import EasyIspError, NotFound, ValidationFailed
from easyisp_core.models import MpesaCallback, MpesaStatusQuery, PaymentGateway
from easyisp_core.models.enums import (
    ConnectionType,
    GatewayPurpose,
    MpesaCallbackOutcome,
    StatusQueryState,
)
from easyisp_core.repositories.hotspot_purchases import HotspotPurchaseRepository
from easyisp_core.repositories.mpesa_payments import ReceiptRepository, WalletCustomerRepository
from easyisp_core.repositories.mpesa_status_queries import StatusQueryRepository
from easyisp_core.schemas.gateway_config import MpesaGatewayConfig
from easyisp_core.services.mpesa_credit import credit_receipt

Outcome = MpesaCallbackOutcome
# M-Pesa receipts are ten upper-case letters and digits (older ones shorter).
RECEIPT = re.compile(r"^[A-Z0-9]{8,12}$")
# The answer can outrun our record of the question (Daraja answered before the service
# committed the OriginatorConversationID): it waits this long before going to review.
UNMATCHED_ANSWER_GRACE = timedelta(minutes=2)
ORIGINS = ("console", "portal")


@dataclass(frozen=True)
class StatusQuestion:
    id: uuid.UUID
    receipt: str
    state: StatusQueryState
    # False when a question about this receipt was already waiting (no second one is sent).
    new: bool


@dataclass(frozen=True)
class StatusQueryRow:
    """One question as the console lists it."""

    id: uuid.UUID
    receipt: str
    customer_id: uuid.UUID
    origin: str
    state: str
    result: str | None
    amount: Decimal | None
    created_at: datetime
    finished_at: datetime | None

    @classmethod
    def of(cls, row: MpesaStatusQuery) -> StatusQueryRow:
        return cls(
            row.id,
            row.receipt,
            row.customer_id,
            row.origin,
            str(row.state),
            row.result,
            row.amount,
            row.created_at,
            row.finished_at,
        )


def normalize_receipt(raw: str) -> str:
    receipt = "".join(raw.split()).upper()
    if not RECEIPT.match(receipt):
        raise ValidationFailed({"receipt": f"{raw.strip()!r} is not an M-Pesa receipt code"})
    return receipt


def ask_status(
    session: Session,
    *,
    tenant_id: uuid.UUID,
    customer_id: uuid.UUID,
    receipt: str,
    origin: str = "console",
) -> StatusQuestion:
    """Queue a Transaction Status question about `receipt`, reported as paid by
    `customer_id`. Refused (nothing stored) when the receipt is already credited, the
    customer is not the tenant's, or the tenant has no M-Pesa gateway. A question already
    waiting for this receipt is returned instead of a second one. The caller commits."""
    if origin not in ORIGINS:
        raise ValueError(f"unknown origin {origin!r}")
    code = normalize_receipt(receipt)
    if ReceiptRepository(session).payment_id(code) is not None:
        raise ValidationFailed({"receipt": f"{code} is already credited; nothing changed"})
    customers = WalletCustomerRepository(session)
    if customers.tenant_of(customer_id) != tenant_id:
        raise NotFound("No such customer.")
    queries = StatusQueryRepository(session)
    waiting = queries.open_for(tenant_id, code)
    if waiting is not None:
        return StatusQuestion(waiting.id, code, waiting.state, new=False)
    connection = queries.connection_type(customer_id)
    # Home connections (PPPoE, DHCP, static) pay through the PPPoE gateway.
    purpose = (
        GatewayPurpose.HOTSPOT if connection is ConnectionType.HOTSPOT else GatewayPurpose.PPPOE
    )
    gateway_id = queries.gateway_id_for(tenant_id, purpose)
    if gateway_id is None:
        raise ValidationFailed({"gateway": "M-Pesa payments are not set up for this network"})
    query_id = queries.add(
        tenant_id=tenant_id,
        gateway_id=gateway_id,
        receipt=code,
        customer_id=customer_id,
        origin=origin,
    )
    return StatusQuestion(query_id, code, StatusQueryState.QUEUED, new=True)


def recent_questions(
    session: Session, tenant_id: uuid.UUID, limit: int = 200
) -> list[StatusQueryRow]:
    return [StatusQueryRow.of(r) for r in StatusQueryRepository(session).recent(tenant_id, limit)]


def customer_questions(
    session: Session, customer_id: uuid.UUID, limit: int = 20
) -> list[StatusQueryRow]:
    """The questions asked about one customer's receipts, newest first (the workspace)."""
    rows = StatusQueryRepository(session).for_customer(customer_id, limit)
    return [StatusQueryRow.of(r) for r in rows]


def ask_for_device(
    session: Session, *, tenant_id: uuid.UUID, device_mac: str | None, receipt: str
) -> StatusQuestion | None:
    """The portal's "I have already paid" with a receipt we do not hold: ask M-Pesa about it
    for the hotspot account bound to this device. None (nothing stored) when no account is
    bound to the device or the question is refused (not a receipt, already credited, no
    gateway): the portal then says it could not find the code, as before."""
    if not device_mac:
        return None
    account = HotspotPurchaseRepository(session).device_account(tenant_id, device_mac, [])
    if account is None:
        return None
    try:
        return ask_status(
            session,
            tenant_id=tenant_id,
            customer_id=account.customer_id,
            receipt=receipt,
            origin="portal",
        )
    except EasyIspError:
        # ask_status refuses before it writes anything: the transaction stays clean.
        return None


def record_refused(session: Session, query_id: uuid.UUID, reason: str, now: datetime) -> None:
    """Daraja refused the question, or the gateway cannot ask it: FAILED with the reason."""
    StatusQueryRepository(session).set_state(query_id, StatusQueryState.FAILED, reason, now)


def mark_sent(
    session: Session, query_id: uuid.UUID, originator: str, conversation: str, now: datetime
) -> None:
    StatusQueryRepository(session).set_state(
        query_id,
        StatusQueryState.SENT,
        "asked M-Pesa; waiting for the answer",
        now,
        originator=originator,
        conversation=conversation,
    )


# -- the answers ---------------------------------------------------------------------------

Applied = tuple[Outcome, str | None, uuid.UUID | None]


def originator_of(body: dict[str, Any]) -> str | None:
    """The OriginatorConversationID an answer names (the idempotency key)."""
    result = body.get("Result") if isinstance(body, dict) else None
    source = result if isinstance(result, dict) else body
    value = source.get("OriginatorConversationID") if isinstance(source, dict) else None
    return str(value).strip()[:64] if value else None


def apply_status_answer(
    session: Session, row: MpesaCallback, gateway: PaymentGateway, now: datetime, *, timeout: bool
) -> Applied:
    """Apply a stored Transaction Status answer (result or queue timeout), once."""
    originator = originator_of(row.body)
    queries = StatusQueryRepository(session)
    query = queries.lock_by_originator(originator) if originator else None
    if query is None:
        if now - row.received_at < UNMATCHED_ANSWER_GRACE:
            return Outcome.PENDING, "its question is not recorded yet", None
        return Outcome.REVIEW, "no Transaction Status question of ours has this id", None
    if query.gateway_id != gateway.id:
        return Outcome.REVIEW, "the question was asked through another gateway", None
    if query.state is not StatusQueryState.SENT:
        return Outcome.IGNORED, f"the question was already answered ({query.state})", None
    raw = row.body.get("Result")
    result: dict[str, Any] = raw if isinstance(raw, dict) else {}
    desc = str(result.get("ResultDesc") or "")[:200]
    if timeout:
        reason = f"M-Pesa did not answer in time{': ' + desc if desc else ''}; ask again"
        queries.set_state(query.id, StatusQueryState.TIMEOUT, reason, now)
        return Outcome.APPLIED, reason, None
    if str(result.get("ResultCode")) != "0":
        reason = f"M-Pesa says {result.get('ResultCode')}: {desc or 'no description'}"
        queries.set_state(query.id, StatusQueryState.NOT_FOUND, reason, now)
        return Outcome.REVIEW, f"receipt {query.receipt}: {reason}", None
    params = _parameters(result)
    refusal, amount = _refusal(params, query.receipt, gateway)
    if refusal is not None:
        queries.set_state(query.id, StatusQueryState.REVIEW, refusal, now, amount=amount)
        return Outcome.REVIEW, f"receipt {query.receipt}: {refusal}", None
    assert amount is not None
    customers = WalletCustomerRepository(session)
    if customers.tenant_of(query.customer_id) != gateway.tenant_id:
        reason = "the customer it was reported for is no longer the gateway's"
        queries.set_state(query.id, StatusQueryState.REVIEW, reason, now, amount=amount)
        return Outcome.REVIEW, reason, None
    credit = credit_receipt(
        session,
        customer_id=query.customer_id,
        amount=amount,
        receipt=query.receipt,
        note=f"M-Pesa {query.receipt} (confirmed by Transaction Status)",
        now=now,
    )
    payer = str(params.get("DebitPartyName") or "")[:100]
    if not credit.new:
        text = f"already credited; M-Pesa confirms KES {amount} from {payer}"
        queries.set_state(
            query.id,
            StatusQueryState.CREDITED,
            text,
            now,
            amount=amount,
            payment_id=credit.payment_id,
        )
        return Outcome.IGNORED, f"receipt {query.receipt} was already credited", credit.payment_id
    text = f"credited KES {amount} from {payer}"
    if credit.renewed_until is not None:
        text += f"; package renewed until {credit.renewed_until:%Y-%m-%d %H:%M} UTC"
    queries.set_state(
        query.id, StatusQueryState.CREDITED, text, now, amount=amount, payment_id=credit.payment_id
    )
    return Outcome.APPLIED, None, credit.payment_id


def _parameters(result: dict[str, Any]) -> dict[str, Any]:
    """ResultParameters.ResultParameter as a dict; one item arrives as an object."""
    block = result.get("ResultParameters")
    items = block.get("ResultParameter") if isinstance(block, dict) else None
    if isinstance(items, dict):
        items = [items]
    found: dict[str, Any] = {}
    for item in items if isinstance(items, list) else []:
        if isinstance(item, dict) and "Key" in item:
            found[str(item["Key"])] = item.get("Value")
    return found


def _refusal(
    params: dict[str, Any], receipt: str, gateway: PaymentGateway
) -> tuple[str | None, Decimal | None]:
    """Why a successful answer cannot be credited (None: it can), and the amount."""
    try:
        amount = Decimal(str(params.get("Amount")))
    except (InvalidOperation, ValueError):
        return f"amount {params.get('Amount')!r} is not a number", None
    if not amount.is_finite() or amount <= 0:
        return f"amount {params.get('Amount')!r} is not a payment", None
    amount = amount.quantize(Decimal("0.01"))
    if str(params.get("ReceiptNo") or "").strip().upper() != receipt:
        return f"the answer is about receipt {params.get('ReceiptNo')!r}", amount
    status = str(params.get("TransactionStatus") or "")
    if status != "Completed":
        return f"M-Pesa reports the payment as {status or 'of unknown status'}", amount
    # "600984 - EasyISP Ltd": the party credited must be this gateway's shortcode or till.
    credited = str(params.get("CreditPartyName") or "").split(" - ", 1)[0].strip()
    till = MpesaGatewayConfig.model_validate(gateway.config).till_number
    if credited not in {gateway.shortcode, till}:
        return f"the money went to {params.get('CreditPartyName')!r}, not this gateway", amount
    return None, amount
