"""DarajaClient: the Daraja calls EasyISP makes, over one httpx.AsyncClient per configuration.

Retries follow one rule: a call is repeated only when repeating cannot move money twice.
Token fetches and queries are retried on rate limits and outages; an STK push never is
(a push whose answer was lost may already be on the customer's phone). Any call, the push
included, is resent once after an invalid-token answer: Daraja's gateway refused it before
M-Pesa saw it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from datetime import datetime
from decimal import Decimal, InvalidOperation
from types import TracebackType
from typing import Any, Self

import httpx

from easyisp_core.errors import ValidationFailed
from easyisp_core.rules.phones import normalize_ke_phone
from radius_service.mpesa.errors import (
    DarajaBadRequest,
    DarajaError,
    DarajaInvalidToken,
    DarajaUnavailable,
    classify,
    is_still_processing,
)
from radius_service.mpesa.password import stk_password, stk_timestamp
from radius_service.mpesa.results import (
    C2bRegistration,
    C2bSimulation,
    StkPushAccepted,
    StkQueryResult,
    StkState,
    TransactionStatusAccepted,
    TransactionType,
)
from radius_service.mpesa.retry import NO_RETRY, RetryPolicy, with_retries
from radius_service.mpesa.token import TokenCache

log = logging.getLogger(__name__)

SANDBOX_BASE_URL = "https://sandbox.safaricom.co.ke"
PRODUCTION_BASE_URL = "https://api.safaricom.co.ke"

STK_PUSH_PATH = "/mpesa/stkpush/v1/processrequest"
STK_QUERY_PATH = "/mpesa/stkpushquery/v1/query"
C2B_REGISTER_PATH = "/mpesa/c2b/v{version}/registerurl"
C2B_SIMULATE_PATH = "/mpesa/c2b/v{version}/simulate"
TRANSACTION_STATUS_PATH = "/mpesa/transactionstatus/v1/query"

MAX_ACCOUNT_REFERENCE = 12
MAX_TRANSACTION_DESC = 13
MAX_STK_AMOUNT = 250_000  # KES per transaction (Daraja FAQ)


class DarajaClient:
    """One Daraja application (consumer key/secret) at `base_url`; use as an async context."""

    def __init__(
        self,
        base_url: str,
        consumer_key: str,
        consumer_secret: str,
        *,
        timeout: float = 30.0,
        retry: RetryPolicy | None = None,
        clock: Callable[[], float] = time.monotonic,
        now: Callable[[], datetime] | None = None,
    ) -> None:
        self._http = httpx.AsyncClient(base_url=base_url.rstrip("/"), timeout=timeout)
        self._retry = retry or RetryPolicy()
        self._now = now
        self.tokens = TokenCache(
            self._http, consumer_key, consumer_secret, retry=self._retry, clock=clock
        )

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    async def stk_push(
        self,
        *,
        shortcode: str,
        passkey: str,
        amount: Decimal,
        phone: str,
        callback_url: str,
        account_reference: str,
        description: str = "Payment",
        transaction_type: TransactionType = TransactionType.PAYBILL,
        party_b: str | None = None,
    ) -> StkPushAccepted:
        """Send the payment prompt to `phone`. Never retried: see the module docstring."""
        shillings = whole_shillings(amount)
        msisdn = _phone(phone)
        _check_length("account_reference", account_reference, MAX_ACCOUNT_REFERENCE)
        _check_length("description", description, MAX_TRANSACTION_DESC)
        timestamp = stk_timestamp(self._now() if self._now else None)
        body = {
            "BusinessShortCode": _shortcode(shortcode),
            "Password": stk_password(shortcode, passkey, timestamp),
            "Timestamp": timestamp,
            "TransactionType": str(transaction_type),
            "Amount": shillings,
            "PartyA": msisdn,
            "PartyB": party_b or shortcode,
            "PhoneNumber": msisdn,
            "CallBackURL": callback_url,
            "AccountReference": account_reference,
            "TransactionDesc": description,
        }
        answer = await self._call("STK push", STK_PUSH_PATH, body, NO_RETRY)
        data = _success_body(answer, "STK push")
        accepted = StkPushAccepted(
            merchant_request_id=str(data.get("MerchantRequestID", "")),
            checkout_request_id=str(data.get("CheckoutRequestID", "")),
            response_code=str(data.get("ResponseCode")),
            response_description=str(data.get("ResponseDescription", "")),
            customer_message=str(data.get("CustomerMessage", "")),
        )
        log.info(
            "daraja STK push accepted: %s KES %d to %s (%s)",
            accepted.checkout_request_id,
            shillings,
            msisdn,
            account_reference,
        )
        return accepted

    async def stk_query(
        self, *, shortcode: str, passkey: str, checkout_request_id: str
    ) -> StkQueryResult:
        """Where an STK push stands; PENDING while the customer has not answered."""
        timestamp = stk_timestamp(self._now() if self._now else None)
        body = {
            "BusinessShortCode": _shortcode(shortcode),
            "Password": stk_password(shortcode, passkey, timestamp),
            "Timestamp": timestamp,
            "CheckoutRequestID": checkout_request_id,
        }
        answer = await self._call(
            "STK query", STK_QUERY_PATH, body, self._retry, accept=is_still_processing
        )
        if is_still_processing(answer):
            return StkQueryResult(checkout_request_id, StkState.PENDING)
        data = _success_body(answer, "STK query")
        result_code = str(data.get("ResultCode", ""))
        state = StkState.SUCCEEDED if result_code == "0" else StkState.FAILED
        result = StkQueryResult(
            checkout_request_id=str(data.get("CheckoutRequestID", checkout_request_id)),
            state=state,
            merchant_request_id=_optional_str(data.get("MerchantRequestID")),
            result_code=result_code,
            result_desc=_optional_str(data.get("ResultDesc")),
        )
        log.info("daraja STK query %s: %s (%s)", checkout_request_id, state, result_code)
        return result

    async def register_c2b_urls(
        self,
        *,
        shortcode: str,
        confirmation_url: str,
        validation_url: str,
        response_type: str = "Completed",
        version: int = 1,
    ) -> C2bRegistration:
        """Tell Daraja where to send paybill/till payments (`response_type`: what M-Pesa does
        when our validation URL does not answer in time: "Completed" or "Cancelled")."""
        if response_type not in ("Completed", "Cancelled"):
            raise ValidationFailed({"response_type": "must be Completed or Cancelled"})
        body = {
            "ShortCode": _shortcode(shortcode),
            "ResponseType": response_type,
            "ConfirmationURL": confirmation_url,
            "ValidationURL": validation_url,
        }
        path = C2B_REGISTER_PATH.format(version=_version(version))
        # Not retried: production refuses a second registration ("already registered").
        data = _success_body(await self._call("C2B register", path, body, NO_RETRY), "C2B")
        log.info("daraja C2B URLs registered for %s", shortcode)
        return C2bRegistration(
            # Daraja's own spelling (sic) in this answer.
            originator_conversation_id=str(
                data.get("OriginatorCoversationID", data.get("OriginatorConversationID", ""))
            ),
            response_code=str(data.get("ResponseCode")),
            response_description=str(data.get("ResponseDescription", "")),
        )

    async def simulate_c2b(
        self,
        *,
        shortcode: str,
        amount: Decimal,
        phone: str,
        bill_ref_number: str | None,
        command_id: TransactionType = TransactionType.PAYBILL,
        version: int = 1,
    ) -> C2bSimulation:
        """Sandbox only: make M-Pesa act as if a customer paid the paybill/till."""
        body = {
            "ShortCode": _shortcode(shortcode),
            "CommandID": str(command_id),
            "Amount": whole_shillings(amount),
            "Msisdn": _phone(phone),
            "BillRefNumber": bill_ref_number,
        }
        path = C2B_SIMULATE_PATH.format(version=_version(version))
        data = _success_body(await self._call("C2B simulate", path, body, NO_RETRY), "C2B")
        return C2bSimulation(
            originator_conversation_id=str(
                data.get("OriginatorCoversationID", data.get("OriginatorConversationID", ""))
            ),
            response_code=str(data.get("ResponseCode")),
            response_description=str(data.get("ResponseDescription", "")),
        )

    async def transaction_status(
        self,
        *,
        initiator: str,
        security_credential: str,
        transaction_id: str,
        party_a: str,
        result_url: str,
        queue_timeout_url: str,
        identifier_type: str = "4",
        remarks: str = "Reconciliation",
        occasion: str = "",
    ) -> TransactionStatusAccepted:
        """Ask for a receipt's status; the answer is POSTed to `result_url` later."""
        body = {
            "Initiator": initiator,
            "SecurityCredential": security_credential,
            "CommandID": "TransactionStatusQuery",
            "TransactionID": transaction_id,
            "PartyA": _shortcode(party_a),
            "IdentifierType": identifier_type,
            "ResultURL": result_url,
            "QueueTimeOutURL": queue_timeout_url,
            "Remarks": remarks,
            "Occasion": occasion,
        }
        answer = await self._call("transaction status", TRANSACTION_STATUS_PATH, body, self._retry)
        data = _success_body(answer, "transaction status")
        log.info("daraja transaction status asked for %s", transaction_id)
        return TransactionStatusAccepted(
            originator_conversation_id=str(data.get("OriginatorConversationID", "")),
            conversation_id=str(data.get("ConversationID", "")),
            response_code=str(data.get("ResponseCode")),
            response_description=str(data.get("ResponseDescription", "")),
        )

    async def _call(
        self,
        operation: str,
        path: str,
        body: dict[str, Any],
        retry: RetryPolicy,
        *,
        accept: Callable[[httpx.Response], bool] | None = None,
    ) -> httpx.Response:
        async def attempt() -> httpx.Response:
            return await self._send_authorised(operation, path, body, accept)

        try:
            return await with_retries(operation, attempt, retry)
        except _TokenFailure as failure:
            # The token fetch already made its own retries; the call does not repeat them.
            raise failure.error from failure.error.__cause__

    async def _send_authorised(
        self,
        operation: str,
        path: str,
        body: dict[str, Any],
        accept: Callable[[httpx.Response], bool] | None,
    ) -> httpx.Response:
        token = await self._token(self.tokens.get())
        response = await self._send(operation, path, body, token)
        if _wanted(response, accept):
            return response
        error = classify(response, operation=operation)
        if isinstance(error, DarajaInvalidToken):
            token = await self._token(self.tokens.refresh_after_rejection(token))
            response = await self._send(operation, path, body, token)
            if _wanted(response, accept):
                return response
            error = classify(response, operation=operation)
        log.warning(
            "daraja %s refused: HTTP %s %s %s",
            operation,
            error.status,
            error.error_code,
            error.error_message,
        )
        raise error

    @staticmethod
    async def _token(fetch: Awaitable[str]) -> str:
        try:
            return await fetch
        except DarajaError as exc:
            raise _TokenFailure(exc) from exc

    async def _send(
        self, operation: str, path: str, body: dict[str, Any], token: str
    ) -> httpx.Response:
        try:
            return await self._http.post(
                path, json=body, headers={"Authorization": f"Bearer {token}"}
            )
        except httpx.HTTPError as exc:
            unknown = " (it may still reach the customer: check before sending again)"
            note = unknown if path == STK_PUSH_PATH else ""
            raise DarajaUnavailable(f"Daraja unreachable for {operation}{note}: {exc}") from exc


