"""Starting the site service's network listeners: RADIUS auth (in-process or as worker
processes), RADIUS accounting and HTTP.

Each start binds its port; a busy port is logged and counted (`<listener>.bind_failed`), not
fatal, so the payment and maintenance jobs keep running while the operator frees it. What is
started is returned for the composition root (app.py) to stop in order.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import Engine
from sqlalchemy.orm import sessionmaker

from easyisp_core.crypto import SecretBox, load_or_create_site_key
from easyisp_core.db.engine import Database, make_engine
from easyisp_core.services.radius_auth import NasClient, load_nas_clients
from easyisp_core.settings import Settings
from radius_service.http.callbacks import CallbackEndpoints, build_app
from radius_service.http.portal.endpoints import PortalEndpoints
from radius_service.http.server import HttpServer
from radius_service.http.sms_dlr import SmsDeliveryEndpoints
from radius_service.mpesa.stk_flow import StkFlow
from radius_service.radius.accounting import ACCOUNTING_SERVER_SETTINGS, RadiusAccountingServer
from radius_service.radius.auth import AccessRequestHandler
from radius_service.radius.journal import Journal
from radius_service.radius.listener import Address, RadiusAuthServer
from radius_service.radius.router_seen import SeenRouters
from radius_service.radius.subscriber_cache import SubscriberCache
from radius_service.radius.workers import CACHE_WARM_TIMEOUT, AuthWorkerPool

log = logging.getLogger(__name__)


def _client_loader(database: Database, box: SecretBox) -> Callable[[], list[NasClient]]:
    """Reads the RADIUS clients (routers) from the nas table, secrets decrypted."""

    def load_clients() -> list[NasClient]:
        with database.sessions() as session:
            return load_nas_clients(session, box)

    return load_clients


@dataclass
class AuthListener:
    """The in-process auth listener and the subscriber cache it decides from (the cache
    runs even when the port could not be bound, and must be stopped either way)."""

    cache: SubscriberCache
    server: RadiusAuthServer | None


async def start_auth_listener(
    database: Database, address: Address, box: SecretBox, counters: Counter[str]
) -> AuthListener:
    """The auth listener in this process, with a subscriber cache warmed before the bind
    (bounded: with the database down it answers by fallback)."""
    server: RadiusAuthServer | None = None
    cache = SubscriberCache(
        database.engine,
        database.sessions,
        on_nas_change=lambda: server.request_client_refresh() if server else None,
    )
    cache.start()
    await asyncio.to_thread(cache.loaded.wait, CACHE_WARM_TIMEOUT)
    server = RadiusAuthServer(
        address,
        AccessRequestHandler(database.sessions, box, cache=cache),
        load_clients=_client_loader(database, box),
        counters=counters,
        seen=SeenRouters(database.sessions, counters=counters),
    )
    try:
        await server.start()
    except OSError as exc:
        counters["radius.auth.bind_failed"] += 1
        log.error(
            "RADIUS auth cannot listen on %s:%d (%s); running without it",
            *address,
            exc.strerror or exc,
        )
        await server.stop()
        return AuthListener(cache, None)
    return AuthListener(cache, server)


async def start_auth_workers(
    settings: Settings,
    database: Database,
    address: Address,
    workers: int,
    counters: Counter[str],
) -> AuthWorkerPool | None:
    """Auth in `workers` processes sharing the port (SO_REUSEPORT, radius/workers.py)."""
    # The workers connect to the database this process opened (an embedded server is
    # started once, here), never start their own.
    url = database.url.render_as_string(hide_password=False)
    worker_settings = settings.model_copy(update={"database_url": url})
    key = settings.site_key or load_or_create_site_key(settings.resolved_site_key_file)
    pool = AuthWorkerPool(worker_settings, address, workers, key, counters=counters)
    try:
        await pool.start()
    except OSError as exc:
        counters["radius.auth.bind_failed"] += 1
        log.error("RADIUS auth workers cannot start (%s); running without them", exc)
        await pool.stop()
        return None
    return pool


@dataclass
class AccountingListener:
    """The accounting listener and its own engine (disposed after the listener stops)."""

    engine: Engine
    server: RadiusAccountingServer | None


async def start_accounting(
    settings: Settings,
    database: Database,
    address: Address,
    box: SecretBox,
    counters: Counter[str],
) -> AccountingListener:
    # Its own pool: a connection per writer kept open (no ping per checkout: a dropped
    # one is retried once, radius/acct_store.py), not competing with the jobs for theirs.
    writers = settings.radius_acct_writers
    engine = make_engine(
        database.url,
        application_name="easyisp-radius-acct",
        pool_size=writers,
        pre_ping=False,
        server_settings=ACCOUNTING_SERVER_SETTINGS,
    )
    server = RadiusAccountingServer(
        address,
        sessionmaker(engine, expire_on_commit=False),
        writers=writers,
        load_clients=_client_loader(database, box),
        counters=counters,
        seen=SeenRouters(database.sessions, counters=counters),
        journal=Journal(
            settings.data_dir / "radius" / "accounting.journal",
            max_bytes=settings.acct_journal_max_mb * 1024 * 1024,
        ),
    )
    try:
        await server.start()
    except OSError as exc:
        counters["radius.acct.bind_failed"] += 1
        log.error(
            "RADIUS accounting cannot listen on %s:%d (%s); running without it",
            *address,
            exc.strerror or exc,
        )
        await server.stop()
        return AccountingListener(engine, None)
    return AccountingListener(engine, server)


async def start_http(
    database: Database, address: Address, stk_flow: StkFlow | None, counters: Counter[str]
) -> HttpServer | None:
    """The HTTP side: M-Pesa callbacks, the captive portal, SMS delivery reports."""
    confirm = stk_flow.confirm_callback if stk_flow else None
    endpoints = CallbackEndpoints(database.sessions, counters, confirm=confirm)
    portal = (
        PortalEndpoints(database.sessions, stk_flow.box_source, stk_flow).routes()
        if stk_flow
        else []
    )
    sms = SmsDeliveryEndpoints(database.sessions, counters).routes()
    server = HttpServer(build_app(endpoints, [*portal, *sms]), address)
    try:
        await server.start()
    except OSError as exc:
        counters["http.bind_failed"] += 1
        log.error(
            "HTTP cannot listen on %s:%d (%s); running without M-Pesa callbacks",
            *address,
            exc.strerror or exc,
        )
        return None
    return server
