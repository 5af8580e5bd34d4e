"""RADIUS traffic as a sign of life: the listeners note every router that sent an
authenticated packet, and this marks them seen (`nas.last_seen_at`) in the background.

`note()` is a dictionary look-up on the event loop, so it never slows a reply; a router is
written at most once per `every` seconds (one UPDATE for all routers noted meanwhile), in a
worker thread. Each auth worker process keeps its own (it has its own database pool), so a
router is written at most once per interval per process, still a handful of rows a minute;
the UPDATE only moves last_seen_at forward, so the order of writers does not matter.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy.orm import Session

from easyisp_core.services.router_health import mark_routers_seen

log = logging.getLogger(__name__)

DEFAULT_EVERY = 30.0


class SeenRouters:
    def __init__(
        self,
        sessions: Callable[[], Session],
        *,
        every: float = DEFAULT_EVERY,
        counters: Counter[str] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._sessions = sessions
        self._every = every
        self._clock = clock
        self.counters: Counter[str] = counters if counters is not None else Counter()
        self._noted_at: dict[uuid.UUID, float] = {}
        self._pending: set[uuid.UUID] = set()
        self._wake: asyncio.Event | None = None
        self._task: asyncio.Task[None] | None = None

    def note(self, nas_id: uuid.UUID) -> None:
        """A packet from this router passed the listener's checks (on the event loop)."""
        now = self._clock()
        last = self._noted_at.get(nas_id)
        if last is not None and now - last < self._every:
            return
        self._noted_at[nas_id] = now
        self._pending.add(nas_id)
        if self._wake is not None:
            self._wake.set()

    async def start(self) -> None:
        self._wake = asyncio.Event()
        if self._pending:
            self._wake.set()
        self._task = asyncio.create_task(self._flush_forever(), name="radius-routers-seen")

    async def stop(self) -> None:
        """Write what is still pending, then stop."""
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None
        await self.flush()

    async def flush(self) -> None:
        batch, self._pending = self._pending, set()
        if not batch:
            return
        try:
            await asyncio.to_thread(self._store, batch)
        except Exception as exc:
            # Not worth a retry loop: the router's next packet notes it again.
            for nas_id in batch:
                self._noted_at.pop(nas_id, None)
            self.counters["radius.routers_seen.failures"] += 1
            log.warning("could not mark %d router(s) seen: %s", len(batch), exc)
        else:
            self.counters["radius.routers_seen.writes"] += 1

    async def _flush_forever(self) -> None:
        assert self._wake is not None
        while True:
            await self._wake.wait()
            self._wake.clear()
            await self.flush()

    def _store(self, nas_ids: set[uuid.UUID]) -> None:
        with self._sessions() as session, session.begin():
            mark_routers_seen(session, nas_ids, datetime.now(UTC))
