"""Stale-session sweep: open sessions not heard from for two interim intervals plus a grace
period are closed (terminate cause Stale-Session), at the time they were last heard.

Without it a router that rebooted or lost power leaves sessions open forever: the customer
looks online, and the simultaneous-use limit would count them.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from easyisp_core.services.radius_auth import DEFAULT_INTERIM_INTERVAL, STALE_GRACE
from easyisp_core.services.session_control import close_stale_sessions
from radius_service.commands.worker import utc_now

log = logging.getLogger(__name__)

DEFAULT_INTERVAL = 60.0


class StaleSessionJob:
    name = "stale_sessions"

    def __init__(
        self,
        sessions: Callable[[], Session],
        counters: Counter[str],
        *,
        interval: float = DEFAULT_INTERVAL,
        interim_interval: int = DEFAULT_INTERIM_INTERVAL,
        grace: timedelta = STALE_GRACE,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self._sessions = sessions
        self._counters = counters
        self.interval = interval
        self.interim_interval = interim_interval
        self.grace = grace
        self._clock = clock

    async def run_once(self) -> None:
        await self.sweep()

    async def sweep(self) -> int:
        """Close the stale sessions now; how many."""
        closed = await asyncio.to_thread(self._sweep)
        if closed:
            log.info("closed %d stale session(s)", closed)
            self._counters["sessions_closed_stale"] += closed
        return closed

    def _sweep(self) -> int:
        with self._sessions() as session, session.begin():
            return close_stale_sessions(
                session,
                now=self._clock(),
                interim_interval=self.interim_interval,
                grace=self.grace,
            )
