"""Daraja callback endpoints (Starlette): store raw, reply at once, then process.

Each request stores the delivery in its own committed transaction before anything else, so a
crash after that point loses nothing. STK results and C2B confirmations are then answered at
once and processed by a background task after the reply (Daraja only needs the
acknowledgement; a slow database must not make it retry). If the process dies before the task
runs, the stored row stays PENDING and the upkeep job's sweep processes it. C2B validation is
answered with the decision itself, so it is decided before the reply (Daraja waits ~8 s).

Paths carry the gateway's unguessable callback token:
  POST /pay/{token}/stk, /pay/{token}/c2b/validation, /pay/{token}/c2b/confirmation,
  /pay/{token}/status/result and /pay/{token}/status/timeout (Transaction Status answers)
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker
from starlette.applications import Starlette
from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import BaseRoute, Route

from easyisp_core.models.enums import MpesaCallbackKind, MpesaCallbackOutcome
from easyisp_core.schemas.mpesa import C2B_CONFIRMATION_ACK, STK_ACK
from easyisp_core.services.mpesa_callbacks import (
    StoredCallback,
    decide_validation,
    process,
    store_raw,
)

log = logging.getLogger(__name__)

# Daraja's bodies are a few hundred bytes; anything far larger is not from Daraja.
MAX_BODY_BYTES = 64 * 1024
Clock = Callable[[], datetime]
Confirm = Callable[[int], Awaitable[bool]]
PROCESS_ATTEMPTS = 3
RETRYABLE_SQLSTATES = {"40P01", "40001"}
# Daraja reads only the HTTP status of a result delivery; this is the usual body.
STATUS_ACK = {"ResultCode": 0, "ResultDesc": "Accepted"}  # deadlock_detected, serialization_failure


def _retryable(exc: DBAPIError) -> bool:
    """A deadlock or serialisation failure: the whole transaction may simply run again."""
    return getattr(exc.orig, "sqlstate", None) in RETRYABLE_SQLSTATES


def _utc_now() -> datetime:
    return datetime.now(UTC)


class CallbackEndpoints:
    """The request handlers, bound to the service's sessions, counters and clock."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        counters: Counter[str],
        clock: Clock = _utc_now,
        confirm: Confirm | None = None,
    ) -> None:
        self.sessions = sessions
        self.counters = counters
        self.clock = clock
        # StkFlow.confirm_callback: False keeps a success callback from being credited.
        self.confirm = confirm

    def routes(self) -> list[Route]:
        return [
            Route("/health", self.health, methods=["GET"]),
            Route("/pay/{token}/stk", self.stk, methods=["POST"]),
            Route("/pay/{token}/c2b/validation", self.c2b_validation, methods=["POST"]),
            Route("/pay/{token}/c2b/confirmation", self.c2b_confirmation, methods=["POST"]),
            Route("/pay/{token}/status/result", self.status_result, methods=["POST"]),
            Route("/pay/{token}/status/timeout", self.status_timeout, methods=["POST"]),
        ]

    async def health(self, _request: Request) -> JSONResponse:
        return JSONResponse({"status": "ok"})

    async def stk(self, request: Request) -> JSONResponse:
        return await self._acknowledged(request, MpesaCallbackKind.STK, STK_ACK)

    async def c2b_confirmation(self, request: Request) -> JSONResponse:
        return await self._acknowledged(
            request, MpesaCallbackKind.C2B_CONFIRMATION, C2B_CONFIRMATION_ACK
        )

    async def status_result(self, request: Request) -> JSONResponse:
        return await self._acknowledged(request, MpesaCallbackKind.STATUS_RESULT, STATUS_ACK)

    async def status_timeout(self, request: Request) -> JSONResponse:
        return await self._acknowledged(request, MpesaCallbackKind.STATUS_TIMEOUT, STATUS_ACK)

    async def c2b_validation(self, request: Request) -> JSONResponse:
        stored = await self._store(request, MpesaCallbackKind.C2B_VALIDATION)
        if isinstance(stored, JSONResponse):
            return stored
        reply = await asyncio.to_thread(self._in_transaction, decide_validation, stored.id)
        return JSONResponse(reply)

    async def _acknowledged(
        self, request: Request, kind: MpesaCallbackKind, ack: dict[str, Any]
    ) -> JSONResponse:
        stored = await self._store(request, kind)
        if isinstance(stored, JSONResponse):
            return stored
        task = None
        if stored.outcome is MpesaCallbackOutcome.PENDING:
            task = BackgroundTask(self._process_in_thread, stored.id)
        return JSONResponse(ack, background=task)

    async def _store(
        self, request: Request, kind: MpesaCallbackKind
    ) -> StoredCallback | JSONResponse:
        self.counters[f"mpesa.{kind.value.lower()}.received"] += 1
        raw = await _read_limited(request)
        if raw is None:
            return JSONResponse({"ResultCode": 1, "ResultDesc": "Too large"}, status_code=413)
        body = _json_object(raw)
        source = request.client.host if request.client else None
        token = str(request.path_params["token"])[:100]
        stored = await asyncio.to_thread(self._store_committed, token, kind, source, body)
        if not stored.known_gateway:
            # Stored for review all the same; the caller learns nothing about other tokens.
            self.counters["mpesa.unknown_token"] += 1
            return JSONResponse({"ResultCode": 1, "ResultDesc": "Unknown"}, status_code=404)
        return stored

    async def _process_in_thread(self, callback_id: int) -> None:
        if self.confirm is not None and not await self.confirm(callback_id):
            return
        for attempt in range(1, PROCESS_ATTEMPTS + 1):
            try:
                await asyncio.to_thread(self._in_transaction, process, callback_id)
                self.counters["mpesa.processed"] += 1
                return
            except DBAPIError as exc:
                if _retryable(exc) and attempt < PROCESS_ATTEMPTS:
                    self.counters["mpesa.process_retries"] += 1
                    continue
                self._failed(callback_id)
                return
            except Exception:
                self._failed(callback_id)
                return

    def _failed(self, callback_id: int) -> None:
        # Left PENDING: the upkeep sweep tries again.
        self.counters["mpesa.process_failures"] += 1
        log.exception("processing M-Pesa callback %d failed; the sweep will retry", callback_id)

    def _store_committed(
        self, token: str, kind: MpesaCallbackKind, source: str | None, body: dict[str, Any]
    ) -> StoredCallback:
        """Durable before the reply: the transaction commits here."""
        with self.sessions() as session, session.begin():
            return store_raw(session, token=token, kind=kind, source=source, body=body)

    def _in_transaction(
        self, work: Callable[[Session, int, datetime], Any], callback_id: int
    ) -> Any:
        with self.sessions() as session, session.begin():
            return work(session, callback_id, self.clock())


async def _read_limited(request: Request) -> bytes | None:
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


def _json_object(raw: bytes) -> dict[str, Any]:
    """The body as JSON; anything else is still stored (under "_unparsed") for review."""
    try:
        value = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        return {"_unparsed": raw.decode("utf-8", "replace")}
    return value if isinstance(value, dict) else {"_unparsed": value}


def build_app(endpoints: CallbackEndpoints, extra: Sequence[BaseRoute] = ()) -> Starlette:
    """The site's HTTP app: the callback endpoints, plus `extra` (the captive portal)."""
    return Starlette(routes=[*endpoints.routes(), *extra])
