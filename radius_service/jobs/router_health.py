"""Router health: poll every router's API, record ONLINE / OFFLINE and its figures.

Each run reads the routers with an API user (all tenants), polls them all concurrently and
returns when every poll has finished, so a router is never polled twice at once. A poll is
/system/identity and /system/resource over a connection kept open between runs (one login,
not one per poll); each socket step waits at most `timeout` seconds, and a safety net
abandons a poll that still has not finished after a few of those (the router stays marked
busy until its thread is free). The status rule is in easyisp_core.rules.router_health.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy.orm import Session, sessionmaker

from easyisp_core.crypto import SecretBox
from easyisp_core.db.engine import session_scope
from easyisp_core.models.enums import NasStatus
from easyisp_core.services import router_health
from easyisp_core.services.router_health import Figures, PollOutcome, PollTarget
from radius_service.routers.client import RouterClient, RouterInfo
from radius_service.routers.connection import RouterEndpoint
from radius_service.routers.errors import RouterError
from radius_service.routers.queue import RouterCommandQueue

log = logging.getLogger(__name__)

DEFAULT_INTERVAL = 20.0
DEFAULT_TIMEOUT = 5.0
# A poll is a connect, a login and three commands: each step may use `timeout`.
_SAFETY_FACTOR = 4


def endpoint_for(target: PollTarget, timeout: float = DEFAULT_TIMEOUT) -> RouterEndpoint:
    # Routers' certificates are usually self-signed (or absent): API-SSL accepts the first
    # one a router presents and pins it (trust on first use); another one is refused.
    return RouterEndpoint(
        name=target.name,
        host=target.host,
        username=target.username,
        password=target.password,
        port=target.port,
        use_tls=target.use_tls,
        tls_verify=False,
        tls_fingerprint=target.tls_fingerprint,
        timeout=timeout,
    )


def figures_of(info: RouterInfo) -> Figures:
    return Figures(
        identity=info.identity,
        version=info.version,
        board=info.board,
        uptime=info.uptime,
        cpu_load=info.cpu_load,
        free_memory=info.free_memory,
        total_memory=info.total_memory,
        tls_fingerprint=info.tls_fingerprint,
    )


class RouterHealthJob:
    """`box` may be a factory, called only once a router has an API password to decrypt."""

    name = "router_health"

    def __init__(
        self,
        sessions: sessionmaker[Session],
        box: SecretBox | Callable[[], SecretBox],
        counters: Counter[str],
        interval: float = DEFAULT_INTERVAL,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> None:
        if interval <= 0 or timeout <= 0:
            raise ValueError("the poll interval and timeout must be positive")
        self._sessions = sessions
        self._box = box
        self._counters = counters
        self.interval = interval
        self.timeout = timeout
        self._clients: dict[uuid.UUID, RouterClient] = {}
        # Routers whose abandoned poll still holds their queue thread.
        self._busy: set[uuid.UUID] = set()
        self._closing: set[asyncio.Task[None]] = set()

    async def run_once(self) -> None:
        targets = await asyncio.to_thread(self._load)
        await self._forget_except({t.nas_id for t in targets})
        polls = [self._poll(t) for t in targets if t.nas_id not in self._busy]
        # Every poll finishes (and records) even when another one's database write fails.
        results = await asyncio.gather(*polls, return_exceptions=True)
        for result in results:
            if isinstance(result, BaseException):
                raise result

    async def aclose(self) -> None:
        """Close every router connection (at service stop)."""
        await self._forget_except(set())
        await asyncio.gather(*self._closing, return_exceptions=True)

    async def _poll(self, target: PollTarget) -> None:
        self._counters["router_health.polls"] += 1
        if target.problem is not None:
            await self._record(target, None, target.problem)
            return
        client = await self._client_for(target)
        try:
            async with asyncio.timeout(self.timeout * _SAFETY_FACTOR):
                info = await client.test_connection()
        except RouterError as exc:
            await self._record(target, None, exc.user_message)
        except TimeoutError:
            self._abandon(target.nas_id, client)
            await self._record(
                target,
                None,
                f"Router {target.name}: no answer within {self.timeout * _SAFETY_FACTOR:g} s.",
            )
        except Exception as exc:  # a client bug must not hide the router's state
            log.exception("router %s: the poll failed unexpectedly", target.name)
            self._abandon(target.nas_id, client)
            await self._record(target, None, f"Router {target.name}: poll failed ({exc}).")
        else:
            await self._record(target, figures_of(info), None)

    async def _record(self, target: PollTarget, figures: Figures | None, error: str | None) -> None:
        outcome = await asyncio.to_thread(self._store, target, figures, error)
        if error is not None:
            self._counters["router_health.failures"] += 1
            log.debug("router %s: %s", target.name, error)
        if outcome.changed:
            self._counters[f"router_health.{outcome.after.value.lower()}"] += 1
            if outcome.after is NasStatus.OFFLINE:
                log.warning("router %s is OFFLINE: %s", target.name, error)
            else:
                log.info(
                    "router %s is %s (was %s)",
                    target.name,
                    outcome.after.value,
                    outcome.before.value,
                )

    async def _client_for(self, target: PollTarget) -> RouterClient:
        endpoint = endpoint_for(target, self.timeout)
        client = self._clients.get(target.nas_id)
        if client is not None and client.endpoint != endpoint:
            # Address or credentials changed: log in afresh.
            del self._clients[target.nas_id]
            await client.close()
            client = None
        if client is None:
            # One connect attempt per poll: the next poll is the retry.
            queue = RouterCommandQueue(endpoint, connect_attempts=1)
            client = self._clients[target.nas_id] = RouterClient(endpoint, queue=queue)
        return client

    def _abandon(self, nas_id: uuid.UUID, client: RouterClient) -> None:
        """Drop a stuck client; the router is skipped until its thread has finished."""
        self._clients.pop(nas_id, None)
        self._busy.add(nas_id)

        async def close() -> None:
            try:
                await client.close()  # queued behind the stuck poll
            finally:
                self._busy.discard(nas_id)

        task = asyncio.get_running_loop().create_task(close(), name=f"router-close-{nas_id}")
        self._closing.add(task)
        task.add_done_callback(self._closing.discard)

    async def _forget_except(self, keep: set[uuid.UUID]) -> None:
        gone = [nas_id for nas_id in self._clients if nas_id not in keep]
        clients = [self._clients.pop(nas_id) for nas_id in gone]
        results = await asyncio.gather(*(c.close() for c in clients), return_exceptions=True)
        for result in results:
            if isinstance(result, Exception):
                log.debug("closing a router connection failed: %s", result)

    def _load(self) -> list[PollTarget]:
        with session_scope(self._sessions) as session:
            return router_health.load_poll_targets(session, self._box)

    def _store(self, target: PollTarget, figures: Figures | None, error: str | None) -> PollOutcome:
        at = datetime.now(UTC)
        with session_scope(self._sessions) as session:
            if figures is not None:
                return router_health.record_success(session, target, figures, at)
            return router_health.record_failure(session, target, error or "unknown failure", at)
