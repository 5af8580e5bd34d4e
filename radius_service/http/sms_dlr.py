"""SMS delivery reports: POST /sms/{token}/dlr, the token being the gateway's unguessable
callback_token (as the M-Pesa callback paths are). Africa's Talking posts a form, Advanta and
Celcom post JSON; either is read (bodies past 16 KiB refused), parsed by the gateway's
provider, and moves the matching SENT row to DELIVERED or FAILED. A report for a message we
do not know is still answered 200: the provider would only retry it."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from urllib.parse import parse_qsl

from sqlalchemy.orm import Session, sessionmaker
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from easyisp_core.services.sms_outbox import apply_delivery_report, gateway_by_token
from radius_service.sms.factory import delivery_report_parser
from radius_service.sms.gateway import DeliveryState

MAX_DLR_BYTES = 16 * 1024


def _utc_now() -> datetime:
    return datetime.now(UTC)


class SmsDeliveryEndpoints:
    def __init__(
        self,
        sessions: sessionmaker[Session],
        counters: Counter[str],
        clock: Callable[[], datetime] = _utc_now,
    ) -> None:
        self.sessions = sessions
        self.counters = counters
        self.clock = clock

    def routes(self) -> list[Route]:
        return [Route("/sms/{token}/dlr", self.delivery_report, methods=["POST"])]

    async def delivery_report(self, request: Request) -> PlainTextResponse:
        self.counters["sms.dlr.received"] += 1
        raw = await _read_limited(request)
        if raw is None:
            return PlainTextResponse("Too large", status_code=413)
        token = str(request.path_params["token"])[:100]
        gateway = await asyncio.to_thread(self._gateway, token)
        if gateway is None:
            self.counters["sms.dlr.unknown_token"] += 1
            return PlainTextResponse("Unknown", status_code=404)
        gateway_id, provider = gateway
        parser = delivery_report_parser(provider)
        report = parser(_fields(raw, request.headers.get("content-type", ""))) if parser else None
        if report is None:
            self.counters["sms.dlr.unreadable"] += 1
            return PlainTextResponse("Unreadable", status_code=400)
        if report.state is not DeliveryState.PENDING:
            delivered = report.state is DeliveryState.DELIVERED
            changed = await asyncio.to_thread(
                self._apply, gateway_id, report.message_id, delivered, report.reason
            )
            self.counters["sms.dlr.applied" if changed else "sms.dlr.unmatched"] += 1
        return PlainTextResponse("OK")

    def _gateway(self, token: str) -> tuple[uuid.UUID, str] | None:
        with self.sessions() as session:
            return gateway_by_token(session, token)

    def _apply(
        self, gateway_id: uuid.UUID, message_id: str, delivered: bool, reason: str | None
    ) -> int:
        with self.sessions() as session, session.begin():
            return apply_delivery_report(
                session, gateway_id, message_id, delivered, reason, self.clock()
            )


async def _read_limited(request: Request) -> bytes | None:
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_DLR_BYTES:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


def _fields(raw: bytes, content_type: str) -> dict[str, str]:
    """Form fields or a flat JSON object, as strings."""
    text = raw.decode("utf-8", "replace")
    if "json" in content_type:
        try:
            value = json.loads(text)
        except ValueError:
            return {}
        return {str(k): str(v) for k, v in value.items()} if isinstance(value, dict) else {}
    return dict(parse_qsl(text, keep_blank_values=True))
