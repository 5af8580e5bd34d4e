"""Composition root of the site service: open the database, start the jobs
(jobs/schedule.py), the listeners (listeners.py: RADIUS auth and accounting, HTTP) and
session control, and stop them in reverse order before the heartbeat row goes.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections import Counter
from typing import Literal

from sqlalchemy import Engine

from easyisp_core.crypto import SecretBox, load_or_create_site_key
from easyisp_core.db.engine import Database, open_database
from easyisp_core.db.revision import check_schema
from easyisp_core.settings import Settings
from radius_service.commands.runner import DEFAULT_POLL_INTERVAL as DEFAULT_COMMAND_POLL
from radius_service.commands.runner import SessionControl
from radius_service.http.server import HttpServer, http_address
from radius_service.jobs import run_periodically
from radius_service.jobs.heartbeat import DEFAULT_INTERVAL as DEFAULT_HEARTBEAT_INTERVAL
from radius_service.jobs.heartbeat import ServiceIdentity
from radius_service.jobs.partitions import DEFAULT_INTERVAL as DEFAULT_PARTITION_INTERVAL
from radius_service.jobs.schedule import finish_jobs, service_jobs
from radius_service.listeners import (
    start_accounting,
    start_auth_listener,
    start_auth_workers,
    start_http,
)
from radius_service.mpesa.stk_flow import StkFlow
from radius_service.radius.accounting import RadiusAccountingServer, acct_address
from radius_service.radius.listener import Address, RadiusAuthServer, auth_address
from radius_service.radius.subscriber_cache import SubscriberCache
from radius_service.radius.workers import AuthWorkerPool, worker_count
from radius_service.routers.operations import RouterOperations
from radius_service.signals import install_stop_signals

__all__ = ["SiteService", "install_stop_signals", "run_service"]

log = logging.getLogger(__name__)

APPLICATION_NAME = "easyisp-service"


class SiteService:
    """The service's lifetime: run() until stop is requested, then shut down in order.

    request_stop() may be called from any thread or a signal handler; `await stop()` requests
    the stop and waits until run() has finished."""

    def __init__(
        self,
        settings: Settings,
        *,
        heartbeat_interval: float = DEFAULT_HEARTBEAT_INTERVAL,
        partition_interval: float = DEFAULT_PARTITION_INTERVAL,
        instance: str | None = None,
        radius_auth_addr: Address | None = None,
        radius_acct_addr: Address | None = None,
        secret_box: SecretBox | None = None,
        command_poll_interval: float | None = DEFAULT_COMMAND_POLL,
        http_addr: Address | None = None,
        radius_workers: int = 1,
    ) -> None:
        """`radius_auth_addr` / `radius_acct_addr` / `http_addr` None run without that
        listener; `command_poll_interval` None runs without session control (commands,
        sweeps); `radius_workers` > 1 answers auth in that many worker processes
        (radius/workers.py)."""
        self.radius_workers = radius_workers
        self.radius_auth_workers: AuthWorkerPool | None = None
        self.subscriber_cache: SubscriberCache | None = None
        if heartbeat_interval <= 0 or partition_interval <= 0:
            raise ValueError("job intervals must be positive")
        self.settings = settings
        self.heartbeat_interval = heartbeat_interval
        self.partition_interval = partition_interval
        self.instance = instance or settings.service_instance
        self.radius_auth_addr = radius_auth_addr
        self.radius_acct_addr = radius_acct_addr
        self._secret_box = secret_box
        self.command_poll_interval = command_poll_interval
        self.session_control: SessionControl | None = None
        self.http_addr = http_addr
        self.http: HttpServer | None = None
        self.stk_flow: StkFlow | None = None
        # The running listener (its bound address is in .address), once started.
        self.radius_auth: RadiusAuthServer | None = None
        self.radius_acct: RadiusAccountingServer | None = None
        self._acct_engine: Engine | None = None
        # What the service has done so far; sent with every heartbeat.
        self.counters: Counter[str] = Counter()
        self.started = asyncio.Event()
        self._stop = asyncio.Event()
        self._finished = asyncio.Event()
        self._loop: asyncio.AbstractEventLoop | None = None

    async def run(self) -> None:
        """Open and check the database, run the jobs until stopped, then clean up.

        Raises DatabaseUnavailable or SchemaMismatch (with the fix in user_message) when the
        database is not fit to serve; nothing is started in that case."""
        self._loop = asyncio.get_running_loop()
        try:
            database = await asyncio.to_thread(self._open_database)
            try:
                if not self._stop.is_set():
                    await self._serve(database)
            finally:
                # Disposing the engine (and stopping an embedded server) blocks: not on the loop.
                await asyncio.to_thread(database.close)
        finally:
            self._finished.set()

    def request_stop(self) -> None:
        """Ask run() to finish. Safe from any thread and from signal handlers."""
        loop = self._loop
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if loop is None or loop is running:
            self._stop.set()
        elif not loop.is_closed():
            loop.call_soon_threadsafe(self._stop.set)

    async def stop(self) -> None:
        """Request the stop and wait until run() has shut everything down."""
        self.request_stop()
        if self._loop is not None:
            await self._finished.wait()

    def _open_database(self) -> Database:
        database = open_database(self.settings, application_name=APPLICATION_NAME)
        try:
            revision = check_schema(database.engine)
        except BaseException:
            database.close()
            raise
        log.info("database %s at schema %s", database.description, revision)
        return database

    async def _serve(self, database: Database) -> None:
        # Worker processes take seconds to start: before the first heartbeat says "running".
        workers = await self._start_auth_workers(database)
        identity = ServiceIdentity.of_this_process(self.instance)
        box_source = functools.cache(lambda: self._secret_box or _site_secret_box(self.settings))
        self.stk_flow = StkFlow(
            database.sessions,
            box_source,
            self._public_url(),
            counters=self.counters,
        )
        jobs = service_jobs(
            self.settings,
            database,
            identity,
            self.counters,
            box_source,
            self.stk_flow,
            heartbeat_interval=self.heartbeat_interval,
            partition_interval=self.partition_interval,
            extra_counters=workers.totals if workers is not None else None,
        )
        tasks = [
            asyncio.create_task(run_periodically(job, self._stop, self.counters), name=job.name)
            for job in jobs.all
        ]
        radius = await self._start_radius(database)
        accounting = await self._start_accounting(database)
        control = self._start_session_control(database)
        http = await self._start_http(database)
        log.info("site service %s (version %s) started", identity.instance, identity.version)
        self.started.set()
        try:
            await self._stop.wait()
            log.info("site service %s stopping", identity.instance)
        finally:
            # First, so requests in progress still answer while the database is open;
            # accounting stores and answers every record it accepted before it stops.
            if http is not None:
                await http.stop()
            if control is not None:
                await control.stop()
            if accounting is not None:
                await accounting.stop()
            if self._acct_engine is not None:
                await asyncio.to_thread(self._acct_engine.dispose)
            if radius is not None:
                await radius.stop()
            if workers is not None:
                await workers.stop()
            if self.subscriber_cache is not None:
                await asyncio.to_thread(self.subscriber_cache.stop)
            await finish_jobs(tasks)
            await jobs.health.aclose()
            await self.stk_flow.aclose()
            # Only after the heartbeat task is done, so no late beat can re-create the row.
            try:
                await jobs.heartbeat.remove()
            except Exception:
                log.warning("could not remove heartbeat row %s", identity.instance, exc_info=True)
        log.info("site service %s stopped", identity.instance)

    def _start_session_control(self, database: Database) -> SessionControl | None:
        """The command worker (disconnect/CoA), the expiry and stale-session sweeps."""
        if self.command_poll_interval is None:
            return None
        box = self._secret_box or _site_secret_box(self.settings)
        control = SessionControl(
            database,
            box,
            self.counters,
            poll_interval=self.command_poll_interval,
            routers=RouterOperations(database.sessions, box, self.settings),
        )
        control.start()
        self.session_control = control
        return control

    async def _start_radius(self, database: Database) -> RadiusAuthServer | None:
        """The auth listener in this process (one worker); None when off or not bound."""
        if self.radius_auth_addr is None or self.radius_workers > 1:
            return None
        box = self._secret_box or _site_secret_box(self.settings)
        started = await start_auth_listener(database, self.radius_auth_addr, box, self.counters)
        self.subscriber_cache = started.cache
        self.radius_auth = started.server
        return started.server

    async def _start_auth_workers(self, database: Database) -> AuthWorkerPool | None:
        if self.radius_auth_addr is None or self.radius_workers <= 1:
            return None
        pool = await start_auth_workers(
            self.settings, database, self.radius_auth_addr, self.radius_workers, self.counters
        )
        self.radius_auth_workers = pool
        return pool

    async def _start_accounting(self, database: Database) -> RadiusAccountingServer | None:
        if self.radius_acct_addr is None:
            return None
        box = self._secret_box or _site_secret_box(self.settings)
        started = await start_accounting(
            self.settings, database, self.radius_acct_addr, box, self.counters
        )
        self._acct_engine = started.engine
        self.radius_acct = started.server
        return started.server

    def _public_url(self) -> str:
        """Where Daraja calls back: EASYISP_PUBLIC_URL, else this service's HTTP address."""
        if self.settings.public_url:
            return self.settings.public_url
        host, port = self.http_addr or ("127.0.0.1", 8080)
        wildcard = host in ("0.0.0.0", "::")  # noqa: S104 - comparing, not binding
        return f"http://{'127.0.0.1' if wildcard else host}:{port}"

    async def _start_http(self, database: Database) -> HttpServer | None:
        if self.http_addr is None:
            return None
        self.http = await start_http(database, self.http_addr, self.stk_flow, self.counters)
        return self.http


