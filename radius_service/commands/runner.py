"""Session control as one unit the service starts and stops: the command worker woken by
NOTIFY (with a poll fallback), the expiry sweep and the stale-session sweep. Given the router
operations, the worker also falls back to the router API and runs ROUTER_TEST / ROUTER_SYNC;
their router connections are closed at stop."""

from __future__ import annotations

import asyncio
import logging
from collections import Counter

from easyisp_core.crypto import SecretBox
from easyisp_core.db.engine import Database
from radius_service.commands.notifications import COMMANDS_CHANNEL, NotificationListener
from radius_service.commands.worker import CommandWorker, RetryPolicy
from radius_service.jobs import run_periodically
from radius_service.jobs.expiry import ExpirySweep
from radius_service.jobs.stale_sessions import StaleSessionJob
from radius_service.radius.coa import CoaClient
from radius_service.routers.operations import RouterOperations

log = logging.getLogger(__name__)

DEFAULT_POLL_INTERVAL = 10.0
# A disconnect in progress may wait for a router; past this its row stays RUNNING and
# another start takes it over when its lease ends.
STOP_GRACE_SECONDS = 15.0


class SessionControl:
    def __init__(
        self,
        database: Database,
        box: SecretBox,
        counters: Counter[str],
        *,
        poll_interval: float = DEFAULT_POLL_INTERVAL,
        coa: CoaClient | None = None,
        policy: RetryPolicy | None = None,
        routers: RouterOperations | None = None,
    ) -> None:
        self.worker = CommandWorker(
            database.sessions,
            box,
            coa or CoaClient(),
            policy=policy,
            router_api=routers,
            routers=routers,
            counters=counters,
        )
        self._routers = routers
        self.expiry = ExpirySweep(database.sessions, counters)
        self.stale = StaleSessionJob(database.sessions, counters)
        self._database = database
        self._counters = counters
        self._poll_interval = poll_interval
        self._stop = asyncio.Event()
        self._wake = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._listener: NotificationListener | None = None

    @property
    def listening(self) -> bool:
        """Whether LISTEN is active (commands then run as soon as they are inserted)."""
        return self._listener is not None and self._listener.listening.is_set()

    def start(self) -> None:
        loop = asyncio.get_running_loop()

        def notified(_payload: str) -> None:
            loop.call_soon_threadsafe(self._wake.set)

        self._listener = NotificationListener(self._database.engine, COMMANDS_CHANNEL, notified)
        self._listener.start()
        self._tasks = [
            asyncio.create_task(
                self.worker.serve(self._stop, self._wake, self._poll_interval), name="commands"
            ),
            asyncio.create_task(self.expiry.serve(self._stop), name="expiry"),
            asyncio.create_task(
                run_periodically(self.stale, self._stop, self._counters), name="stale_sessions"
            ),
        ]

    async def stop(self) -> None:
        """Let the command in progress finish its step, then stop listening."""
        self._stop.set()
        if self._tasks:
            _done, pending = await asyncio.wait(self._tasks, timeout=STOP_GRACE_SECONDS)
            for task in pending:
                log.warning(
                    "%s did not stop in %g s; cancelling it", task.get_name(), STOP_GRACE_SECONDS
                )
                task.cancel()
            await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._listener is not None:
            await asyncio.to_thread(self._listener.stop)
        if self._routers is not None:
            await self._routers.aclose()
