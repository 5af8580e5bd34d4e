"""A home (PPPoE) subscriber whose package ran out pays by paybill, end to end through the real
parts: C2B confirmation over the real HTTP endpoint → payment → wallet → renewal → the router's
next PPPoE Access-Request to the real RADIUS server is accepted with the new Session-Timeout."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from easyisp_core.crypto import SecretBox
from easyisp_core.db.engine import make_engine, session_scope
from easyisp_core.passwords import scram_verifier
from easyisp_core.repositories.roles import RoleRepository
from easyisp_core.services.customers import register_customer
from easyisp_core.services.gateways import create_payment_gateway
from radius_service.simulator.nas import NasReply, NasSimulator
from tests.db.security_site import SERVICE_PASSWORD
from tests.factories import make_nas, make_package, make_tenant
from tests.service.payments.conftest import SHORTCODE, CallbackServer
from tests.service.payments.payloads import c2b
from tests.service.radius.conftest import CachedServerThread

NAS_SECRET = "pppoe-nas-secret-0123456789"
USERNAME = "Kamau.Home"
PASSWORD = "pppoe-pass-7"


@dataclass
class Home:
    customer_id: uuid.UUID
    token: str
    admin: sessionmaker[Session]
    http: httpx.Client
    nas: NasSimulator

    def scalar(self, sql: str, **params: Any) -> Any:
        with self.admin() as session:
            return session.execute(text(sql), params).scalar()


@pytest.fixture
def home(fresh_db_url: str, secret_box: SecretBox) -> Iterator[Home]:
    admin_engine = make_engine(fresh_db_url, application_name="pppoe-admin")
    admin = sessionmaker(admin_engine, expire_on_commit=False)
    with session_scope(admin) as session:
        tenant = make_tenant(session)
        make_package(
            session, tenant, name="Home 10M 30 days", type="PPPOE", price=Decimal("1500"),
            validity_value=30, validity_unit="DAYS",
        )  # fmt: skip
        customer, _ = register_customer(
            session,
            secret_box,
            {
                "tenant": tenant.name, "username": USERNAME, "password": PASSWORD,
                "full_name": "Kamau Njoroge", "connection_type": "PPPOE",
                "phone": "0712345678", "package": "Home 10M 30 days",
            },
        )  # fmt: skip
        gateway = create_payment_gateway(
            session,
            secret_box,
            {
                "tenant": tenant.name, "name": "Home paybill", "provider": "MPESA_PAYBILL",
                "purpose": "PPPOE", "shortcode": SHORTCODE,
                "config": {"allowed_callback_ips": ["127.0.0.0/8"]},
                "credentials": {"consumer_key": "k", "consumer_secret": "s", "passkey": "p"},
            },
        )  # fmt: skip
        make_nas(session, secret_box, tenant, ip_address="127.0.0.1", secret=NAS_SECRET)
        RoleRepository(session).enable_service_login(scram_verifier(SERVICE_PASSWORD))
        assert gateway.callback_token is not None
        token = gateway.callback_token
    with admin.begin() as session:
        # The expiry job's work: the month ran out an hour ago.
        session.execute(
            text(
                "UPDATE customers SET status = 'EXPIRED', expires_at = now() - interval '1 hour'"
                " WHERE id = :c"
            ),
            {"c": customer.id},
        )
    service_url = admin_engine.url.set(username="easyisp_service", password=SERVICE_PASSWORD)
    service_engine = make_engine(service_url, application_name="pppoe-callbacks", pool_size=5)
    callbacks = CallbackServer(service_engine)
    callbacks.start()
    radius = CachedServerThread(fresh_db_url, secret_box)
    address = radius.start()
    try:
        with httpx.Client(base_url=callbacks.base_url, timeout=30) as http:
            nas = NasSimulator(address, NAS_SECRET.encode(), timeout=3.0)
            yield Home(customer.id, token, admin, http, nas)
    finally:
        radius.stop()
        callbacks.stop()
        service_engine.dispose()
        admin_engine.dispose()


def test_an_expired_pppoe_subscriber_pays_by_paybill_and_the_next_login_gets_the_package(
    home: Home,
) -> None:
    # Expired: the router puts the subscriber in the expired pool (the payment page) only.
    before = home.nas.login(USERNAME, PASSWORD, method="pap", service="pppoe")
    assert before is not None
    assert before.accepted
    assert before.first("Framed-Pool") == "expired"
    assert before.first("Session-Timeout") == 300

    # Typed at the phone as " kamau. home " (case and spaces ignored).
    reply = home.http.post(
        f"/pay/{home.token}/c2b/confirmation",
        json=c2b("PPPOEPAY01", amount="1500", account=" kamau. home "),
    )
    assert reply.json() == {"ResultCode": 0, "ResultDesc": "Success"}
    applied = "SELECT outcome = 'APPLIED' FROM mpesa_callbacks WHERE external_id = 'PPPOEPAY01'"
    _wait_until(home, applied)

    assert (
        home.scalar(
            "SELECT amount || ' ' || method || ' ' || status FROM payments "
            "WHERE transaction_id = 'PPPOEPAY01' AND customer_id = :c",
            c=home.customer_id,
        )
        == "1500.00 MPESA COMPLETED"
    )
    assert home.scalar(
        "SELECT status = 'ACTIVE' AND expires_at > now() + interval '29 days 23 hours' "
        "AND wallet_balance = 0 FROM customers WHERE id = :c",
        c=home.customer_id,
    )

    # The cache learns of the renewal by NOTIFY: the next login is the package's, not the pool's.
    after = _login_until_renewed(home)
    assert after.first("Framed-Pool") is None
    assert 29 * 86400 < after.first("Session-Timeout") <= 30 * 86400


def _wait_until(home: Home, sql: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not home.scalar(sql):
        assert time.monotonic() < deadline, f"never true: {sql}"
        time.sleep(0.05)


def _login_until_renewed(home: Home, timeout: float = 10.0) -> NasReply:
    deadline = time.monotonic() + timeout
    while True:
        reply = home.nas.login(USERNAME, PASSWORD, method="pap", service="pppoe")
        assert reply is not None
        assert reply.accepted, reply.attributes
        if reply.first("Framed-Pool") != "expired" or time.monotonic() > deadline:
            return reply
        time.sleep(0.1)
