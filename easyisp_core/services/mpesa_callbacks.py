"""M-Pesa callbacks: store raw first, then process each one once.

The HTTP entrypoint calls store_raw() and commits (the callback is durable before anything
else happens), replies to Daraja, then calls process() in a new transaction. process() locks
the stored row and does nothing unless it is still PENDING, so running it twice, or from the
retry sweep after a crash, cannot credit twice; a receipt is credited once whichever route
reports it (services.mpesa_credit)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from easyisp_core.errors import ValidationFailed
from easyisp_core.models import MpesaCallback, PaymentGateway
from easyisp_core.models.enums import (
    HotspotPaymentStatus,
    MpesaCallbackKind,
    MpesaCallbackOutcome,
)
from easyisp_core.repositories.mpesa_callbacks import MpesaCallbackRepository, NewCallback
from easyisp_core.repositories.mpesa_payments import (
    PendingPaymentRepository,
    ReceiptRepository,
    SuspenseRepository,
    WalletCustomerRepository,
)
from easyisp_core.rules.mpesa import normalize_account, same_msisdn, source_allowed
from easyisp_core.schemas.gateway_config import MpesaGatewayConfig
from easyisp_core.schemas.mpesa import (
    C2B_ACCEPT,
    C2B_INVALID_ACCOUNT,
    C2B_INVALID_AMOUNT,
    C2B_INVALID_SHORTCODE,
    C2B_OTHER_ERROR,
    C2BNotification,
    StkCallback,
    c2b_reject,
    parse_c2b,
    parse_stk_callback,
)
from easyisp_core.services.mpesa_credit import credit_receipt
from easyisp_core.services.mpesa_status import apply_status_answer, originator_of

log = logging.getLogger(__name__)

Outcome = MpesaCallbackOutcome
# How long after a query-settled STK payment its C2B confirmation is matched to it.
QUERY_SETTLED_WINDOW = timedelta(hours=2)
# A callback can outrun our own record of its push (Daraja answered the push, then called
# back before record_push committed the pending row). One naming no push of ours stays
# PENDING this long (record_push processes it, else the upkeep sweep retries it) before it
# is kept for review, so a quick answer (a cancel, insufficient funds) is not mistaken for
# a forgery.
UNMATCHED_STK_GRACE = timedelta(minutes=2)
STATUS_KINDS = (MpesaCallbackKind.STATUS_RESULT, MpesaCallbackKind.STATUS_TIMEOUT)


@dataclass(frozen=True)
class StoredCallback:
    id: int
    known_gateway: bool
    # PENDING when it still has to be processed; anything else was decided on arrival.
    outcome: MpesaCallbackOutcome


@dataclass(frozen=True)
class Processed:
    outcome: MpesaCallbackOutcome
    reason: str | None = None


def store_raw(
    session: Session,
    *,
    token: str,
    kind: MpesaCallbackKind,
    source: str | None,
    body: dict[str, Any],
) -> StoredCallback:
    """Store one delivery as it arrived. Idempotent: a copy of a stored callback is kept
    beside it (IGNORED when identical, REVIEW when its content differs) and is never
    processed. Unknown tokens and sources outside the gateway's allow-list are kept for
    review. The caller commits before replying."""
    repo = MpesaCallbackRepository(session)
    gateway = repo.gateway_by_token(token)
    external_id, result_code = _identity(kind, body)
    reason = _distrust(gateway, source, external_id)
    new = NewCallback(
        tenant_id=gateway.tenant_id if gateway else None,
        gateway_id=gateway.id if gateway else None,
        kind=kind,
        external_id=external_id,
        result_code=result_code,
        trusted=reason is None,
        source_address=source,
        body=body,
        outcome=Outcome.PENDING if reason is None else Outcome.REVIEW,
        review_reason=reason,
    )
    if reason is not None:
        return StoredCallback(repo.insert(new), gateway is not None, Outcome.REVIEW)
    first = repo.insert_first(new)
    if first is not None:
        return StoredCallback(first, True, Outcome.PENDING)
    original_id, original_body = repo.first_delivery(new)
    if original_body == body:
        copy = NewCallback(
            **{**new.__dict__, "trusted": True, "outcome": Outcome.IGNORED,
               "review_reason": f"duplicate delivery of callback {original_id}"}
        )  # fmt: skip
    else:
        copy = NewCallback(
            **{**new.__dict__, "trusted": True, "outcome": Outcome.REVIEW,
               "review_reason": f"replay of callback {original_id} with different content"}
        )  # fmt: skip
    return StoredCallback(repo.insert(copy, duplicate_of=original_id), True, copy.outcome)


def process(session: Session, callback_id: int, now: datetime) -> Processed:
    """Apply a stored STK result, C2B confirmation or Transaction Status answer, once. The
    caller commits."""
    repo = MpesaCallbackRepository(session)
    row = repo.lock(callback_id)
    if row is None:
        raise ValueError(f"no stored callback {callback_id}")
    if row.outcome is not Outcome.PENDING:
        return Processed(row.outcome, row.review_reason)
    gateway = repo.gateway(row.gateway_id) if row.gateway_id else None
    if gateway is None:
        result: tuple[Processed, Any] = (Processed(Outcome.REVIEW, "gateway removed"), None)
    elif row.kind is MpesaCallbackKind.STK:
        result = _apply_stk(session, row, gateway, now)
    elif row.kind is MpesaCallbackKind.C2B_CONFIRMATION:
        result = _apply_c2b(session, row, gateway, now)
    elif row.kind in STATUS_KINDS:
        outcome, reason, payment = apply_status_answer(
            session, row, gateway, now, timeout=row.kind is MpesaCallbackKind.STATUS_TIMEOUT
        )
        result = (Processed(outcome, reason), payment)
    else:
        result = (Processed(Outcome.IGNORED, "validation requests are answered, not applied"), None)
    processed, payment_id = result
    if processed.outcome is Outcome.PENDING:
        log.info("M-Pesa callback %d left pending: %s", row.id, processed.reason)
        return processed
    repo.set_outcome(row.id, processed.outcome, processed.reason, payment_id, now)
    if processed.outcome is Outcome.REVIEW:
        log.warning("M-Pesa callback %d kept for review: %s", row.id, processed.reason)
    return processed


def decide_validation(session: Session, callback_id: int, now: datetime) -> dict[str, Any]:
    """Answer a C2B validation request (Daraja waits ~8 s): accept when the account names a
    customer of the gateway's tenant and the amount and shortcode are right."""
    repo = MpesaCallbackRepository(session)
    row = repo.lock(callback_id)
    if row is None:
        raise ValueError(f"no stored callback {callback_id}")
    gateway = repo.gateway(row.gateway_id) if row.gateway_id else None
    if gateway is None or row.outcome is Outcome.REVIEW:
        return c2b_reject(C2B_OTHER_ERROR)
    code: str | None
    try:
        c2b = parse_c2b(row.body)
        code, why = _validation_refusal(session, gateway, c2b)
    except ValidationFailed as exc:
        code, why = C2B_OTHER_ERROR, f"malformed: {exc.user_message}"
    if row.outcome is Outcome.PENDING:
        outcome = Outcome.APPLIED if code is None else Outcome.IGNORED
        repo.set_outcome(row.id, outcome, why, None, now)
    return C2B_ACCEPT if code is None else c2b_reject(code)


