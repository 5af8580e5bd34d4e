"""M-Pesa Express on the double: push validation as Daraja does it, the simulated customer's
answer per scenario, the callback to CallBackURL, and STK Push Query (protocols.md §1.3-1.4)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from datetime import UTC, datetime
from typing import Any

import httpx
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from radius_service.mpesa.password import parse_stk_timestamp, stk_password
from radius_service.simulator.daraja.scenarios import (
    OUTCOMES,
    Scenario,
    checkout_request_id,
    merchant_request_id,
    receipt_number,
    scenario_by_rule,
    stk_callback_body,
)
from radius_service.simulator.daraja.state import StkTransaction
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

MSISDN = re.compile(r"^254[17]\d{8}$")
TRANSACTION_TYPES = ("CustomerPayBillOnline", "CustomerBuyGoodsOnline")
SHORTCODE_LENGTHS = range(5, 8)
ACCEPTED = "Success. Request accepted for processing"
QUERY_ACCEPTED = "The service request has been accepted successsfully"  # sic, as Daraja spells it
CALLBACK_TIMEOUT = 10.0


def check_password(ctx: SimContext, body: dict[str, Any]) -> str:
    """Shortcode, Timestamp and Password, checked in Daraja's order; returns the shortcode."""
    shortcode = digits_field(body, "BusinessShortCode", lengths=SHORTCODE_LENGTHS)
    timestamp = body.get("Timestamp")
    try:
        parse_stk_timestamp(str(timestamp))
    except ValueError:
        raise bad_request("Timestamp") from None
    if shortcode != ctx.state.config.shortcode:
        raise Refusal(500, "500.001.1001", "Merchant does not exist")
    expected = stk_password(shortcode, ctx.state.config.passkey, str(timestamp))
    if body.get("Password") != expected:
        raise Refusal(500, "500.001.1001", "Wrong credentials")
    return shortcode


def _msisdn(body: dict[str, Any], name: str) -> str:
    value = str(body.get(name, "")).strip()
    if not MSISDN.match(value):
        raise bad_request(name)
    return value


def validate_push(ctx: SimContext, body: dict[str, Any]) -> StkTransaction:
    shortcode = check_password(ctx, body)
    transaction_type = body.get("TransactionType")
    if transaction_type not in TRANSACTION_TYPES:
        raise bad_request("TransactionType")
    amount = whole_amount(body)
    _msisdn(body, "PartyA")
    party_b = digits_field(body, "PartyB", lengths=SHORTCODE_LENGTHS)
    if transaction_type == "CustomerPayBillOnline" and party_b != shortcode:
        raise bad_request("PartyB")
    phone = _msisdn(body, "PhoneNumber")
    url = callback_url(body, "CallBackURL", reject_keywords=ctx.state.config.reject_keyword_urls)
    reference = body.get("AccountReference")
    if not isinstance(reference, str) or not 1 <= len(reference) <= 12:
        raise bad_request("AccountReference")
    description = body.get("TransactionDesc", "")
    if not isinstance(description, str) or len(description) > 13:
        raise bad_request("TransactionDesc")
    if ctx.state.config.lock_subscriber and ctx.state.pending_for(phone):
        raise Refusal(
            500,
            "500.001.1001",
            "Unable to lock subscriber, a transaction is already in process for the current "
            "subscriber",
        )
    now = datetime.now(UTC)
    return StkTransaction(
        checkout_request_id=checkout_request_id(now),
        merchant_request_id=merchant_request_id(),
        shortcode=shortcode,
        phone=phone,
        amount=amount,
        account_reference=reference,
        callback_url=url,
        scenario=_pick_scenario(ctx, phone),
        created_at=now,
    )


def _pick_scenario(ctx: SimContext, phone: str) -> Scenario:
    if ctx.state.next_scenarios:
        return ctx.state.next_scenarios.popleft()
    return ctx.state.default_scenario or scenario_by_rule(phone)


async def stk_push(ctx: SimContext, request: Request) -> Response:
    try:
        body = await business_request(ctx, request)
        transaction = validate_push(ctx, body)
    except Refusal as refusal:
        return refusal.response()
    ctx.state.stk[transaction.checkout_request_id] = transaction
    ctx.spawn(_customer_answers(ctx, transaction))
    log.info(
        "simulated STK push %s: KES %d from %s, scenario %s",
        transaction.checkout_request_id,
        transaction.amount,
        transaction.phone,
        transaction.scenario,
    )
    return JSONResponse(
        {
            "MerchantRequestID": transaction.merchant_request_id,
            "CheckoutRequestID": transaction.checkout_request_id,
            "ResponseCode": "0",
            "ResponseDescription": ACCEPTED,
            "CustomerMessage": ACCEPTED,
        }
    )


async def _customer_answers(ctx: SimContext, t: StkTransaction) -> None:
    """Wait for the simulated customer (or a release from the control API), settle the
    transaction, then call the merchant back as the scenario says."""
    config = ctx.state.config
    delay = (
        config.late_callback_delay
        if t.scenario is Scenario.LATE_CALLBACK
        else config.callback_delay
    )
    if delay > 0:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(t.released.wait(), timeout=delay)
    outcome = OUTCOMES[t.scenario]
    t.completed_at = datetime.now(UTC)
    t.result_code = outcome.result_code
    t.result_desc = outcome.result_desc
    if outcome.result_code == 0:
        t.receipt = receipt_number(t.completed_at)
    t.state = "completed"
    if t.scenario is Scenario.NO_CALLBACK:
        log.info("simulated STK %s: callback withheld (no_callback)", t.checkout_request_id)
        return
    body = stk_callback_body(
        merchant_request_id=t.merchant_request_id,
        checkout_request_id=t.checkout_request_id,
        outcome=outcome,
        amount=t.amount,
        receipt=t.receipt,
        completed_at=t.completed_at,
        phone=t.phone,
    )
    await _deliver(ctx, t, body)
    if t.scenario is Scenario.DUPLICATE_CALLBACK:
        await _deliver(ctx, t, body)


async def _deliver(ctx: SimContext, t: StkTransaction, body: dict[str, Any]) -> None:
    """One POST, no retry: Daraja does not retry a callback the merchant failed to take."""
    try:
        response = await ctx.post(t.callback_url, body, CALLBACK_TIMEOUT)
    except httpx.HTTPError as exc:
        t.callback_errors.append(f"{type(exc).__name__}: {exc}")
        log.warning("simulated STK callback to %s failed: %s", t.callback_url, exc)
        return
    if 200 <= response.status_code < 300:
        t.callbacks_delivered += 1
    else:
        t.callback_errors.append(f"HTTP {response.status_code}")


async def stk_query(ctx: SimContext, request: Request) -> Response:
    try:
        body = await business_request(ctx, request)
        check_password(ctx, body)
        checkout_id = body.get("CheckoutRequestID")
        transaction = ctx.state.stk.get(str(checkout_id))
        if transaction is None:
            raise bad_request("CheckoutRequestID")
        if transaction.state == "pending":
            raise Refusal(500, "500.001.1001", "The transaction is being processed")
    except Refusal as refusal:
        return refusal.response()
    return JSONResponse(
        {
            "ResponseCode": "0",
            "ResponseDescription": QUERY_ACCEPTED,
            "MerchantRequestID": transaction.merchant_request_id,
            "CheckoutRequestID": transaction.checkout_request_id,
            # A string here, unlike the callback's number.
            "ResultCode": str(transaction.result_code),
            "ResultDesc": transaction.result_desc,
        }
    )
