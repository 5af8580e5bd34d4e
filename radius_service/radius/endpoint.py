"""The asyncio side of a RADIUS UDP socket, shared by the auth and accounting listeners."""

from __future__ import annotations

import asyncio
import logging
from typing import Protocol

log = logging.getLogger(__name__)

Address = tuple[str, int]


class DatagramReceiver(Protocol):
    def received(self, data: bytes, source: Address) -> None: ...

    def count(self, what: str) -> None: ...


class RadiusDatagramProtocol(asyncio.DatagramProtocol):
    """Hands each datagram to its server; a bug for one packet never stops the listener."""

    def __init__(self, server: DatagramReceiver, kind: str) -> None:
        self._server = server
        self._kind = kind

    def datagram_received(self, data: bytes, addr: tuple[str | int, ...]) -> None:
        try:
            self._server.received(data, (str(addr[0]), int(addr[1])))
        except Exception:
            self._server.count("error")
            log.exception("RADIUS %s datagram from %s could not be handled", self._kind, addr[0])

    def error_received(self, exc: Exception) -> None:
        # ICMP port unreachable from a NAS that went away: nothing to do but note it.
        log.debug("RADIUS %s socket error: %s", self._kind, exc)
