"""Auth worker processes: N processes answer Access-Requests on one port (SO_REUSEPORT), so
the auth path uses every core; each has its own database pool and subscriber cache.

The parent (the site service) starts them, restarts one that dies, and on stop sends each
SIGTERM, which lets decisions in progress answer before the worker exits.
Setting EASYISP_RADIUS_WORKERS (default: the CPU count; 1 = no worker processes, the auth
listener runs inside the service as before).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import multiprocessing
import os
import signal
import socket
from collections import Counter
from multiprocessing.process import BaseProcess
from multiprocessing.synchronize import Event as ProcessEvent
from typing import Any

from easyisp_core.crypto import SecretBox
from easyisp_core.db.engine import open_database
from easyisp_core.services.radius_auth import NasClient, load_nas_clients
from easyisp_core.settings import Settings
from radius_service.radius.auth import AccessRequestHandler
from radius_service.radius.listener import Address, RadiusAuthServer
from radius_service.radius.router_seen import SeenRouters
from radius_service.radius.subscriber_cache import SubscriberCache

log = logging.getLogger(__name__)

SUPERVISE_INTERVAL = 0.5
START_TIMEOUT = 60.0
STOP_TIMEOUT = 20.0
CACHE_WARM_TIMEOUT = 120.0


def worker_count(configured: int | None) -> int:
    """EASYISP_RADIUS_WORKERS, or the number of CPUs; at least 1."""
    return max(1, configured if configured is not None else (os.cpu_count() or 1))


def reserve_port(address: Address) -> Address:
    """A concrete port for HOST:0 (tests), so every worker binds the same one. The probe
    socket is closed again: an unread member of the SO_REUSEPORT group would get a share
    of the datagrams."""
    if address[1] != 0:
        return address
    family = socket.AF_INET6 if ":" in address[0] else socket.AF_INET
    with socket.socket(family, socket.SOCK_DGRAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        probe.bind(address)
        return (address[0], int(probe.getsockname()[1]))


class AuthWorkerPool:
    """Supervises `count` auth worker processes bound to one address."""

    def __init__(
        self,
        settings: Settings,
        address: Address,
        count: int,
        site_key: str,
        *,
        counters: Counter[str] | None = None,
    ) -> None:
        self._settings = settings
        self.address = reserve_port(address)
        self.count = count
        self._site_key = site_key
        self.counters: Counter[str] = counters if counters is not None else Counter()
        self._context = multiprocessing.get_context("spawn")
        self.processes: list[BaseProcess | None] = [None] * count
        self._stopping = False
        self._supervisor: asyncio.Task[None] | None = None

    async def start(self) -> Address:
        await asyncio.gather(*(self._spawn(slot) for slot in range(self.count)))
        self._supervisor = asyncio.create_task(self._supervise(), name="radius-auth-workers")
        log.info("RADIUS auth: %d worker processes on %s:%d", self.count, *self.address)
        return self.address

    async def _spawn(self, slot: int) -> None:
        ready = self._context.Event()
        process = self._context.Process(
            target=run_worker,
            args=(self._settings.model_dump(mode="json"), self.address, self._site_key, ready),
            name=f"easyisp-radius-auth-{slot}",
            daemon=True,
        )
        process.start()
        self.processes[slot] = process
        started = await asyncio.to_thread(ready.wait, START_TIMEOUT + CACHE_WARM_TIMEOUT)
        if not started:
            log.error("RADIUS auth worker %d (pid %s) did not start in time", slot, process.pid)

    async def _supervise(self) -> None:
        while not self._stopping:
            await asyncio.sleep(SUPERVISE_INTERVAL)
            for slot, process in enumerate(self.processes):
                if self._stopping or process is None or process.is_alive():
                    continue
                log.error(
                    "RADIUS auth worker %d (pid %s) exited with %s; restarting it",
                    slot,
                    process.pid,
                    process.exitcode,
                )
                self.counters["radius.auth.worker_restarts"] += 1
                await self._spawn(slot)

    async def stop(self) -> None:
        self._stopping = True
        if self._supervisor is not None:
            self._supervisor.cancel()
            await asyncio.gather(self._supervisor, return_exceptions=True)
        alive = [p for p in self.processes if p is not None and p.is_alive()]
        for process in alive:
            process.terminate()  # SIGTERM: the worker answers what it accepted, then exits
        for process in alive:
            await asyncio.to_thread(process.join, STOP_TIMEOUT)
            if process.is_alive():
                process.kill()
                await asyncio.to_thread(process.join, STOP_TIMEOUT)


def run_worker(
    settings: dict[str, Any], address: Address, site_key: str, ready: ProcessEvent
) -> None:
    """A worker process's main: one auth listener (SO_REUSEPORT) until SIGTERM."""
    parsed = Settings(**settings)
    logging.basicConfig(
        level=parsed.log_level.upper(),
        format=f"%(asctime)s %(levelname)s [auth worker {os.getpid()}] %(name)s: %(message)s",
    )
    asyncio.run(_serve(parsed, address, SecretBox.from_encoded(site_key), ready))


async def _serve(settings: Settings, address: Address, box: SecretBox, ready: ProcessEvent) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    database = await asyncio.to_thread(
        open_database, settings, application_name="easyisp-radius-auth"
    )

    def load_clients() -> list[NasClient]:
        with database.sessions() as session:
            return load_nas_clients(session, box)

    server: RadiusAuthServer | None = None
    cache = SubscriberCache(
        database.engine,
        database.sessions,
        on_nas_change=lambda: server.request_client_refresh() if server else None,
    )
    cache.start()
    # Join the port only with a warm cache, so a restarted worker does not answer from
    # the database while its siblings answer from memory (bounded: a database that is
    # down must not keep the worker out; it then answers through the fallback).
    await asyncio.to_thread(cache.loaded.wait, CACHE_WARM_TIMEOUT)
    server = RadiusAuthServer(
        address,
        AccessRequestHandler(database.sessions, box, cache=cache),
        load_clients=load_clients,
        reuse_port=True,
        seen=SeenRouters(database.sessions),
    )
    try:
        await server.start()
        ready.set()
        await stop.wait()
    finally:
        await server.stop()
        await asyncio.to_thread(cache.stop)
        with contextlib.suppress(Exception):
            await asyncio.to_thread(database.close)
