"""Failed "I have already paid" attempts, counted per device and per client address, so
that receipt codes cannot be guessed from a hotspot (a code is ten letters and digits, but a
script could try many).

Kept in memory: a restart forgets the counts, which only gives a guesser a fresh window.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable

# A person mistyping a code a few times is never blocked; a script is, quickly.
PER_DEVICE = 5
# Many devices behind one hotspot can share the router's address.
PER_ADDRESS = 50
WINDOW_SECONDS = 15 * 60
# Keys remembered at most; the oldest are forgotten first.
MAX_KEYS = 20_000


class AttemptLimiter:
    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self._failures: dict[str, deque[float]] = {}

    def blocked(self, address: str, device: str) -> bool:
        return (
            self._count(f"d:{address}|{device}") >= PER_DEVICE
            or self._count(f"a:{address}") >= PER_ADDRESS
        )

    def failed(self, address: str, device: str) -> None:
        now = self.clock()
        for key in (f"d:{address}|{device}", f"a:{address}"):
            self._failures.setdefault(key, deque()).append(now)
        while len(self._failures) > MAX_KEYS:
            del self._failures[next(iter(self._failures))]

    def _count(self, key: str) -> int:
        times = self._failures.get(key)
        if times is None:
            return 0
        cutoff = self.clock() - WINDOW_SECONDS
        while times and times[0] < cutoff:
            times.popleft()
        if not times:
            del self._failures[key]
            return 0
        return len(times)
