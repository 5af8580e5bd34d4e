"""Paybill/till payments on the double: URL registration, the sandbox simulate call that
drives validation then confirmation, and Transaction Status (protocols.md §1.5-1.6)."""

from __future__ import annotations

import hashlib
import logging
import secrets
from datetime import UTC, datetime
from typing import Any

import httpx
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from radius_service.simulator.daraja.scenarios import (
    conversation_id,
    eat_timestamp,
    receipt_number,
)
from radius_service.simulator.daraja.state import C2bPayment, C2bRegistration
from radius_service.simulator.daraja.stk import MSISDN, SHORTCODE_LENGTHS
from radius_service.simulator.daraja.wire import (
    Refusal,
    SimContext,
    bad_request,
    business_request,
    callback_url,
    digits_field,
    whole_amount,
)

log = logging.getLogger(__name__)

COMMAND_IDS = {"CustomerPayBillOnline": "Pay Bill", "CustomerBuyGoodsOnline": "Buy Goods"}
ACCEPTED = "Accept the service request successfully."
NOTIFY_TIMEOUT = 10.0
# Sandbox payers: names M-Pesa reports with each payment.
NAMES = (("JOHN", "KAMAU", "DOE"), ("MARY", "", "WANJIKU"), ("PETER", "OTIENO", "ODHIAMBO"))


def _version(request: Request) -> int:
    return int(request.path_params["version"])


async def register_urls(ctx: SimContext, request: Request) -> Response:
    reject = ctx.state.config.reject_keyword_urls
    try:
        body = await business_request(ctx, request)
        shortcode = digits_field(body, "ShortCode", lengths=SHORTCODE_LENGTHS)
        if shortcode != ctx.state.config.shortcode:
            raise bad_request("ShortCode")
        response_type = body.get("ResponseType")
        if response_type not in ("Completed", "Cancelled"):
            raise bad_request("ResponseType")
        confirmation = callback_url(body, "ConfirmationURL", reject_keywords=reject)
        validation = callback_url(body, "ValidationURL", reject_keywords=reject)
    except Refusal as refusal:
        return refusal.response()
    # The sandbox lets a shortcode re-register; production answers "Urls are already registered".
    ctx.state.c2b_urls[shortcode] = C2bRegistration(
        shortcode, str(response_type), confirmation, validation, _version(request)
    )
    return JSONResponse(
        {
            "OriginatorCoversationID": _originator_id(),  # sic: Daraja's spelling
            "ResponseCode": "0",
            "ResponseDescription": "Success",
        }
    )


async def simulate(ctx: SimContext, request: Request) -> Response:
    try:
        body = await business_request(ctx, request)
        shortcode = digits_field(body, "ShortCode", lengths=SHORTCODE_LENGTHS)
        registration = ctx.state.c2b_urls.get(shortcode)
        if registration is None:
            raise bad_request("ShortCode")
        command = body.get("CommandID")
        if command not in COMMAND_IDS:
            raise bad_request("CommandID")
        amount = whole_amount(body)
        msisdn = str(body.get("Msisdn", "")).strip()
        if not MSISDN.match(msisdn):
            raise bad_request("Msisdn")
        bill_ref = body.get("BillRefNumber")
        if bill_ref is not None and (not isinstance(bill_ref, str) or len(bill_ref) > 20):
            raise bad_request("BillRefNumber")
    except Refusal as refusal:
        return refusal.response()
    now = datetime.now(UTC)
    payment = C2bPayment(receipt_number(now), shortcode, amount, msisdn, bill_ref, now)
    ctx.state.c2b.append(payment)
    ctx.spawn(_notify(ctx, registration, payment, COMMAND_IDS[str(command)]))
    return JSONResponse(
        {
            "OriginatorCoversationID": _originator_id(),
            "ResponseCode": "0",
            "ResponseDescription": ACCEPTED,
        }
    )


