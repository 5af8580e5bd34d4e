"""Composition root of the site service: open the database, start the jobs and the RADIUS
auth listener, stop cleanly.

Later slices add accounting, the M-Pesa callback server and the router queues here; each one
is started in run() and stopped in reverse order before the heartbeat row goes.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import signal
from collections import Counter
from collections.abc import Callable
from datetime import timedelta
from typing import Literal

from sqlalchemy import Engine
from sqlalchemy.orm import sessionmaker

from easyisp_core.crypto import SecretBox, load_or_create_site_key
from easyisp_core.db.engine import Database, make_engine, open_database
from easyisp_core.db.revision import check_schema
from easyisp_core.services.radius_auth import NasClient, load_nas_clients
from easyisp_core.settings import Settings
from radius_service.commands.runner import DEFAULT_POLL_INTERVAL as DEFAULT_COMMAND_POLL
from radius_service.commands.runner import SessionControl
from radius_service.http.callbacks import CallbackEndpoints, build_app
from radius_service.http.portal.endpoints import PortalEndpoints
from radius_service.http.server import HttpServer, http_address
from radius_service.http.sms_dlr import SmsDeliveryEndpoints
from radius_service.jobs import Job, run_periodically
from radius_service.jobs.heartbeat import DEFAULT_INTERVAL as DEFAULT_HEARTBEAT_INTERVAL
from radius_service.jobs.heartbeat import HeartbeatJob, ServiceIdentity
from radius_service.jobs.partitions import DEFAULT_INTERVAL as DEFAULT_PARTITION_INTERVAL
from radius_service.jobs.partitions import PartitionJob
from radius_service.jobs.payments import PaymentUpkeepJob
from radius_service.jobs.router_health import RouterHealthJob
from radius_service.jobs.sms_reminders import SmsReminderJob
from radius_service.jobs.sms_sender import SmsSenderJob
from radius_service.jobs.stk_query import StkQueryJob
from radius_service.mpesa.status_flow import StatusQueryJob
from radius_service.mpesa.stk_flow import StkFlow
from radius_service.radius.accounting import (
    ACCOUNTING_SERVER_SETTINGS,
    RadiusAccountingServer,
    acct_address,
)
from radius_service.radius.auth import AccessRequestHandler
from radius_service.radius.journal import Journal
from radius_service.radius.listener import Address, RadiusAuthServer, auth_address
from radius_service.radius.router_seen import SeenRouters
from radius_service.radius.subscriber_cache import SubscriberCache
from radius_service.radius.workers import CACHE_WARM_TIMEOUT, AuthWorkerPool, worker_count
from radius_service.routers.operations import RouterOperations
from radius_service.wireguard.job import WireGuardJob

log = logging.getLogger(__name__)

APPLICATION_NAME = "easyisp-service"
# How long a stop waits for running jobs to finish their current run before cancelling them.
SHUTDOWN_GRACE_SECONDS = 15.0


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
        heartbeat = HeartbeatJob(
            database.sessions,
            identity,
            self.counters,
            interval=self.heartbeat_interval,
            extra_counters=workers.totals if workers is not None else None,
        )
        health = RouterHealthJob(
            database.sessions,
            functools.cache(lambda: self._secret_box or _site_secret_box(self.settings)),
            self.counters,
            interval=self.settings.router_poll_seconds,
        )
        box_source = functools.cache(lambda: self._secret_box or _site_secret_box(self.settings))
        self.stk_flow = StkFlow(
            database.sessions,
            box_source,
            self._public_url(),
            counters=self.counters,
        )
        jobs: list[Job] = [
            heartbeat,
            PartitionJob(database.sessions, self.counters, interval=self.partition_interval),
            PaymentUpkeepJob(
                database.sessions,
                self.counters,
                retention=timedelta(days=self.settings.pending_payment_retention_days),
            ),
            StkQueryJob(self.stk_flow),
            StatusQueryJob(self.stk_flow),
            health,
            SmsSenderJob(database.sessions, box_source, self.counters),
            SmsReminderJob(database.sessions, self.counters),
        ]
        if self.settings.vpn_endpoint_host:
            # The site's WireGuard: only where the operator has said how routers reach it.
            jobs.append(WireGuardJob(database.sessions, self.settings, self.counters))
        tasks = [
            asyncio.create_task(run_periodically(job, self._stop, self.counters), name=job.name)
            for job in jobs
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
            await _finish(tasks)
            await health.aclose()
            await self.stk_flow.aclose()
            # Only after the heartbeat task is done, so no late beat can re-create the row.
            try:
                await heartbeat.remove()
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
        """Bind the auth listener; a busy port is logged and counted, not fatal, so the
        payment and maintenance jobs keep running while the operator frees it."""
        if self.radius_auth_addr is None or self.radius_workers > 1:
            return None
        box = self._secret_box or _site_secret_box(self.settings)

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
        self.subscriber_cache = cache
        # Bind with a warm cache (bounded: with the database down it answers by fallback).
        await asyncio.to_thread(cache.loaded.wait, CACHE_WARM_TIMEOUT)
        server = RadiusAuthServer(
            self.radius_auth_addr,
            AccessRequestHandler(database.sessions, box, cache=cache),
            load_clients=load_clients,
            counters=self.counters,
            seen=SeenRouters(database.sessions, counters=self.counters),
        )
        try:
            await server.start()
        except OSError as exc:
            self.counters["radius.auth.bind_failed"] += 1
            log.error(
                "RADIUS auth cannot listen on %s:%d (%s); running without it",
                *self.radius_auth_addr,
                exc.strerror or exc,
            )
            await server.stop()
            return None
        self.radius_auth = server
        return server

    async def _start_auth_workers(self, database: Database) -> AuthWorkerPool | None:
        if self.radius_auth_addr is None or self.radius_workers <= 1:
            return None
        # The workers connect to the database this process opened (an embedded server is
        # started once, here), never start their own.
        url = database.url.render_as_string(hide_password=False)
        settings = self.settings.model_copy(update={"database_url": url})
        key = self.settings.site_key or load_or_create_site_key(
            self.settings.resolved_site_key_file
        )
        pool = AuthWorkerPool(
            settings, self.radius_auth_addr, self.radius_workers, key, counters=self.counters
        )
        try:
            await pool.start()
        except OSError as exc:
            self.counters["radius.auth.bind_failed"] += 1
            log.error("RADIUS auth workers cannot start (%s); running without them", exc)
            await pool.stop()
            return None
        self.radius_auth_workers = pool
        return pool

    async def _start_accounting(self, database: Database) -> RadiusAccountingServer | None:
        """Bind the accounting listener; like auth, a busy port is counted, not fatal."""
        if self.radius_acct_addr is None:
            return None
        box = self._secret_box or _site_secret_box(self.settings)

        def load_clients() -> list[NasClient]:
            with database.sessions() as session:
                return load_nas_clients(session, box)

        # Its own pool: a connection per writer kept open (no ping per checkout: a dropped
        # one is retried once, radius/acct_store.py), not competing with the jobs for theirs.
        writers = self.settings.radius_acct_writers
        engine = make_engine(
            database.url,
            application_name="easyisp-radius-acct",
            pool_size=writers,
            pre_ping=False,
            server_settings=ACCOUNTING_SERVER_SETTINGS,
        )
        self._acct_engine = engine
        server = RadiusAccountingServer(
            self.radius_acct_addr,
            sessionmaker(engine, expire_on_commit=False),
            writers=writers,
            load_clients=load_clients,
            counters=self.counters,
            seen=SeenRouters(database.sessions, counters=self.counters),
            journal=Journal(
                self.settings.data_dir / "radius" / "accounting.journal",
                max_bytes=self.settings.acct_journal_max_mb * 1024 * 1024,
            ),
        )
        try:
            await server.start()
        except OSError as exc:
            self.counters["radius.acct.bind_failed"] += 1
            log.error(
                "RADIUS accounting cannot listen on %s:%d (%s); running without it",
                *self.radius_acct_addr,
                exc.strerror or exc,
            )
            await server.stop()
            return None
        self.radius_acct = server
        return server

    def _public_url(self) -> str:
        """Where Daraja calls back: EASYISP_PUBLIC_URL, else this service's HTTP address."""
        if self.settings.public_url:
            return self.settings.public_url
        host, port = self.http_addr or ("127.0.0.1", 8080)
        wildcard = host in ("0.0.0.0", "::")  # noqa: S104 - comparing, not binding
        return f"http://{'127.0.0.1' if wildcard else host}:{port}"

    async def _start_http(self, database: Database) -> HttpServer | None:
        """Bind the HTTP side (M-Pesa callbacks); a busy port is counted, not fatal."""
        if self.http_addr is None:
            return None
        confirm = self.stk_flow.confirm_callback if self.stk_flow else None
        endpoints = CallbackEndpoints(database.sessions, self.counters, confirm=confirm)
        portal = (
            PortalEndpoints(database.sessions, self.stk_flow.box_source, self.stk_flow).routes()
            if self.stk_flow
            else []
        )
        sms = SmsDeliveryEndpoints(database.sessions, self.counters).routes()
        server = HttpServer(build_app(endpoints, [*portal, *sms]), self.http_addr)
        try:
            await server.start()
        except OSError as exc:
            self.counters["http.bind_failed"] += 1
            log.error(
                "HTTP cannot listen on %s:%d (%s); running without M-Pesa callbacks",
                *self.http_addr,
                exc.strerror or exc,
            )
            return None
        self.http = server
        return server


