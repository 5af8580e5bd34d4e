"""The heartbeat counts the whole service: requests answered by every SO_REUSEPORT auth
worker process are summed into the row the console reads, including what a worker that
was restarted had answered before it went."""

from __future__ import annotations

import asyncio
import os
import signal
import time
from typing import Any

from easyisp_core.crypto import SecretBox, new_site_key
from easyisp_core.settings import Settings
from radius_service.app import SiteService
from radius_service.radius.workers import AuthWorkerPool
from radius_service.simulator.nas import NasSimulator
from tests.service.radius.conftest import NAS_SECRET, PPPOE_PASSWORD, PPPOE_USER, seed
from tests.service.test_service_process import heartbeat_rows

WAIT = 60.0
# Enough fresh source ports that the kernel's hash gives every worker some (it normally
# takes a handful; the bound only keeps a broken spread from looping forever).
MAX_LOGINS = 400


async def _until(condition: Any, what: str) -> None:
    deadline = time.monotonic() + WAIT
    while not await condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting: {what}")
        await asyncio.sleep(0.05)


class Traffic:
    """Logins from fresh sockets (a new source port each), counted by outcome."""

    def __init__(self, pool: AuthWorkerPool) -> None:
        self.pool = pool
        self.accepts = 0
        self.rejects = 0

    async def login(self, password: str) -> None:
        nas = NasSimulator(self.pool.address, NAS_SECRET.encode(), timeout=3.0)
        reply = await asyncio.to_thread(nas.login, PPPOE_USER, password)
        assert reply is not None, "no reply"
        assert reply.accepted == (password == PPPOE_PASSWORD)
        if reply.accepted:
            self.accepts += 1
        else:
            self.rejects += 1

    async def until_every_worker_answered(self) -> None:
        for attempt in range(MAX_LOGINS):
            await self.login(PPPOE_PASSWORD if attempt % 3 else "wrong-password")
            reports = self.pool.worker_counters()
            if all(
                r.get("radius.auth.accept", 0) + r.get("radius.auth.reject", 0) for r in reports
            ):
                return
            await asyncio.sleep(0.01)
        raise AssertionError(f"{MAX_LOGINS} logins never reached every worker")


async def _row_counters(url: str) -> dict[str, int]:
    rows = await asyncio.to_thread(heartbeat_rows, url)
    return dict(rows[0]["counters"]) if rows else {}


def test_the_heartbeat_sums_the_counters_of_every_auth_worker_process(
    fresh_db_url: str,
) -> None:
    key = new_site_key()
    seed(fresh_db_url, SecretBox.from_encoded(key))
    service = SiteService(
        Settings(database_url=fresh_db_url, site_key=key),
        heartbeat_interval=0.1,
        radius_auth_addr=("127.0.0.1", 0),
        command_poll_interval=None,
        radius_workers=2,
    )

    async def shows(traffic: Traffic) -> bool:
        counters = await _row_counters(fresh_db_url)
        return (
            counters.get("radius.auth.accept") == traffic.accepts
            and counters.get("radius.auth.reject") == traffic.rejects
        )

    async def scenario() -> None:
        running = asyncio.create_task(service.run())
        try:
            await asyncio.wait_for(service.started.wait(), WAIT)
            pool = service.radius_auth_workers
            assert pool is not None
            assert service.radius_auth is None  # no in-process listener: only the workers
            traffic = Traffic(pool)
            await traffic.until_every_worker_answered()
            assert traffic.accepts > 0
            assert traffic.rejects > 0
            await _until(lambda: shows(traffic), "the heartbeat shows every worker's requests")
            counters = await _row_counters(fresh_db_url)
            assert counters["heartbeats"] >= 1  # the parent's own counters are still there

            # A worker that stops (SIGTERM) reports its last counts; its replacement starts
            # at 0 and the row still shows everything the service answered.
            first = pool.processes[0]
            assert first is not None
            assert first.pid is not None
            os.kill(first.pid, signal.SIGTERM)

            async def restarted() -> bool:
                return service.counters["radius.auth.worker_restarts"] >= 1

            await _until(restarted, "the stopped worker was replaced")
            await traffic.until_every_worker_answered()
            await _until(lambda: shows(traffic), "the heartbeat still counts the old worker")
        finally:
            await asyncio.wait_for(service.stop(), WAIT)
            await running

    asyncio.run(scenario())
