"""Run an ASGI app (the Daraja double, or a test's callback recorder) on uvicorn in a
background thread, on a port the OS picks, with a clean start/stop (the aiosmtpd controller)."""

from __future__ import annotations

import socket
import threading
from types import TracebackType
from typing import Any, Self

import uvicorn

from radius_service.simulator.daraja.app import build_app
from radius_service.simulator.daraja.state import SimulatorConfig, SimulatorState

START_TIMEOUT = 15.0


class ServerThread:
    """`start()` returns once the server accepts connections; `url` is its base URL."""

    def __init__(self, app: Any, host: str = "127.0.0.1", port: int = 0) -> None:
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._socket.bind((host, port))
        self.host, self.port = self._socket.getsockname()[:2]
        config = uvicorn.Config(app, log_level="warning", lifespan="on", access_log=False)
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self._socket]}, daemon=True
        )

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> Self:
        self._thread.start()
        pause = threading.Event()
        for _ in range(int(START_TIMEOUT / 0.02)):
            if self._server.started or not self._thread.is_alive():
                break
            pause.wait(0.02)
        if not self._server.started:
            self.stop()
            raise RuntimeError(f"the HTTP server on {self.url} did not start")
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        if self._thread.is_alive():
            self._thread.join(timeout=START_TIMEOUT)
        self._socket.close()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


class DarajaSimulator(ServerThread):
    """The Daraja double on 127.0.0.1 (tests, the demo): `url` is the Daraja base URL."""

    def __init__(
        self, config: SimulatorConfig | None = None, host: str = "127.0.0.1", port: int = 0
    ) -> None:
        app, self.state = build_app(config or SimulatorConfig())
        self.config = self.state.config
        super().__init__(app, host, port)


def serve_forever(config: SimulatorConfig, host: str, port: int) -> None:
    """Foreground serving for `easyisp simulate mpesa` (Ctrl-C stops it)."""
    app, _ = build_app(config)
    uvicorn.run(app, host=host, port=port, log_level="info")


__all__ = ["DarajaSimulator", "ServerThread", "SimulatorState", "serve_forever"]