def _site_secret_box(settings: Settings) -> SecretBox:
    key = settings.site_key or load_or_create_site_key(settings.resolved_site_key_file)
    return SecretBox.from_encoded(key)


async def _finish(tasks: list[asyncio.Task[None]]) -> None:
    """Let each job finish its current run; cancel what outlasts the grace period."""
    _done, pending = await asyncio.wait(tasks, timeout=SHUTDOWN_GRACE_SECONDS)
    for task in pending:
        log.warning(
            "job %s did not finish in %g s; cancelling it", task.get_name(), SHUTDOWN_GRACE_SECONDS
        )
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


def install_stop_signals(
    loop: asyncio.AbstractEventLoop, request_stop: Callable[[], None]
) -> Callable[[], None]:
    """Route SIGTERM and SIGINT to `request_stop`; returns a function that undoes it."""
    signals = [signal.SIGTERM, signal.SIGINT]
    try:
        for sig in signals:
            loop.add_signal_handler(sig, request_stop)
    except NotImplementedError:
        # Windows event loops have no add_signal_handler; a plain handler runs between
        # bytecodes on the main thread and hands the request to the loop thread-safely.
        previous = {sig: signal.getsignal(sig) for sig in signals}
        for sig in signals:
            signal.signal(sig, lambda _signum, _frame: loop.call_soon_threadsafe(request_stop))

        def restore_plain() -> None:
            for sig, handler in previous.items():
                signal.signal(sig, handler)

        return restore_plain

    def restore_loop() -> None:
        for sig in signals:
            loop.remove_signal_handler(sig)

    return restore_loop


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
