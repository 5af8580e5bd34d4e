"""Expiry sweep: a subscriber is cut at the second their time runs out, not by a nightly batch.

It queues a DISCONNECT for every online customer who is expired or suspended, then sleeps
until the earliest expiry still ahead among online customers — never longer than
MAX_SLEEP, so a customer who logs in meanwhile (or a clock change) is caught within a
minute. The queued commands wake the command worker through their NOTIFY.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from easyisp_core.services.session_control import next_expiry_online, queue_due_disconnects
from radius_service.commands.worker import utc_now
from radius_service.jobs import describe_failure

log = logging.getLogger(__name__)

MAX_SLEEP = 60.0
# An asyncio timer may fire a hair early; never spin on a due time that is a few ms ahead.
_MIN_SLEEP = 0.05


class ExpirySweep:
    name = "expiry"

    def __init__(
        self,
        sessions: Callable[[], Session],
        counters: Counter[str],
        *,
        clock: Callable[[], datetime] = utc_now,
        max_sleep: float = MAX_SLEEP,
    ) -> None:
        self._sessions = sessions
        self._counters = counters
        self._clock = clock
        self.max_sleep = max_sleep

    async def run_once(self) -> tuple[list[int], datetime]:
        """Queue the due disconnects; (their command ids, when to run next)."""
        return await asyncio.to_thread(self._sweep)

    def _sweep(self) -> tuple[list[int], datetime]:
        now = self._clock()
        with self._sessions() as session, session.begin():
            queued = queue_due_disconnects(session, now)
            upcoming = next_expiry_online(session, now)
        if queued:
            log.info("queued %d disconnect(s) for expired or suspended customers", len(queued))
            self._counters["expiry_disconnects_queued"] += len(queued)
        latest = now + timedelta(seconds=self.max_sleep)
        return queued, latest if upcoming is None else min(upcoming, latest)

    async def serve(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                _queued, wake_at = await self.run_once()
                delay = (wake_at - self._clock()).total_seconds()
            except Exception as exc:
                self._counters["expiry_failures"] += 1
                log.warning("expiry sweep failed: %s", describe_failure(exc))
                delay = self.max_sleep
            try:
                await asyncio.wait_for(stop.wait(), timeout=max(delay, _MIN_SLEEP))
            except TimeoutError:
                continue
