"""The Daraja double on 127.0.0.1:0 and a real HTTP recorder that plays the merchant's
callback endpoints, both on uvicorn in background threads."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, TypeVar

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from radius_service.mpesa.client import DarajaClient
from radius_service.mpesa.retry import RetryPolicy
from radius_service.simulator.daraja.runner import DarajaSimulator, ServerThread
from radius_service.simulator.daraja.state import SimulatorConfig

T = TypeVar("T")
WAIT = 15.0  # a ceiling for things that happen within milliseconds, never a measurement
# Retries without waiting, so rate-limit tests stay fast.
FAST_RETRY = RetryPolicy(attempts=3, delays=(0.0,), rate_limit_delay=0.0)


@dataclass
class Recorded:
    path: str
    body: Any


@dataclass
class CallbackRecorder:
    """Records every POST it receives; answers C2B validation with `validation_answer`."""

    server: ServerThread | None = None
    received: list[Recorded] = field(default_factory=list)
    validation_answer: dict[str, Any] = field(
        default_factory=lambda: {"ResultCode": "0", "ResultDesc": "Accepted"}
    )
    _changed: threading.Condition = field(default_factory=threading.Condition)

    @property
    def url(self) -> str:
        assert self.server is not None
        return self.server.url

    async def endpoint(self, request: Request) -> Response:
        path = request.url.path
        body = await request.json()
        with self._changed:
            self.received.append(Recorded(path, body))
            self._changed.notify_all()
        if path.endswith("/validate"):
            return JSONResponse(self.validation_answer)
        return JSONResponse({"ResultCode": 0, "ResultDesc": "Accepted"})

    def bodies(self, path: str) -> list[Any]:
        with self._changed:
            return [r.body for r in self.received if r.path == path]

    def wait_for(self, path: str, count: int = 1) -> list[Any]:
        with self._changed:
            self._changed.wait_for(
                lambda: sum(r.path == path for r in self.received) >= count, timeout=WAIT
            )
        bodies = self.bodies(path)
        assert len(bodies) >= count, f"{path}: {len(bodies)} of {count} callbacks arrived"
        return bodies


@pytest.fixture
def recorder() -> Iterator[CallbackRecorder]:
    recorder = CallbackRecorder()
    app = Starlette(routes=[Route("/{path:path}", recorder.endpoint, methods=["POST"])])
    with ServerThread(app) as server:
        recorder.server = server
        yield recorder


@pytest.fixture
def sim_config() -> SimulatorConfig:
    return SimulatorConfig(callback_delay=0.0, late_callback_delay=600.0)


@pytest.fixture
def simulator(sim_config: SimulatorConfig) -> Iterator[DarajaSimulator]:
    with DarajaSimulator(sim_config) as sim:
        yield sim


def make_client(sim: DarajaSimulator, **kwargs: Any) -> DarajaClient:
    kwargs.setdefault("retry", FAST_RETRY)
    return DarajaClient(sim.url, sim.config.consumer_key, sim.config.consumer_secret, **kwargs)


def run(work: Callable[[], Awaitable[T]]) -> T:
    async def main() -> T:
        return await work()

    return asyncio.run(main())


def control(sim: DarajaSimulator, path: str, body: dict[str, Any] | None = None) -> Any:
    """Call the simulator's control API (GET without a body, POST with one)."""
    url = f"{sim.url}/simulator/{path}"
    response = httpx.post(url, json=body) if body is not None else httpx.get(url)
    response.raise_for_status()
    return response.json()


def stk_record(sim: DarajaSimulator, checkout_request_id: str) -> dict[str, Any]:
    listing = control(sim, "transactions")
    return next(t for t in listing["stk"] if t["checkout_request_id"] == checkout_request_id)


def wait_until(check: Callable[[], bool]) -> None:
    """Poll the simulator's own record until `check` holds (a ceiling, not a timing test)."""
    done = threading.Event()
    for _ in range(int(WAIT / 0.02)):
        if check():
            return
        done.wait(0.02)
    raise AssertionError("the simulator never reached the expected state")
