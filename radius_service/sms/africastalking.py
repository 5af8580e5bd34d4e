"""Africa's Talking SMS over the classic form endpoint (protocols.md §6.1).

POST {base}/version1/messaging, form fields username/to/message[/from], header apiKey.
Each recipient's statusCode 100 (Processed), 101 (Sent) or 102 (Queued) means accepted;
anything else is refused with AT's status word, and retryable only where waiting can help
(a top-up, a routing or gateway fault).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

import httpx

from radius_service.sms.gateway import (
    DeliveryReport,
    DeliveryState,
    SendResult,
    SmsGatewayError,
)
from radius_service.sms.phones import to_e164
from radius_service.sms.transport import http_status_error, transport_error

LIVE_BASE_URL = "https://api.africastalking.com"
SANDBOX_BASE_URL = "https://api.sandbox.africastalking.com"
SEND_PATH = "/version1/messaging"
PROVIDER = "Africa's Talking"

ACCEPTED_CODES = frozenset({100, 101, 102})
# statusCode -> (reason, retryable)
REFUSALS: dict[int, tuple[str, bool]] = {
    401: ("RiskHold: Africa's Talking is holding the account for review", False),
    402: ("InvalidSenderId: the sender ID is not registered for this account", False),
    403: ("InvalidPhoneNumber: not a valid phone number", False),
    404: ("UnsupportedNumberType: this number cannot receive SMS", False),
    405: ("InsufficientBalance: top up the Africa's Talking account", True),
    406: ("UserInBlacklist: the subscriber blocked messages from this sender", False),
    407: ("CouldNotRoute: no route to the subscriber's network", True),
    409: ("DoNotDisturbRejection: the subscriber refuses promotional SMS", False),
    500: ("InternalServerError at Africa's Talking", True),
    501: ("GatewayError at Africa's Talking", True),
    502: ("RejectedByGateway: the network refused the message", True),
}
# DLR status -> state. Rejected/Success/Failed are final; Expired ends the network's retries.
DLR_STATES = {
    "Success": DeliveryState.DELIVERED,
    "Rejected": DeliveryState.FAILED,
    "Failed": DeliveryState.FAILED,
    "Expired": DeliveryState.FAILED,
}


class AfricasTalkingClient:
    provider = "AFRICASTALKING"

    def __init__(
        self, username: str, api_key: str, *, base_url: str = LIVE_BASE_URL, timeout: float = 30.0
    ) -> None:
        self._username = username
        self._http = httpx.AsyncClient(
            base_url=base_url.rstrip("/"),
            timeout=timeout,
            headers={"apiKey": api_key, "Accept": "application/json"},
        )

    async def aclose(self) -> None:
        await self._http.aclose()

    async def send(
        self, recipients: Sequence[str], message: str, sender_id: str | None
    ) -> list[SendResult]:
        numbers = [to_e164(r) for r in recipients]
        form = {"username": self._username, "to": ",".join(numbers), "message": message}
        if sender_id:
            form["from"] = sender_id
        try:
            response = await self._http.post(SEND_PATH, data=form)
        except httpx.HTTPError as exc:
            raise transport_error(PROVIDER, exc) from exc
        if not response.is_success:
            raise http_status_error(PROVIDER, response)
        return _results(numbers, _recipients(response))


def _recipients(response: httpx.Response) -> list[dict[str, Any]]:
    try:
        body = response.json()
        rows = body["SMSMessageData"]["Recipients"]
    except (ValueError, KeyError, TypeError) as exc:
        # AT answered 2xx but not with its usual shape: it may have queued the message.
        raise SmsGatewayError(
            f"{PROVIDER} answered in an unexpected form: {response.text[:200]!r}",
            retryable=False,
            maybe_sent=True,
        ) from exc
    return [row for row in rows if isinstance(row, dict)]


def _results(numbers: list[str], rows: list[dict[str, Any]]) -> list[SendResult]:
    by_number: dict[str, dict[str, Any]] = {}
    for row in rows:
        try:
            by_number[to_e164(str(row.get("number", "")))] = row
        except ValueError:
            by_number[str(row.get("number", ""))] = row
    results = []
    for number in numbers:
        found = by_number.get(number)
        if found is None:
            # Named in the request but absent from the answer: AT dropped it (e.g. a
            # duplicate). Not resent: AT may list it under another spelling.
            results.append(SendResult(number, False, reason="not in Africa's Talking's answer"))
            continue
        results.append(_result(number, found))
    return results


def _result(number: str, row: Mapping[str, Any]) -> SendResult:
    try:
        code = int(row.get("statusCode", 0))
    except (TypeError, ValueError):
        code = 0
    if code in ACCEPTED_CODES:
        return SendResult(
            number,
            True,
            message_id=str(row.get("messageId") or "") or None,
            cost=parse_cost(str(row.get("cost", ""))),
        )
    reason, retryable = REFUSALS.get(code, (f"{row.get('status', 'Unknown')} (code {code})", False))
    return SendResult(number, False, reason=reason, retryable=retryable)


def parse_cost(raw: str) -> Decimal | None:
    """ "KES 0.8000" -> Decimal("0.8000"); anything else -> None."""
    amount = raw.strip().rpartition(" ")[2]
    try:
        return Decimal(amount)
    except InvalidOperation:
        return None


def parse_delivery_report(fields: Mapping[str, str]) -> DeliveryReport | None:
    """AT's form DLR (id, status, phoneNumber, networkCode, failureReason); None if not one."""
    message_id = fields.get("id", "").strip()
    status = fields.get("status", "").strip()
    if not message_id or not status:
        return None
    state = DLR_STATES.get(status, DeliveryState.PENDING)
    reason = None
    if state is DeliveryState.FAILED:
        reason = f"{status}: {fields.get('failureReason') or 'no reason given'}"
    return DeliveryReport(message_id, state, reason)