def _validation_refusal(
    session: Session, gateway: PaymentGateway, c2b: C2BNotification
) -> tuple[str | None, str]:
    if not _our_shortcode(gateway, c2b.business_shortcode):
        return C2B_INVALID_SHORTCODE, f"rejected: shortcode {c2b.business_shortcode}"
    if c2b.trans_amount != c2b.trans_amount.to_integral_value():
        return C2B_INVALID_AMOUNT, f"rejected: amount {c2b.trans_amount} is not whole"
    account = normalize_account(c2b.bill_ref_number)
    customers = WalletCustomerRepository(session)
    if not account or customers.find_by_account(gateway.tenant_id, account) is None:
        return C2B_INVALID_ACCOUNT, f"rejected: no customer with account {c2b.bill_ref_number!r}"
    return None, "accepted"


def _apply_stk(
    session: Session, row: MpesaCallback, gateway: PaymentGateway, now: datetime
) -> tuple[Processed, Any]:
    try:
        stk = parse_stk_callback(row.body)
    except ValidationFailed as exc:
        return Processed(Outcome.REVIEW, f"malformed STK callback: {exc.user_message}"), None
    pendings = PendingPaymentRepository(session)
    pending = pendings.lock_by_checkout(stk.checkout_request_id)
    if pending is None:
        if now - row.received_at < UNMATCHED_STK_GRACE:
            return Processed(Outcome.PENDING, "its STK push is not recorded yet"), None
        return Processed(Outcome.REVIEW, "no STK push of ours has this CheckoutRequestID"), None
    if pending.tenant_id != gateway.tenant_id:
        return Processed(Outcome.REVIEW, "the STK push belongs to another tenant"), None
    if (
        pending.merchant_request_id
        and stk.merchant_request_id
        and pending.merchant_request_id != stk.merchant_request_id
    ):
        return Processed(Outcome.REVIEW, "MerchantRequestID differs from the STK push"), None
    if not stk.succeeded:
        if pending.status is HotspotPaymentStatus.COMPLETED:
            return Processed(Outcome.IGNORED, "failure reported after the payment completed"), None
        pendings.mark(pending.id, HotspotPaymentStatus.FAILED, stk.result_code, stk.result_desc)
        return Processed(Outcome.APPLIED, f"failed {stk.result_code}: {stk.result_desc}"), None
    mismatch = _stk_mismatch(stk, pending.amount, pending.phone)
    if mismatch:
        return Processed(Outcome.REVIEW, mismatch), None
    assert stk.receipt is not None
    assert stk.amount is not None
    if pending.customer_id is None:
        # Money was taken but nobody to credit: staff assign it from the suspense list.
        SuspenseRepository(session).add(
            _suspense_values(
                row, stk.receipt, stk.amount, stk.phone, None, None, stk.paid_at,
                "the STK push names no customer",
            )
        )  # fmt: skip
        # Paid all the same: the portal stops waiting and says so (no payment row yet).
        pendings.mark(pending.id, HotspotPaymentStatus.COMPLETED, 0, stk.result_desc)
        return Processed(Outcome.SUSPENSE, "the STK push names no customer"), None
    # Receipt first, then the customer: the lock order credit_receipt() relies on.
    ReceiptRepository(session).lock(stk.receipt)
    customers = WalletCustomerRepository(session)
    customers.lock(pending.customer_id)
    # The package chosen on the portal is the one bought.
    customers.set_package(pending.customer_id, pending.package_id)
    credit = credit_receipt(
        session,
        customer_id=pending.customer_id,
        amount=stk.amount,
        receipt=stk.receipt,
        note=f"M-Pesa STK {stk.receipt}",
        now=now,
    )
    pendings.mark(pending.id, HotspotPaymentStatus.COMPLETED, 0, stk.result_desc, credit.payment_id)
    if not credit.new:
        return Processed(Outcome.IGNORED, f"receipt {stk.receipt} was already credited"), (
            credit.payment_id
        )
    return Processed(Outcome.APPLIED), credit.payment_id


