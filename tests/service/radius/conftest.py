"""A real RADIUS auth server on 127.0.0.1:0 over a private database seeded through the
services, run on its own event loop thread (the aiosmtpd controller pattern)."""

from __future__ import annotations

import asyncio
import threading
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker

from easyisp_core.crypto import SecretBox
from easyisp_core.db.engine import make_engine
from easyisp_core.models import Tenant, Voucher
from easyisp_core.models.enums import CustomerStatus
from easyisp_core.services.radius_auth import NasClient, load_nas_clients
from radius_service.radius.auth import AccessRequestHandler
from radius_service.radius.listener import RadiusAuthServer
from radius_service.radius.subscriber_cache import SubscriberCache
from radius_service.simulator.nas import NasSimulator
from tests.factories import make_customer, make_nas, make_package, make_tenant

NAS_SECRET = "sim-secret-0123456789"
PPPOE_USER = "alice"
PPPOE_PASSWORD = "correct-horse"
HOTSPOT_USER = "hotspot-bob"
HOTSPOT_PASSWORD = "bob-pass"
HOTSPOT_MAC = "AA:BB:CC:DD:EE:FF"
EXPIRED_USER = "carol"
EXPIRED_PASSWORD = "carol-pass"
VOUCHER_CODE = "VC-12345678"
EXPIRED_POOL = "unpaid"


@dataclass
class Seeded:
    tenant_name: str
    voucher_code: str = VOUCHER_CODE


def seed(url: str, box: SecretBox) -> Seeded:
    engine = make_engine(url, application_name="radius-test-seed")
    try:
        with Session(engine) as session, session.begin():
            tenant = make_tenant(session)
            session.execute(
                update(Tenant)
                .where(Tenant.id == tenant.id)
                .values(config={"expired": {"expired_pool_name": EXPIRED_POOL}})
            )
            pppoe = make_package(
                session,
                tenant,
                name="Home 5M",
                burst_download=Decimal("10"),
                burst_upload=Decimal("4"),
                burst_threshold_download=Decimal("4"),
                burst_threshold_upload=Decimal("1.5"),
                burst_time=16,
                priority=5,
            )
            hotspot = make_package(
                session,
                tenant,
                name="Hotspot 1 day",
                type="HOTSPOT",
                price=Decimal("50"),
                validity_value=1,
                validity_unit="DAYS",
                shared_users=5,
            )
            future = datetime.now(UTC) + timedelta(days=10)
            make_customer(
                session,
                box,
                tenant,
                username=PPPOE_USER,
                password=PPPOE_PASSWORD,
                package=pppoe.name,
                expires_at=future,
            )
            make_customer(
                session,
                box,
                tenant,
                username=EXPIRED_USER,
                password=EXPIRED_PASSWORD,
                package=pppoe.name,
                expires_at=datetime.now(UTC) - timedelta(days=1),
                status=CustomerStatus.EXPIRED,
            )
            make_customer(
                session,
                box,
                tenant,
                username=HOTSPOT_USER,
                password=HOTSPOT_PASSWORD,
                connection_type="HOTSPOT",
                package=hotspot.name,
                expires_at=future,
                mac_address=HOTSPOT_MAC,
            )
            session.add(
                Voucher(
                    tenant_id=tenant.id,
                    code=VOUCHER_CODE,
                    package_id=hotspot.id,
                    price=Decimal("50"),
                )
            )
            make_nas(session, box, tenant, ip_address="127.0.0.1", secret=NAS_SECRET)
        return Seeded(tenant.name)
    finally:
        engine.dispose()


class ServerThread:
    """Runs RadiusAuthServer on a private event loop thread until stop()."""

    def __init__(self, url: str, box: SecretBox) -> None:
        self.engine = make_engine(url, application_name="radius-test-server", pool_size=10)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)
        self.counters: Counter[str] = Counter()
        self.server = RadiusAuthServer(
            ("127.0.0.1", 0),
            AccessRequestHandler(self.sessions, box),
            load_clients=self._load,
            counters=self.counters,
        )
        self._box = box
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, daemon=True)

    def _load(self) -> list[NasClient]:
        with self.sessions() as session:
            return load_nas_clients(session, self._box)

    def start(self) -> tuple[str, int]:
        self._thread.start()
        future = asyncio.run_coroutine_threadsafe(self.server.start(), self.loop)
        return future.result(timeout=10)

    def stop(self) -> None:
        asyncio.run_coroutine_threadsafe(self.server.stop(), self.loop).result(timeout=20)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout=10)
        self.loop.close()
        self.engine.dispose()


CACHE_WAIT = 20.0


class CachedServerThread(ServerThread):
    """ServerThread whose handler has a subscriber cache."""

    def __init__(self, url: str, box: SecretBox) -> None:
        super().__init__(url, box)
        self.cache = SubscriberCache(
            self.engine,
            self.sessions,
            on_nas_change=lambda: self.server.request_client_refresh(),
            reconnect_delay=3600,  # stays down once disconnected, for the fallback test
        )
        self.server = RadiusAuthServer(
            ("127.0.0.1", 0),
            AccessRequestHandler(self.sessions, box, cache=self.cache),
            load_clients=self._load,
            counters=self.counters,
        )

    def start(self) -> tuple[str, int]:
        self.cache.start()
        assert self.cache.loaded.wait(CACHE_WAIT)
        return super().start()

    def stop(self) -> None:
        # The cache first: a notification it is still applying uses the engine that
        # ServerThread.stop disposes (a connection returned to a disposed pool leaks).
        self.cache.stop()
        super().stop()


@pytest.fixture
def cached(fresh_db_url: str, secret_box: SecretBox) -> Iterator[CachedServerThread]:
    seed(fresh_db_url, secret_box)
    server = CachedServerThread(fresh_db_url, secret_box)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def seeded_url(fresh_db_url: str, secret_box: SecretBox) -> tuple[str, Seeded]:
    return fresh_db_url, seed(fresh_db_url, secret_box)


@pytest.fixture
def radius_server(seeded_url: tuple[str, Seeded], secret_box: SecretBox) -> Iterator[ServerThread]:
    server = ServerThread(seeded_url[0], secret_box)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def nas(radius_server: ServerThread) -> NasSimulator:
    assert radius_server.server.address is not None
    return NasSimulator(radius_server.server.address, NAS_SECRET.encode(), timeout=3.0)
