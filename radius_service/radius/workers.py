"""Auth worker processes: N processes answer Access-Requests on one port (SO_REUSEPORT), so
the auth path uses every core; each has its own database pool and subscriber cache.

The parent (the site service) starts them, restarts one that dies, and on stop sends each
SIGTERM, which lets decisions in progress answer before the worker exits.
Each worker sends its request counters to the parent over a one-way pipe (a snapshot every
COUNTER_REPORT_INTERVAL and a last one on exit); `AuthWorkerPool.totals()` sums them,
keeping what a restarted worker's predecessor had counted, for the heartbeat row.
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
from multiprocessing.connection import Connection
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
# How often a worker reports its counters when they changed (the heartbeat beats every 10 s).
COUNTER_REPORT_INTERVAL = 0.5
_READY_POLL = 0.05


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
        # Per slot: the pipe its worker reports counters on, and the last report received.
        self._reports: list[Connection | None] = [None] * count
        self._latest: list[dict[str, int]] = [{} for _ in range(count)]
        # What workers that died or were replaced had counted.
        self._retired: Counter[str] = Counter()
        self._stopping = False
        self._supervisor: asyncio.Task[None] | None = None

    async def start(self) -> Address:
        await asyncio.gather(*(self._spawn(slot) for slot in range(self.count)))
        self._supervisor = asyncio.create_task(self._supervise(), name="radius-auth-workers")
        log.info("RADIUS auth: %d worker processes on %s:%d", self.count, *self.address)
        return self.address

    def totals(self) -> Counter[str]:
        """Every worker's request counters summed (this process's own are not included)."""
        self._drain_all()
        total = Counter(self._retired)
        for latest in self._latest:
            total.update(latest)
        return total

    def worker_counters(self) -> list[dict[str, int]]:
        """The latest report of each slot's running worker (empty before its first)."""
        self._drain_all()
        return [dict(latest) for latest in self._latest]

    def _drain(self, slot: int) -> None:
        """Keep the newest counter report waiting on the slot's pipe (never blocks)."""
        pipe = self._reports[slot]
        if pipe is None:
            return
        try:
            while pipe.poll():
                report = pipe.recv()
                if isinstance(report, dict):
                    self._latest[slot] = report
        except (EOFError, OSError):
            pipe.close()  # the worker is gone and its last report was read
            self._reports[slot] = None

    def _drain_all(self) -> None:
        for slot in range(self.count):
            self._drain(slot)

    def _retire(self, slot: int) -> None:
        """The slot's worker is finished: bank its counters before a new one starts at 0."""
        self._drain(slot)
        self._retired.update(self._latest[slot])
        self._latest[slot] = {}
        pipe = self._reports[slot]
        if pipe is not None:
            pipe.close()
            self._reports[slot] = None

    async def _spawn(self, slot: int) -> None:
        ready = self._context.Event()
        receiver, sender = self._context.Pipe(duplex=False)
        process = self._context.Process(
            target=run_worker,
            args=(
                self._settings.model_dump(mode="json"),
                self.address,
                self._site_key,
                ready,
                sender,
            ),
            name=f"easyisp-radius-auth-{slot}",
            daemon=True,
        )
        process.start()
        sender.close()  # the child holds its own copy; ours would hide the child's exit
        self.processes[slot] = process
        self._reports[slot] = receiver
        if not await _started(process, ready, START_TIMEOUT + CACHE_WARM_TIMEOUT):
            log.error("RADIUS auth worker %d (pid %s) did not start", slot, process.pid)

    async def _supervise(self) -> None:
        while not self._stopping:
            await asyncio.sleep(SUPERVISE_INTERVAL)
            self._drain_all()  # keeps the pipes from filling between heartbeats
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
                self._retire(slot)
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
        # The workers' last reports, so totals() still counts everything they answered.
        for slot in range(self.count):
            self._retire(slot)


async def _started(process: BaseProcess, ready: ProcessEvent, timeout: float) -> bool:
    """Wait for the worker's "listening" signal on the event loop, not in a thread: a
    thread blocked in ready.wait() outlived a stop during a (re)start, and asyncio.run()
    then waited for it (up to 3 minutes). Gives up at once when the process is gone."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not ready.is_set():
        if not process.is_alive() or asyncio.get_running_loop().time() > deadline:
            return False
        await asyncio.sleep(_READY_POLL)
    return True


def run_worker(
    settings: dict[str, Any],
    address: Address,
    site_key: str,
    ready: ProcessEvent,
    reports: Connection | None = None,
) -> None:
    """A worker process's main: one auth listener (SO_REUSEPORT) until SIGTERM; its
    counters go to the parent on `reports`."""
    parsed = Settings(**settings)
    logging.basicConfig(
        level=parsed.log_level.upper(),
        format=f"%(asctime)s %(levelname)s [auth worker {os.getpid()}] %(name)s: %(message)s",
    )
    asyncio.run(_serve(parsed, address, SecretBox.from_encoded(site_key), ready, reports))


async def _report_counters(counters: Counter[str], reports: Connection) -> None:
    """Send a snapshot whenever the counters changed (at most every interval). The send
    runs in a thread: a parent slow to read must never stall this process's event loop."""
    sent: dict[str, int] = {}
    while True:
        await asyncio.sleep(COUNTER_REPORT_INTERVAL)
        snapshot = dict(counters)  # on the loop, the only thread that changes them
        if snapshot != sent and await asyncio.to_thread(_send_report, snapshot, reports):
            sent = snapshot


def _send_report(snapshot: dict[str, int], reports: Connection) -> bool:
    try:
        reports.send(snapshot)
    except OSError:  # the parent is gone; this worker is about to be stopped anyway
        log.debug("could not report counters to the parent", exc_info=True)
        return False
    return True


async def _serve(
    settings: Settings,
    address: Address,
    box: SecretBox,
    ready: ProcessEvent,
    reports: Connection | None,
) -> None:
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

    counters: Counter[str] = Counter()
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
        counters=counters,
        reuse_port=True,
        seen=SeenRouters(database.sessions, counters=counters),
    )
    reporter = (
        asyncio.create_task(_report_counters(counters, reports), name="counter-reports")
        if reports is not None
        else None
    )
    try:
        await server.start()
        ready.set()
        await stop.wait()
    finally:
        await server.stop()
        if reporter is not None and reports is not None:
            reporter.cancel()
            await asyncio.gather(reporter, return_exceptions=True)
            # The last word: everything this worker answered.
            await asyncio.to_thread(_send_report, dict(counters), reports)
            reports.close()
        await asyncio.to_thread(cache.stop)
        with contextlib.suppress(Exception):
            await asyncio.to_thread(database.close)