def _stk_mismatch(stk: StkCallback, amount: Any, phone: str) -> str | None:
    if stk.amount != amount:
        return f"amount {stk.amount} differs from the {amount} requested"
    if not same_msisdn(stk.phone, phone):
        return f"phone {stk.phone} differs from the {phone} the push went to"
    return None


def _apply_c2b(
    session: Session, row: MpesaCallback, gateway: PaymentGateway, now: datetime
) -> tuple[Processed, Any]:
    try:
        c2b = parse_c2b(row.body)
    except ValidationFailed as exc:
        return Processed(Outcome.REVIEW, f"malformed C2B confirmation: {exc.user_message}"), None
    if not _our_shortcode(gateway, c2b.business_shortcode):
        return Processed(
            Outcome.REVIEW, f"shortcode {c2b.business_shortcode} is not this gateway's"
        ), None
    customer_id = WalletCustomerRepository(session).find_by_account(
        gateway.tenant_id, normalize_account(c2b.bill_ref_number)
    )
    if customer_id is None:
        receipts = ReceiptRepository(session)
        receipts.lock(c2b.receipt)
        credited = receipts.payment_id(c2b.receipt)
        if credited is not None:
            return Processed(Outcome.IGNORED, f"receipt {c2b.receipt} was already credited"), (
                credited
            )
        reason = f"no customer with account {c2b.bill_ref_number!r}"
        SuspenseRepository(session).add(
            _suspense_values(
                row, c2b.receipt, c2b.trans_amount, c2b.msisdn, c2b.bill_ref_number,
                c2b.payer_name, c2b.paid_at, reason,
            )
        )  # fmt: skip
        return Processed(Outcome.SUSPENSE, reason), None
    adopted = _adopt_query_settled(session, customer_id, c2b, now)
    if adopted is not None:
        reason = f"receipt {c2b.receipt} is the STK push already settled by STK Push Query"
        return Processed(Outcome.IGNORED, reason), adopted
    credit = credit_receipt(
        session,
        customer_id=customer_id,
        amount=c2b.trans_amount,
        receipt=c2b.receipt,
        note=f"M-Pesa paybill {c2b.receipt}",
        now=now,
    )
    if not credit.new:
        return Processed(Outcome.IGNORED, f"receipt {c2b.receipt} was already credited"), (
            credit.payment_id
        )
    return Processed(Outcome.APPLIED), credit.payment_id


