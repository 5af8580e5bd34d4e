"""Run the simulator on its own event-loop thread (the aiosmtpd controller pattern), so
blocking code and tests can talk to it over real TCP."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Mapping

from radius_service.simulator.routeros.server import Address, RouterSimulator
from radius_service.simulator.routeros.sessions import seed_sessions
from radius_service.simulator.routeros.state import RouterState
from radius_service.simulator.routeros.tls import SelfSignedCertificate, make_self_signed


class SimulatorThread:
    def __init__(
        self,
        version: str = "7.16",
        *,
        users: Mapping[str, str] | None = None,
        sessions: int = 0,
        tls: bool = False,
        identity: str = "MikroTik",
    ) -> None:
        self.state = RouterState(version, identity=identity, users=users or {"admin": "admin-pass"})
        seed_sessions(self.state, sessions)
        self.certificate: SelfSignedCertificate | None = make_self_signed() if tls else None
        self.simulator = RouterSimulator(
            self.state,
            tls_listen=("127.0.0.1", 0) if tls else None,
            tls_context=self.certificate.server_context() if self.certificate else None,
        )
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self.loop.run_forever, name="routeros-sim", daemon=True
        )

    @property
    def address(self) -> Address:
        assert self.simulator.address is not None
        return self.simulator.address

    @property
    def tls_address(self) -> Address:
        assert self.simulator.tls_address is not None
        return self.simulator.tls_address

    def start(self) -> SimulatorThread:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self.simulator.start(), self.loop).result(timeout=10)
        return self

    def pause(self) -> None:
        """Go off the air like a router switched off: stop listening, hang up every client."""
        asyncio.run_coroutine_threadsafe(self.simulator.stop(), self.loop).result(timeout=10)

    def resume(self) -> None:
        """Come back on the same port(s) after pause()."""
        asyncio.run_coroutine_threadsafe(self.simulator.start(), self.loop).result(timeout=10)

    def stop(self) -> None:
        asyncio.run_coroutine_threadsafe(self.simulator.stop(), self.loop).result(timeout=10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout=10)
        self.loop.close()
