"""Run the Starlette app with uvicorn on the service's event loop: start, bound address, stop."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import Iterator

import uvicorn
from starlette.types import ASGIApp

from radius_service.radius.listener import Address, parse_address

log = logging.getLogger(__name__)

DEFAULT_HTTP_PORT = 8080


def http_address(raw: str | None) -> Address | None:
    """Settings.http_addr (EASYISP_HTTP_ADDR): HOST:PORT, default 0.0.0.0:8080; None for
    "off". ValueError when unreadable."""
    if raw is None or not raw.strip():
        return ("0.0.0.0", DEFAULT_HTTP_PORT)  # noqa: S104 - Daraja must reach it
    return parse_address(raw, default_port=DEFAULT_HTTP_PORT)


class _ServiceOwnedSignals(uvicorn.Server):
    """The site service owns SIGTERM/SIGINT (install_stop_signals); uvicorn must not take
    them over, or a stop would reach only the HTTP server."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


class HttpServer:
    """A uvicorn server bound to `address` (port 0 picks a free one; see .address)."""

    def __init__(self, app: ASGIApp, address: Address) -> None:
        self.app = app
        self.requested = address
        self.address: Address | None = None
        self._server: uvicorn.Server | None = None
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Bind and serve; OSError when the address is taken."""
        family = socket.AF_INET6 if ":" in self.requested[0] else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind(self.requested)
        except OSError:
            sock.close()
            raise
        host, port = sock.getsockname()[:2]
        self.address = (host, port)
        config = uvicorn.Config(
            self.app,
            log_config=None,
            access_log=False,
            lifespan="off",
            # Daraja retries a callback it got no answer for; a short keep-alive is enough.
            timeout_keep_alive=5,
            timeout_graceful_shutdown=5,
        )
        server = _ServiceOwnedSignals(config)
        self._server = server
        self._task = asyncio.create_task(server.serve(sockets=[sock]), name="http")
        while not server.started:
            if self._task.done():
                self._task.result()  # raises what made it stop
                raise OSError(f"HTTP server on {host}:{port} stopped at start")
            await asyncio.sleep(0.01)
        log.info("HTTP listening on %s:%d", host, port)

    async def stop(self) -> None:
        """Finish requests in progress (and their background tasks), then close."""
        if self._server is None or self._task is None:
            return
        self._server.should_exit = True
        try:
            await self._task
        finally:
            self._server = None
            self._task = None
