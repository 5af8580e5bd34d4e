"""A site with SMS on: a private database, the SMS double as its Africa's Talking gateway,
the site's real HTTP app (delivery reports) and senders logged in as easyisp_service."""

from __future__ import annotations

import asyncio
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session, sessionmaker

from easyisp_core.crypto import SecretBox
from easyisp_core.db.engine import make_engine
from easyisp_core.passwords import scram_verifier
from easyisp_core.repositories.roles import RoleRepository
from easyisp_core.services.gateways import create_sms_gateway
from radius_service.http.callbacks import CallbackEndpoints, build_app
from radius_service.http.server import HttpServer
from radius_service.http.sms_dlr import SmsDeliveryEndpoints
from radius_service.jobs.sms_sender import SmsSenderJob
from radius_service.simulator.sms.runner import SmsSimulator
from radius_service.simulator.sms.state import SmsSimulatorConfig
from tests.db.security_site import SERVICE_PASSWORD
from tests.factories import make_customer, make_package, make_tenant

WAIT = 15.0
SMS_CONFIG = {
    "sms": {"enabled": True, "sender_id": "ACMENET", "send_payment_receipts": True},
    "branding": {"display_name": "Acme Net", "support_phone": "0700 111 222"},
}


class SiteHttp:
    """The site's HTTP app on a private event loop thread."""

    def __init__(self, engine: Engine) -> None:
        sessions = sessionmaker(engine, expire_on_commit=False)
        self.counters: Counter[str] = Counter()
        app = build_app(
            CallbackEndpoints(sessions, self.counters),
            SmsDeliveryEndpoints(sessions, self.counters).routes(),
        )
        self.server = HttpServer(app, ("127.0.0.1", 0))
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, daemon=True)

    def start(self) -> None:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self.server.start(), self.loop).result(30)

    def stop(self) -> None:
        asyncio.run_coroutine_threadsafe(self.server.stop(), self.loop).result(30)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(10)
        self.loop.close()

    @property
    def url(self) -> str:
        assert self.server.address is not None
        host, port = self.server.address
        return f"http://{host}:{port}"


@dataclass
class SmsSite:
    tenant_id: uuid.UUID
    tenant: str
    customer_id: uuid.UUID
    username: str
    gateway_id: uuid.UUID
    token: str
    admin: sessionmaker[Session]
    service: sessionmaker[Session]
    sim: SmsSimulator
    http: SiteHttp
    box: SecretBox

    def sender(self, **kwargs: Any) -> SmsSenderJob:
        return SmsSenderJob(self.service, lambda: self.box, Counter(), **kwargs)

    def queue(self, phone: str, message: str, **columns: Any) -> None:
        with self.admin() as session, session.begin():
            session.execute(
                text("INSERT INTO sms_logs (tenant_id, phone, message) VALUES (:t, :p, :m)"),
                {"t": self.tenant_id, "p": phone, "m": message},
            )

    def rows(self, sql: str, **params: Any) -> list[Any]:
        with self.admin() as session:
            return list(session.execute(text(sql), params))

    def scalar(self, sql: str, **params: Any) -> Any:
        with self.admin() as session:
            return session.execute(text(sql), params).scalar()

    def wait_until(self, check: Callable[[], bool]) -> None:
        deadline = time.monotonic() + WAIT
        while not check():
            assert time.monotonic() < deadline, "timed out"
            time.sleep(0.02)


@pytest.fixture
def site(fresh_db_url: str, secret_box: SecretBox) -> Iterator[SmsSite]:
    admin_engine = make_engine(fresh_db_url, application_name="sms-test-admin")
    admin = sessionmaker(admin_engine, expire_on_commit=False)
    sim = SmsSimulator(SmsSimulatorConfig(balance=Decimal("1000"), dlr_delay=0.0)).start()
    try:
        with admin() as session, session.begin():
            tenant = make_tenant(session, config=SMS_CONFIG)
            package = make_package(session, tenant)
            customer = make_customer(session, secret_box, tenant, package=package.name)
            gateway = create_sms_gateway(
                session,
                secret_box,
                {
                    "tenant": tenant.name,
                    "name": "Africa's Talking",
                    "provider": "AFRICASTALKING",
                    "config": {"base_url": sim.url, "username": "sandbox"},
                    "credentials": {"api_key": "easyisp-sim-key"},
                    "is_default": True,
                },
            )
            RoleRepository(session).enable_service_login(scram_verifier(SERVICE_PASSWORD))
        assert gateway.callback_token is not None
        service_url = admin_engine.url.set(username="easyisp_service", password=SERVICE_PASSWORD)
        service_engine = make_engine(service_url, application_name="sms-test", pool_size=10)
        http = SiteHttp(service_engine)
        http.start()
        sim.config.callback_url = f"{http.url}/sms/{gateway.callback_token}/dlr"
        try:
            yield SmsSite(
                tenant_id=tenant.id,
                tenant=tenant.name,
                customer_id=customer.id,
                username=customer.username,
                gateway_id=gateway.id,
                token=gateway.callback_token,
                admin=admin,
                service=sessionmaker(service_engine, expire_on_commit=False),
                sim=sim,
                http=http,
                box=secret_box,
            )
        finally:
            sim.stop()  # first: no delivery report may reach a stopped site
            http.stop()
            service_engine.dispose()
    finally:
        sim.stop()
        admin_engine.dispose()
