"""A real HTTP callback server (uvicorn on 127.0.0.1:0, its own event loop thread) over a
private database seeded through the services; the site service's own login is used."""

from __future__ import annotations

import asyncio
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, select, text
from sqlalchemy.orm import Session, sessionmaker

from easyisp_core.crypto import SecretBox
from easyisp_core.db.engine import make_engine
from easyisp_core.models import MpesaCallback, PendingHotspotPayment
from easyisp_core.models.enums import MpesaCallbackOutcome
from easyisp_core.passwords import scram_verifier
from easyisp_core.repositories.roles import RoleRepository
from easyisp_core.services.gateways import create_payment_gateway
from radius_service.http.callbacks import CallbackEndpoints, build_app
from radius_service.http.server import HttpServer
from tests.db.security_site import SERVICE_PASSWORD
from tests.factories import make_customer, make_package, make_tenant

SHORTCODE = "600984"
PHONE = "254712345678"


@dataclass
class Site:
    """What the tests pay into."""

    tenant_id: uuid.UUID
    token: str
    # Same tenant's business, but its gateway only trusts Safaricom's address.
    strict_token: str
    customer_id: uuid.UUID
    username: str
    account_number: str
    package_id: uuid.UUID
    price: Decimal
    other_customer_id: uuid.UUID


def _seed(session: Session, box: SecretBox) -> Site:
    tenant = make_tenant(session)
    hotspot = make_package(
        session,
        tenant,
        name="Hotspot 1 day",
        type="HOTSPOT",
        price=Decimal("50"),
        validity_value=1,
        validity_unit="DAYS",
    )
    customer = make_customer(session, box, tenant, connection_type="HOTSPOT", package=hotspot.name)
    other = make_customer(session, box, tenant, connection_type="HOTSPOT", package=hotspot.name)
    gateway = create_payment_gateway(
        session,
        box,
        {
            "tenant": tenant.name,
            "name": "Paybill",
            "provider": "MPESA_PAYBILL",
            "purpose": "HOTSPOT",
            "shortcode": SHORTCODE,
            "config": {"allowed_callback_ips": ["127.0.0.0/8"]},
            "credentials": {"consumer_key": "k", "consumer_secret": "s", "passkey": "p"},
        },
    )
    strict = create_payment_gateway(
        session,
        box,
        {
            "tenant": tenant.name,
            "name": "PPPoE paybill",
            "provider": "MPESA_PAYBILL",
            "purpose": "PPPOE",
            "shortcode": SHORTCODE,
            "config": {"allowed_callback_ips": ["196.201.214.200"]},
            "credentials": {"consumer_key": "k", "consumer_secret": "s", "passkey": "p"},
        },
    )
    session.flush()
    assert gateway.callback_token is not None
    assert strict.callback_token is not None
    account = session.execute(
        text("SELECT account_number FROM customers WHERE id = :c"), {"c": customer.id}
    ).scalar_one()
    return Site(
        tenant_id=tenant.id,
        token=gateway.callback_token,
        strict_token=strict.callback_token,
        customer_id=customer.id,
        username=customer.username,
        account_number=account,
        package_id=hotspot.id,
        price=Decimal("50.00"),
        other_customer_id=other.id,
    )


class CallbackServer:
    """The callback endpoints on a private event loop thread, logged in as easyisp_service."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.sessions = sessionmaker(engine, expire_on_commit=False)
        self.counters: Counter[str] = Counter()
        self.server = HttpServer(
            build_app(CallbackEndpoints(self.sessions, self.counters)), ("127.0.0.1", 0)
        )
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
    def base_url(self) -> str:
        assert self.server.address is not None
        host, port = self.server.address
        return f"http://{host}:{port}"


@dataclass
class Harness:
    site: Site
    server: CallbackServer
    admin: sessionmaker[Session]
    client: httpx.Client

    def post(
        self, path: str, body: dict[str, Any] | str, token: str | None = None
    ) -> httpx.Response:
        url = f"/pay/{token or self.site.token}/{path}"
        if isinstance(body, str):
            return self.client.post(url, content=body, headers={"Content-Type": "application/json"})
        return self.client.post(url, json=body)

    def settle(self, timeout: float = 30.0) -> None:
        """Wait until every stored callback was processed (the reply comes before that)."""
        deadline = time.monotonic() + timeout
        while True:
            with self.admin() as session:
                pending = session.scalar(
                    select(MpesaCallback.id)
                    .where(MpesaCallback.outcome == MpesaCallbackOutcome.PENDING)
                    .limit(1)
                )
            if pending is None:
                return
            assert time.monotonic() < deadline, "callbacks still unprocessed"
            time.sleep(0.02)

    def pending_stk(
        self,
        checkout: str,
        *,
        amount: Decimal = Decimal("50"),
        expires_in: timedelta = timedelta(minutes=2),
        customer: uuid.UUID | str | None = "default",
    ) -> uuid.UUID:
        """The STK push the portal would have started (the portal is another slice)."""
        with self.admin() as session, session.begin():
            row = PendingHotspotPayment(
                tenant_id=self.site.tenant_id,
                checkout_request_id=checkout,
                merchant_request_id="29115-34620561-1",
                phone=PHONE,
                amount=amount,
                package_id=self.site.package_id,
                customer_id=self.site.customer_id if customer == "default" else customer,
                expires_at=datetime.now(UTC) + expires_in,
            )
            session.add(row)
            session.flush()
            return row.id

    def scalar(self, sql: str, **params: Any) -> Any:
        with self.admin() as session:
            return session.execute(text(sql), params).scalar()

    def rows(self, sql: str, **params: Any) -> list[Any]:
        with self.admin() as session:
            return list(session.execute(text(sql), params))

    def balance(self, customer: uuid.UUID | None = None) -> Decimal:
        value = self.scalar(
            "SELECT wallet_balance FROM customers WHERE id = :c",
            c=customer or self.site.customer_id,
        )
        return Decimal(value)


@pytest.fixture
def h(fresh_db_url: str, secret_box: SecretBox) -> Iterator[Harness]:
    admin_engine = make_engine(fresh_db_url, application_name="payments-test-admin")
    admin = sessionmaker(admin_engine, expire_on_commit=False)
    with admin() as session, session.begin():
        site = _seed(session, secret_box)
        RoleRepository(session).enable_service_login(scram_verifier(SERVICE_PASSWORD))
    service_url = admin_engine.url.set(username="easyisp_service", password=SERVICE_PASSWORD)
    service_engine = make_engine(service_url, application_name="payments-test", pool_size=10)
    server = CallbackServer(service_engine)
    server.start()
    try:
        with httpx.Client(base_url=server.base_url, timeout=30) as client:
            yield Harness(site, server, admin, client)
    finally:
        server.stop()
        service_engine.dispose()
        admin_engine.dispose()
