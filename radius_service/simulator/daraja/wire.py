"""What every Daraja endpoint of the double shares: error bodies, the rate-limit knob, the
Bearer-token check, JSON parsing, URL rules and the outgoing HTTP client for callbacks."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Coroutine
from typing import Any
from urllib.parse import urlsplit

import httpx
from starlette.requests import Request
from starlette.responses import JSONResponse

from radius_service.simulator.daraja.scenarios import merchant_request_id
from radius_service.simulator.daraja.state import SimulatorState

log = logging.getLogger(__name__)

# Daraja refuses callback URLs that contain these words (protocols.md §1.3).
BLOCKED_URL_WORDS = ("mpesa", "m-pesa", "safaricom", "sql", "exec", "cmd", "query")


class Refusal(Exception):
    """A Daraja error answer, raised from validation and turned into its JSON body."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message

    def response(self) -> JSONResponse:
        return daraja_error(self.status, self.code, self.message)


def bad_request(field: str) -> Refusal:
    return Refusal(400, "400.002.02", f"Bad Request - Invalid {field}")


def daraja_error(status: int, code: str, message: str) -> JSONResponse:
    body = {"requestId": merchant_request_id(), "errorCode": code, "errorMessage": message}
    return JSONResponse(body, status_code=status)


class SimContext:
    """The state plus the means to call merchants back, shared by all handlers."""

    def __init__(self, state: SimulatorState) -> None:
        self.state = state
        self.http: httpx.AsyncClient | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        self.http = httpx.AsyncClient(timeout=30.0)

    async def stop(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        if self.http is not None:
            await self.http.aclose()

    def spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._finished)

    def _finished(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("daraja simulator background work failed", exc_info=task.exception())

    async def post(self, url: str, body: dict[str, Any], timeout: float) -> httpx.Response:
        assert self.http is not None, "the simulator's lifespan has not started"
        return await self.http.post(url, json=body, timeout=timeout)

    def rate_limit_gate(self) -> None:
        """The injected faults: the next N Daraja requests get Spike Arrest answers (rate
        limit) or internal errors (outage)."""
        if self.state.failing_requests > 0:
            self.state.failing_requests -= 1
            raise Refusal(503, "500.003.1001", "Internal Server Error")
        if self.state.rate_limited_requests > 0:
            self.state.rate_limited_requests -= 1
            raise Refusal(self.state.rate_limit_status, "500.003.02", "Spike Arrest Violation")

    def check_token(self, request: Request) -> None:
        header = request.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not self.state.token_valid(token.strip()):
            raise Refusal(404, "404.001.03", "Invalid Access Token")


async def business_request(ctx: SimContext, request: Request) -> dict[str, Any]:
    """Gate and parse a business API call as Daraja does: rate limit, token, JSON body."""
    ctx.rate_limit_gate()
    ctx.check_token(request)
    if not request.headers.get("content-type", "").startswith("application/json"):
        raise Refusal(400, "400.002.02", "Bad Request - Invalid Content-Type")
    try:
        body = json.loads(await request.body())
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise Refusal(400, "400.002.02", "Bad Request - Invalid JSON") from None
    if not isinstance(body, dict):
        raise Refusal(400, "400.002.02", "Bad Request - Invalid JSON")
    return body


def digits_field(body: dict[str, Any], name: str, *, lengths: range) -> str:
    """A numeric code sent as a number or a string ("174379" or 174379)."""
    value = body.get(name)
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise bad_request(name)
    text = str(value).strip()
    if not text.isdigit() or len(text) not in lengths:
        raise bad_request(name)
    return text


def whole_amount(body: dict[str, Any], name: str = "Amount") -> int:
    """Whole shillings, sent as a number or a string; decimals are refused."""
    value = body.get(name)
    if isinstance(value, bool):
        raise bad_request(name)
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if not isinstance(value, int) or value < 1:
        raise bad_request(name)
    return value


def callback_url(body: dict[str, Any], name: str, *, reject_keywords: bool) -> str:
    value = body.get(name)
    if not isinstance(value, str):
        raise bad_request(name)
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise bad_request(name)
    if reject_keywords and any(word in value.lower() for word in BLOCKED_URL_WORDS):
        raise bad_request(name)
    return value