def _masked(msisdn: str, version: int) -> str:
    """v1 sends the SHA-256 of the number, v2 a masked form such as `2547 ***** 126`."""
    if version == 1:
        return hashlib.sha256(msisdn.encode()).hexdigest()
    return f"{msisdn[:4]} ***** {msisdn[-3:]}"


def notification_body(
    payment: C2bPayment, transaction_type: str, version: int, balance: str
) -> dict[str, Any]:
    first, middle, last = NAMES[int(payment.msisdn) % len(NAMES)]
    return {
        "TransactionType": transaction_type,
        "TransID": payment.trans_id,
        "TransTime": eat_timestamp(payment.created_at),
        "TransAmount": f"{payment.amount}.00",
        "BusinessShortCode": payment.shortcode,
        "BillRefNumber": payment.bill_ref_number or "",
        "InvoiceNumber": "",
        "OrgAccountBalance": balance,
        "ThirdPartyTransID": "",
        "MSISDN": _masked(payment.msisdn, version),
        "FirstName": first,
        "MiddleName": middle,
        "LastName": last,
    }


async def _notify(
    ctx: SimContext, registration: C2bRegistration, payment: C2bPayment, transaction_type: str
) -> None:
    """Validation first (when enabled), then confirmation, as M-Pesa does."""
    config = ctx.state.config
    if config.c2b_external_validation:
        body = notification_body(payment, transaction_type, registration.version, "")
        verdict = await _validate(ctx, registration, body, config.c2b_validation_timeout)
        payment.validation_result = verdict
        if verdict == "timeout":
            # No answer in time: M-Pesa applies the registered ResponseType.
            if registration.response_type == "Cancelled":
                payment.state = "cancelled"
                return
        elif verdict != "0":
            payment.state = "rejected"
            return
    confirmed = sum(p.amount for p in ctx.state.c2b if p.state == "confirmed") + payment.amount
    body = notification_body(payment, transaction_type, registration.version, f"{confirmed}.00")
    payment.state = "confirmed"
    try:
        response = await ctx.post(registration.confirmation_url, body, NOTIFY_TIMEOUT)
    except httpx.HTTPError as exc:
        log.warning(
            "simulated C2B confirmation to %s failed: %s", registration.confirmation_url, exc
        )
        return
    if 200 <= response.status_code < 300:
        payment.confirmations_delivered += 1


async def _validate(
    ctx: SimContext, registration: C2bRegistration, body: dict[str, Any], timeout: float
) -> str:
    """The merchant's ResultCode as a string ("0" accepts), or "timeout" when none came."""
    try:
        response = await ctx.post(registration.validation_url, body, timeout)
        answer = response.json()
    except (httpx.HTTPError, ValueError):
        return "timeout"
    if response.status_code != 200 or not isinstance(answer, dict) or "ResultCode" not in answer:
        return "timeout"
    return str(answer["ResultCode"])


async def transaction_status(ctx: SimContext, request: Request) -> Response:
    reject = ctx.state.config.reject_keyword_urls
    try:
        body = await business_request(ctx, request)
        for name in ("Initiator", "SecurityCredential"):
            if not isinstance(body.get(name), str) or not body[name]:
                raise bad_request(name)
        if body.get("CommandID") != "TransactionStatusQuery":
            raise bad_request("CommandID")
        transaction_id = body.get("TransactionID") or body.get("OriginalConversationID")
        if not isinstance(transaction_id, str) or not transaction_id:
            raise bad_request("TransactionID")
        digits_field(body, "PartyA", lengths=range(5, 13))
        if str(body.get("IdentifierType")) not in ("1", "2", "4"):
            raise bad_request("IdentifierType")
        result_url = callback_url(body, "ResultURL", reject_keywords=reject)
        timeout_url = callback_url(body, "QueueTimeOutURL", reject_keywords=reject)
    except Refusal as refusal:
        return refusal.response()
    now = datetime.now(UTC)
    originator, conversation = _originator_id(), conversation_id(now)
    query = {"transaction_id": transaction_id, "conversation_id": conversation, "delivered": False}
    ctx.state.status_queries.append(query)
    if ctx.state.status_timeouts > 0:
        ctx.state.status_timeouts -= 1
        query["timed_out"] = True
        result = status_timeout(originator, conversation)
        ctx.spawn(_send_result(ctx, timeout_url, result, query))
    else:
        result = status_result(ctx, transaction_id, originator, conversation, body, now)
        ctx.spawn(_send_result(ctx, result_url, result, query))
    return JSONResponse(
        {
            "OriginatorConversationID": originator,
            "ConversationID": conversation,
            "ResponseCode": "0",
            "ResponseDescription": ACCEPTED,
        }
    )


