"""The asyncio side of a RADIUS UDP socket, shared by the auth and accounting listeners."""

from __future__ import annotations

import asyncio
import logging
import socket
import time
from collections import OrderedDict
from typing import Protocol

log = logging.getLogger(__name__)

Address = tuple[str, int]
# A request is the same request when source, identifier and authenticator all match.
RequestKey = tuple[str, int, int, bytes]
# How long a reply is kept to answer a retransmission without deciding or storing again.
DUPLICATE_WINDOW = 10.0
RECEIVE_BUFFER_BYTES = 4 * 1024 * 1024


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


class ReplyCache:
    """Recent replies by request key: a retransmission gets the same bytes back."""

    def __init__(self, max_entries: int, window: float = DUPLICATE_WINDOW) -> None:
        self._max_entries = max_entries
        self._window = window
        self._replies: OrderedDict[RequestKey, tuple[float, bytes]] = OrderedDict()

    def get(self, key: RequestKey) -> bytes | None:
        now = time.monotonic()
        while self._replies:
            oldest_key, (stamp, _raw) = next(iter(self._replies.items()))
            if now - stamp < self._window:
                break
            del self._replies[oldest_key]
        entry = self._replies.get(key)
        return None if entry is None else entry[1]

    def put(self, key: RequestKey, raw: bytes) -> None:
        self._replies[key] = (time.monotonic(), raw)
        while len(self._replies) > self._max_entries:
            self._replies.popitem(last=False)


def enlarge_receive_buffer(transport: asyncio.DatagramTransport) -> None:
    """Room for a burst (every router retrying after an outage) while the loop is busy; the
    kernel caps it at net.core.rmem_max, which is fine."""
    sock = transport.get_extra_info("socket")
    if sock is None:
        return
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, RECEIVE_BUFFER_BYTES)
    except OSError:
        log.debug("could not enlarge the RADIUS receive buffer", exc_info=True)