class _TokenFailure(Exception):
    """Carries a token error past the call's retry loop (it was retried already)."""

    def __init__(self, error: DarajaError) -> None:
        super().__init__(error.user_message)
        self.error = error


def whole_shillings(amount: Decimal | int) -> int:
    """Daraja takes whole shillings only; refuse anything else instead of rounding money."""
    try:
        value = Decimal(amount)
    except (InvalidOperation, TypeError, ValueError):
        raise ValidationFailed({"amount": f"{amount!r} is not an amount"}) from None
    if not value.is_finite() or value != value.to_integral_value():
        raise ValidationFailed({"amount": f"M-Pesa takes whole shillings only, not {amount}"})
    if value < 1:
        raise ValidationFailed({"amount": "M-Pesa takes at least KES 1"})
    if value > MAX_STK_AMOUNT:
        raise ValidationFailed({"amount": f"M-Pesa takes at most KES {MAX_STK_AMOUNT:,}"})
    return int(value)


def _phone(raw: str) -> str:
    try:
        return normalize_ke_phone(raw)
    except ValueError as exc:
        raise ValidationFailed({"phone": str(exc)}) from None


def _shortcode(value: str) -> str:
    if not (value.isdigit() and 5 <= len(value) <= 7):
        raise ValidationFailed({"shortcode": f"{value!r} is not a 5-7 digit M-Pesa shortcode"})
    return value


def _check_length(field: str, value: str, limit: int) -> None:
    if not value or len(value) > limit:
        raise ValidationFailed({field: f"must be 1 to {limit} characters (Daraja's limit)"})


def _version(version: int) -> int:
    if version not in (1, 2):
        raise ValidationFailed({"version": "Daraja's C2B API has versions 1 and 2"})
    return version


def _wanted(response: httpx.Response, accept: Callable[[httpx.Response], bool] | None) -> bool:
    return response.status_code == 200 or (accept is not None and accept(response))


def _success_body(response: httpx.Response, operation: str) -> dict[str, Any]:
    try:
        data = response.json()
    except ValueError:
        data = None
    if not isinstance(data, dict):
        raise DarajaUnavailable(f"Daraja answered {operation} with something that is not JSON")
    if str(data.get("ResponseCode", "")) != "0":
        description = data.get("ResponseDescription") or data.get("errorMessage") or "refused"
        raise DarajaBadRequest(
            f"Daraja refused {operation}: {description}",
            status=response.status_code,
            error_code=_optional_str(data.get("ResponseCode")),
            error_message=str(description),
        )
    return data


def _optional_str(value: object) -> str | None:
    return None if value is None else str(value)
