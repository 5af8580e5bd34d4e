"""The RADIUS clients: which source address is which router, tenant and shared secret.

Loaded from the nas table and swapped whole on refresh, so a lookup on the event loop never
sees half a table. Packets from unknown sources are dropped; their log lines are rate limited
so a scan or a misconfigured router cannot flood the log.
"""

from __future__ import annotations

import ipaddress
import logging
import time
from collections.abc import Callable, Iterable

from easyisp_core.services.radius_auth import NasClient

log = logging.getLogger(__name__)

# At most one "unknown client" line per source per this many seconds.
UNKNOWN_LOG_INTERVAL = 60.0
_MAX_REMEMBERED_SOURCES = 1024


def _canonical(address: str) -> str:
    # INET renders 10.0.0.1 (or 10.0.0.1/32 for a network); sockets give 10.0.0.1 or ::ffff:...
    try:
        ip = ipaddress.ip_interface(address).ip
    except ValueError:
        return address
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return str(ip.ipv4_mapped)
    return str(ip)


class ClientTable:
    """Source IP → NasClient. Replace the whole table with `replace()`; reads never block."""

    def __init__(self, clients: Iterable[NasClient] = ()) -> None:
        self._by_ip: dict[str, NasClient] = {}
        self.replace(clients)

    def replace(self, clients: Iterable[NasClient]) -> None:
        """Each router by its registered address and, when onboarded over WireGuard, by its
        tunnel address (where its RADIUS packets then come from)."""
        listed = list(clients)
        by_ip = {_canonical(client.ip_address): client for client in listed}
        for client in listed:
            if client.vpn_ip is not None:
                # A registered address wins over another router's tunnel address: the
                # tunnel range is the site's own, so a clash is a registration mistake.
                by_ip.setdefault(_canonical(client.vpn_ip), client)
        self._by_ip = by_ip

    def lookup(self, source_ip: str) -> NasClient | None:
        return self._by_ip.get(_canonical(source_ip))

    def __len__(self) -> int:
        return len(self._by_ip)


class UnknownSourceLog:
    """Logs a packet from an unknown source at most once per source per interval."""

    def __init__(
        self,
        interval: float = UNKNOWN_LOG_INTERVAL,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._interval = interval
        self._clock = clock
        self._last: dict[str, float] = {}
        self._suppressed: dict[str, int] = {}

    def report(self, source_ip: str) -> bool:
        """Log the drop unless this source was logged recently; True when it logged."""
        now = self._clock()
        last = self._last.get(source_ip)
        if last is not None and now - last < self._interval:
            self._suppressed[source_ip] = self._suppressed.get(source_ip, 0) + 1
            return False
        if len(self._last) >= _MAX_REMEMBERED_SOURCES:
            # A spoofed-source flood must not grow this without bound.
            self._last.clear()
            self._suppressed.clear()
        suppressed = self._suppressed.pop(source_ip, 0)
        self._last[source_ip] = now
        log.warning(
            "RADIUS request from unknown client %s dropped%s",
            source_ip,
            f" ({suppressed} more since the last report)" if suppressed else "",
        )
        return True