def _site_secret_box(settings: Settings) -> SecretBox:
    key = settings.site_key or load_or_create_site_key(settings.resolved_site_key_file)
    return SecretBox.from_encoded(key)


def run_service(
    settings: Settings,
    *,
    heartbeat_interval: float = DEFAULT_HEARTBEAT_INTERVAL,
    radius_auth_addr: Address | Literal["env"] | None = "env",
    radius_acct_addr: Address | Literal["env"] | None = "env",
    secret_box: SecretBox | None = None,
    http_addr: Address | Literal["env"] | None = "env",
) -> int:
    """Run the site service in this process until SIGTERM/SIGINT; returns the exit code.

    `radius_auth_addr` "env" takes Settings.radius_auth_addr (EASYISP_RADIUS_AUTH_ADDR), and
    `radius_acct_addr` "env" Settings.radius_acct_addr; None turns that listener off."""
    address = (
        auth_address(settings.radius_auth_addr)
        if isinstance(radius_auth_addr, str)
        else radius_auth_addr
    )
    acct = (
        acct_address(settings.radius_acct_addr)
        if isinstance(radius_acct_addr, str)
        else radius_acct_addr
    )
    service = SiteService(
        settings,
        heartbeat_interval=heartbeat_interval,
        radius_auth_addr=address,
        radius_acct_addr=acct,
        secret_box=secret_box,
        http_addr=http_address(settings.http_addr) if isinstance(http_addr, str) else http_addr,
        radius_workers=worker_count(settings.radius_workers),
    )

    async def main() -> None:
        restore = install_stop_signals(asyncio.get_running_loop(), service.request_stop)
        try:
            await service.run()
        finally:
            restore()

    asyncio.run(main())
    return 0