def status_result(
    ctx: SimContext,
    transaction_id: str,
    originator: str,
    conversation: str,
    request: dict[str, Any],
    now: datetime,
) -> dict[str, Any]:
    known = ctx.state.receipts().get(transaction_id)
    result: dict[str, Any] = {
        "ResultType": 0,
        "OriginatorConversationID": originator,
        "ConversationID": conversation,
        "TransactionID": receipt_number(now),
        "ReferenceData": {
            # One item arrives as an object, not a list (protocols.md §1.6).
            "ReferenceItem": {"Key": "Occasion", "Value": request.get("Occasion", "")}
        },
    }
    if known is None:
        # Daraja's exact code for an unknown receipt is not documented; this one is ours.
        result["ResultCode"] = "R000001"
        result["ResultDesc"] = "The transaction receipt number does not exist."
        return {"Result": result}
    at = eat_timestamp(known["at"] or now)
    shortcode = ctx.state.config.shortcode
    result["ResultCode"] = 0
    result["ResultDesc"] = "The service request is processed successfully."
    result["ResultParameters"] = {
        "ResultParameter": [
            {"Key": "DebitPartyName", "Value": f"{known['msisdn']} - JOHN DOE"},
            {"Key": "CreditPartyName", "Value": f"{shortcode} - EasyISP Sandbox"},
            {"Key": "OriginatorConversationID", "Value": originator},
            {"Key": "InitiatedTime", "Value": int(at)},
            {"Key": "DebitAccountType", "Value": "MMF Account For Customer"},
            {"Key": "DebitPartyCharges", "Value": ""},
            {"Key": "TransactionReason", "Value": ""},
            {"Key": "ReasonType", "Value": "Pay Bill Online"},
            {"Key": "TransactionStatus", "Value": "Completed"},
            {"Key": "FinalisedTime", "Value": int(at)},
            {"Key": "Amount", "Value": known["amount"]},
            {"Key": "ConversationID", "Value": conversation},
            {"Key": "ReceiptNo", "Value": transaction_id},
        ]
    }
    return {"Result": result}


def status_timeout(originator: str, conversation: str) -> dict[str, Any]:
    """What the QueueTimeOutURL receives when the request expired in M-Pesa's queue. Daraja
    documents no body for it; this is the Result shape with the broker's timeout code, and
    the service only relies on OriginatorConversationID."""
    return {
        "Result": {
            "ResultType": 1,
            "ResultCode": "SFC_IC0003",
            "ResultDesc": "The request timed out in the queue.",
            "OriginatorConversationID": originator,
            "ConversationID": conversation,
            "TransactionID": "",
        }
    }


async def _send_result(
    ctx: SimContext, url: str, result: dict[str, Any], query: dict[str, Any]
) -> None:
    try:
        response = await ctx.post(url, result, NOTIFY_TIMEOUT)
    except httpx.HTTPError as exc:
        log.warning("simulated transaction status result to %s failed: %s", url, exc)
        return
    query["delivered"] = 200 <= response.status_code < 300


def _originator_id() -> str:
    return f"{secrets.randbelow(90000) + 10000}-{secrets.randbelow(9 * 10**7) + 10**7}-1"