def _adopt_query_settled(
    session: Session, customer_id: Any, c2b: C2BNotification, now: datetime
) -> Any:
    """A paybill STK payment is also reported by C2B. When the push was settled by STK Push
    Query (no receipt then: the payment's transaction id is the CheckoutRequestID), this
    confirmation's receipt is that payment's: give it the real receipt instead of crediting
    the money twice. The payment id, or None."""
    receipts = ReceiptRepository(session)
    receipts.lock(c2b.receipt)
    if receipts.payment_id(c2b.receipt) is not None:
        return None  # credited already: credit_receipt() returns that payment
    return receipts.adopt_query_settled(
        customer_id, c2b.trans_amount, c2b.receipt, now - QUERY_SETTLED_WINDOW
    )


def _suspense_values(
    row: MpesaCallback,
    receipt: str,
    amount: Any,
    msisdn: str | None,
    account: str | None,
    payer: str | None,
    paid_at: datetime | None,
    reason: str,
) -> dict[str, Any]:
    return {
        "tenant_id": row.tenant_id,
        "receipt": receipt,
        "amount": amount,
        "callback_id": row.id,
        "msisdn": (msisdn or None) and msisdn[:64],
        "account_reference": (account or None) and account[:40],
        "payer_name": (payer or None) and payer[:200],
        "paid_at": paid_at,
        "reason": reason[:300],
    }


def _our_shortcode(gateway: PaymentGateway, shortcode: str) -> bool:
    till = MpesaGatewayConfig.model_validate(gateway.config).till_number
    return shortcode in {gateway.shortcode, till}


def _identity(kind: MpesaCallbackKind, body: dict[str, Any]) -> tuple[str | None, int]:
    """The idempotency key (CheckoutRequestID, TransID or the Transaction Status answer's
    OriginatorConversationID) and STK result code, read
    leniently: a body without them is stored all the same and kept for review."""
    if kind is MpesaCallbackKind.STK:
        stk = body.get("Body", {}).get("stkCallback", {}) if isinstance(body, dict) else {}
        if not isinstance(stk, dict):
            return None, 0
        checkout = stk.get("CheckoutRequestID")
        try:
            code = int(stk.get("ResultCode", 0))
        except (TypeError, ValueError):
            code = -1
        return (str(checkout)[:64] if checkout else None), code
    if kind in STATUS_KINDS:
        return originator_of(body), 0
    trans_id = body.get("TransID") if isinstance(body, dict) else None
    return (str(trans_id).strip().upper()[:64] if trans_id else None), 0


def _distrust(
    gateway: PaymentGateway | None, source: str | None, external_id: str | None
) -> str | None:
    """Why a delivery cannot be trusted, or None."""
    if gateway is None:
        return "unknown callback token"
    allowed = MpesaGatewayConfig.model_validate(gateway.config).allowed_callback_ips
    if not source_allowed(source, allowed):
        return f"source address {source} is not in the gateway's allow-list"
    if external_id is None:
        return "not a Daraja callback (no CheckoutRequestID / TransID)"
    return None
