"""Partition upkeep: make sure sessions and sms_logs have next months' partitions.

Runs at start and every six hours. Creating a month's partition early keeps accounting
writes out of the default partition; a row that landed there anyway is moved on the next run.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter

from sqlalchemy.orm import Session, sessionmaker

from easyisp_core.db.engine import session_scope
from easyisp_core.services.maintenance import ensure_all_partitions

log = logging.getLogger(__name__)

DEFAULT_INTERVAL = 6 * 60 * 60.0
DEFAULT_MONTHS_AHEAD = 3


class PartitionJob:
    name = "partitions"

    def __init__(
        self,
        sessions: sessionmaker[Session],
        counters: Counter[str],
        interval: float = DEFAULT_INTERVAL,
        months_ahead: int = DEFAULT_MONTHS_AHEAD,
    ) -> None:
        self._sessions = sessions
        self._counters = counters
        self.interval = interval
        self.months_ahead = months_ahead

    async def run_once(self) -> None:
        created = await asyncio.to_thread(self._ensure)
        for table, names in created.items():
            if names:
                log.info("created %d partition(s) of %s: %s", len(names), table, ", ".join(names))
                self._counters["partitions_created"] += len(names)
        if not any(created.values()):
            log.debug("partitions of %s already in place", ", ".join(created))

    def _ensure(self) -> dict[str, list[str]]:
        with session_scope(self._sessions) as session:
            return ensure_all_partitions(session, months_ahead=self.months_ahead)
