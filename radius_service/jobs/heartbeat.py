"""The heartbeat: a row in service_heartbeats refreshed every few seconds.

The console reads it to tell the operator whether the site service is running; the counters
give a glance at what the service has been doing: the whole service's, worker processes
included (`extra_counters`, e.g. radius/workers.py's AuthWorkerPool.totals).
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy.orm import Session, sessionmaker

from easyisp_core import __version__
from easyisp_core.db.engine import session_scope
from easyisp_core.repositories.heartbeats import HeartbeatRepository

log = logging.getLogger(__name__)

DEFAULT_INTERVAL = 10.0
# The column sizes of service_heartbeats.
_INSTANCE_MAX = 100
_HOSTNAME_MAX = 200


@dataclass(frozen=True)
class ServiceIdentity:
    """Who is beating: one row per instance name."""

    instance: str
    hostname: str
    version: str
    pid: int
    started_at: datetime

    @classmethod
    def of_this_process(cls, instance: str | None = None) -> ServiceIdentity:
        """This process; the instance name defaults to "<hostname>:<pid>"."""
        hostname = socket.gethostname()[:_HOSTNAME_MAX]
        pid = os.getpid()
        return cls(
            instance=(instance or f"{hostname}:{pid}")[:_INSTANCE_MAX],
            hostname=hostname,
            version=__version__,
            pid=pid,
            started_at=datetime.now(UTC),
        )


class HeartbeatJob:
    """Upsert this instance's heartbeat row every `interval` seconds."""

    name = "heartbeat"

    def __init__(
        self,
        sessions: sessionmaker[Session],
        identity: ServiceIdentity,
        counters: Counter[str],
        interval: float = DEFAULT_INTERVAL,
        *,
        extra_counters: Callable[[], Mapping[str, int]] | None = None,
    ) -> None:
        self._sessions = sessions
        self.identity = identity
        self._counters = counters
        self._extra = extra_counters
        self.interval = interval

    async def run_once(self) -> None:
        # Snapshot on the event loop: the counters are only ever touched from this thread.
        snapshot = dict(self._counters)
        if self._extra is not None:
            for name, value in self._extra().items():
                snapshot[name] = snapshot.get(name, 0) + value
        await asyncio.to_thread(self._beat, snapshot)
        self._counters["heartbeats"] += 1

    async def remove(self) -> None:
        """Delete this instance's row, so a clean stop shows at once as "not running"."""
        await asyncio.to_thread(self._remove)

    def _beat(self, counters: dict[str, int]) -> None:
        me = self.identity
        with session_scope(self._sessions) as session:
            HeartbeatRepository(session).upsert(
                instance=me.instance,
                hostname=me.hostname,
                version=me.version,
                pid=me.pid,
                started_at=me.started_at,
                counters=counters,
            )

    def _remove(self) -> None:
        with session_scope(self._sessions) as session:
            removed = HeartbeatRepository(session).delete(self.identity.instance)
        log.debug("heartbeat row %s removed: %s", self.identity.instance, removed)
