"""The site's HTTP app (callbacks + captive portal) on a private event loop thread, paid
through the Daraja simulator, over a private database logged in as easyisp_service."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session, sessionmaker

from easyisp_core.crypto import SecretBox
from easyisp_core.db.engine import make_engine, session_scope
from easyisp_core.models import Tenant
from easyisp_core.passwords import scram_verifier
from easyisp_core.repositories.roles import RoleRepository
from easyisp_core.services.gateways import create_payment_gateway
from easyisp_core.services.results import TenantInfo
from radius_service.http.callbacks import CallbackEndpoints, build_app
from radius_service.http.portal.endpoints import PortalEndpoints
from radius_service.http.server import HttpServer
from radius_service.mpesa.stk_flow import StkFlow
from radius_service.simulator.daraja.runner import DarajaSimulator
from radius_service.simulator.daraja.state import (
    SANDBOX_PASSKEY,
    SANDBOX_SHORTCODE,
    SimulatorConfig,
)
from radius_service.simulator.nas import NasReply, NasSimulator
from tests.db.security_site import SERVICE_PASSWORD
from tests.factories import make_customer, make_nas, make_package, make_tenant
from tests.service.payments.conftest import CallbackServer
from tests.service.radius.conftest import CachedServerThread

MAC = "AA:BB:CC:00:00:01"
ROUTER_LOGIN = "http://router.hotspot.test/login"
NAS_SECRET = "portal-nas-secret-0123456789"


class SiteServer(CallbackServer):
    """The site service's HTTP app as app.py builds it: callbacks and the portal."""

    def __init__(self, engine: Engine, box: SecretBox) -> None:
        super().__init__(engine)
        self.flow = StkFlow(self.sessions, box, "http://set-on-start")
        portal = PortalEndpoints(self.sessions, box, self.flow)
        callbacks = CallbackEndpoints(self.sessions, self.counters)
        self.server = HttpServer(build_app(callbacks, portal.routes()), ("127.0.0.1", 0))

    def start(self) -> None:
        super().start()
        self.flow.callback_base_url = self.base_url

    def stop(self) -> None:
        asyncio.run_coroutine_threadsafe(self.flow.aclose(), self.loop).result(30)
        super().stop()


@dataclass
class Portal:
    tenant: str
    tenant_id: uuid.UUID
    package_id: uuid.UUID
    customer_id: uuid.UUID
    admin: sessionmaker[Session]
    site: SiteServer
    simulator: DarajaSimulator

    @property
    def url(self) -> str:
        return f"{self.site.base_url}/portal/{self.tenant}"

    def scalar(self, sql: str, **params: Any) -> Any:
        with self.admin() as session:
            return session.execute(text(sql), params).scalar()

    def wait_for(self, sql: str, timeout: float = 30.0, **params: Any) -> Any:
        deadline = time.monotonic() + timeout
        while not (value := self.scalar(sql, **params)):
            assert time.monotonic() < deadline, f"never true: {sql}"
            time.sleep(0.05)
        return value


@pytest.fixture
def portal(fresh_db_url: str, secret_box: SecretBox) -> Iterator[Portal]:
    simulator = DarajaSimulator(SimulatorConfig(callback_delay=1.0)).start()
    admin_engine = make_engine(fresh_db_url, application_name="portal-admin")
    admin = sessionmaker(admin_engine, expire_on_commit=False)
    with session_scope(admin) as session:
        tenant = make_tenant(session)
        session.get(Tenant, tenant.id).config = {  # type: ignore[union-attr]
            "branding": {
                "display_name": "Mtaa WiFi",
                "support_phone": "0700 111 222",
                "primary_color": "#1A4E8A",
            }
        }
        day = make_package(
            session, tenant, name="1 day", type="HOTSPOT", price=Decimal("50"),
            validity_value=1, validity_unit="DAYS",
        )  # fmt: skip
        make_package(
            session, tenant, name="1 hour", type="HOTSPOT", price=Decimal("10"),
            validity_value=1, validity_unit="HOURS",
        )  # fmt: skip
        customer = make_customer(
            session, secret_box, tenant, connection_type="HOTSPOT", package=day.name,
            mac_address=MAC,
        )  # fmt: skip
        create_payment_gateway(
            session,
            secret_box,
            {
                "tenant": tenant.name, "name": "Hotspot", "provider": "MPESA_PAYBILL",
                "purpose": "HOTSPOT", "shortcode": SANDBOX_SHORTCODE,
                "config": {"environment": "simulator", "base_url": simulator.url},
                "credentials": {
                    "consumer_key": "easyisp-sim-key", "consumer_secret": "easyisp-sim-secret",
                    "passkey": SANDBOX_PASSKEY,
                },
            },
        )  # fmt: skip
        RoleRepository(session).enable_service_login(scram_verifier(SERVICE_PASSWORD))
    service_url = admin_engine.url.set(username="easyisp_service", password=SERVICE_PASSWORD)
    service_engine = make_engine(service_url, application_name="portal", pool_size=5)
    site = SiteServer(service_engine, secret_box)
    site.start()
    try:
        yield Portal(tenant.name, tenant.id, day.id, customer.id, admin, site, simulator)
    finally:
        site.stop()
        simulator.stop()
        service_engine.dispose()
        admin_engine.dispose()


@dataclass
class Router:
    """The hotspot router's RADIUS side: the site's real RADIUS server (with the subscriber
    cache, as the service runs it) and a NAS simulator that logs devices in as MikroTik
    does after its login page was posted."""

    server: CachedServerThread
    nas: NasSimulator

    def login(self, username: str, password: str, mac: str) -> NasReply:
        """The Access-Request the router sends for a hotspot login form post: the MAC login
        (User-Name = MAC, empty password) or the account's username and password."""
        self.nas.calling_station_id = mac
        method = "mac" if password == "" and username.upper() == mac.upper() else "pap"
        reply = self.nas.login(username, password, method=method, service="hotspot")
        assert reply is not None, "the RADIUS server did not answer"
        return reply


@pytest.fixture
def router(portal: Portal, fresh_db_url: str, secret_box: SecretBox) -> Iterator[Router]:
    with session_scope(portal.admin) as session:
        tenant = session.get(Tenant, portal.tenant_id)
        assert tenant is not None
        make_nas(
            session, secret_box, TenantInfo.of(tenant), ip_address="127.0.0.1", secret=NAS_SECRET
        )
    server = CachedServerThread(fresh_db_url, secret_box)
    address = server.start()
    try:
        yield Router(server, NasSimulator(address, NAS_SECRET.encode(), timeout=3.0))
    finally:
        server.stop()
