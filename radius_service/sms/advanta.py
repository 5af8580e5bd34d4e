"""Advanta-family SMS (Advanta, Celcom: one API, different host; protocols.md §6.2-6.3).

POST {base}/api/services/sendsms/ with JSON apikey/partnerID/message/shortcode/mobile
(comma-separated 2547… numbers). Success lists `responses[]`, each with "response-code" 200
and a messageid; a request-level refusal is a single {"response-code": …} object. Some copies
of the API spell the key "respose-code": both are read.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import httpx

from radius_service.sms.gateway import (
    DeliveryReport,
    DeliveryState,
    SendResult,
    SmsGatewayError,
)
from radius_service.sms.phones import to_e164, to_msisdn
from radius_service.sms.transport import http_status_error, transport_error

ADVANTA_BASE_URL = "https://quicksms.advantasms.com"
CELCOM_BASE_URL = "https://isms.celcomafrica.com"
SEND_PATH = "/api/services/sendsms/"

OK = 200
# response-code -> (reason, retryable)
REFUSALS: dict[int, tuple[str, bool]] = {
    1001: ("Invalid sender id", False),
    1002: ("Network not allowed", False),
    1003: ("Invalid mobile number", False),
    1004: ("Low bulk credits: top up the SMS account", True),
    1005: ("Gateway system error", True),
    1006: ("Invalid credentials: check the API key and partner ID", False),
    1007: ("Gateway system error", True),
    1012: ("Too many messages at once", True),
    4090: ("Gateway internal error (retry in 5 minutes)", True),
    4091: ("No partner ID", False),
    4092: ("No API key", False),
    4093: ("Details not found", False),
}
DELIVERED = frozenset({"DeliveredToTerminal", "Delivered", "DELIVRD"})
FAILED = frozenset(
    {
        "DeliveryImpossible",
        "SenderName Blacklisted",
        "AbsentSubscriber",
        "Expired",
        "Failed",
        "UNDELIV",
        "REJECTD",
        "EXPIRED",
    }
)


def _code(row: Mapping[str, Any]) -> int:
    raw = row.get("response-code", row.get("respose-code"))
    try:
        return int(raw)
    except (TypeError, ValueError):
        return 0


class AdvantaClient:
    def __init__(
        self,
        api_key: str,
        partner_id: str,
        *,
        base_url: str = ADVANTA_BASE_URL,
        provider: str = "ADVANTA",
        timeout: float = 30.0,
    ) -> None:
        self.provider = provider
        self._name = provider.title()
        self._auth = {"apikey": api_key, "partnerID": partner_id}
        self._http = httpx.AsyncClient(
            base_url=base_url.rstrip("/"), timeout=timeout, headers={"Accept": "application/json"}
        )

    async def aclose(self) -> None:
        await self._http.aclose()

    async def send(
        self, recipients: Sequence[str], message: str, sender_id: str | None
    ) -> list[SendResult]:
        numbers = [to_e164(r) for r in recipients]
        body = {
            **self._auth,
            "message": message,
            "shortcode": sender_id or "",
            "mobile": ",".join(to_msisdn(n) for n in numbers),
        }
        try:
            response = await self._http.post(SEND_PATH, json=body)
        except httpx.HTTPError as exc:
            raise transport_error(self._name, exc) from exc
        if not response.is_success:
            raise http_status_error(self._name, response)
        try:
            payload = response.json()
        except ValueError as exc:
            raise SmsGatewayError(
                f"{self._name} answered in an unexpected form: {response.text[:200]!r}",
                retryable=False,
                maybe_sent=True,
            ) from exc
        rows = payload.get("responses") if isinstance(payload, dict) else None
        if not isinstance(rows, list):
            code = _code(payload) if isinstance(payload, dict) else 0
            reason, retryable = REFUSALS.get(code, (f"refused (code {code})", False))
            raise SmsGatewayError(f"{self._name}: {reason}", retryable=retryable)
        by_number = {str(row.get("mobile", "")): row for row in rows if isinstance(row, dict)}
        results = []
        for number in numbers:
            row = by_number.get(to_msisdn(number))
            if row is None:
                results.append(SendResult(number, False, reason=f"not in {self._name}'s answer"))
                continue
            code = _code(row)
            if code == OK:
                message_id = str(row.get("messageid") or "") or None
                results.append(SendResult(number, True, message_id=message_id))
            else:
                reason, retryable = REFUSALS.get(
                    code, (str(row.get("response-description") or f"code {code}"), False)
                )
                results.append(SendResult(number, False, reason=reason, retryable=retryable))
        return results


def parse_delivery_report(fields: Mapping[str, str]) -> DeliveryReport | None:
    """The push DLR {"description": "DeliveredToTerminal", "messageid": "…", …}."""
    message_id = str(fields.get("messageid", "")).strip()
    description = str(fields.get("description", "")).strip()
    if not message_id or not description:
        return None
    if description in DELIVERED:
        return DeliveryReport(message_id, DeliveryState.DELIVERED)
    if description in FAILED:
        return DeliveryReport(message_id, DeliveryState.FAILED, description)
    return DeliveryReport(message_id, DeliveryState.PENDING)
