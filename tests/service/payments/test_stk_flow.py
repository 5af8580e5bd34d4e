"""The STK flow through the real pieces: the Daraja simulator calls back to the site's real
HTTP callback server, which credits through the database; pushes without a callback are
settled by STK Push Query. The simulator's last-two-digits rule picks the customer's answer
(docs/daraja-simulator.md): 01 cancels, 06 sends no callback, anything else pays."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any, TypeVar

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from easyisp_core.crypto import SecretBox
from easyisp_core.db.engine import make_engine, session_scope
from easyisp_core.errors import ValidationFailed
from easyisp_core.models import Tenant
from easyisp_core.models.enums import HotspotPaymentStatus
from easyisp_core.passwords import scram_verifier
from easyisp_core.repositories.roles import RoleRepository
from easyisp_core.rules.hotspot_login import LoginKind
from easyisp_core.rules.hotspot_signup import SignupRefusal, SignupRefused
from easyisp_core.services.audit import verify_chain
from easyisp_core.services.gateways import create_payment_gateway
from easyisp_core.services.results import TenantInfo
from easyisp_core.services.stk_purchase import login_after_purchase, purchase_status
from radius_service.http.callbacks import CallbackEndpoints, build_app
from radius_service.http.server import HttpServer
from radius_service.mpesa.errors import DarajaBadRequest
from radius_service.mpesa.stk_flow import PushRequest, StkFlow
from radius_service.simulator.daraja.runner import DarajaSimulator
from radius_service.simulator.daraja.state import (
    SANDBOX_PASSKEY,
    SANDBOX_SHORTCODE,
    SimulatorConfig,
)
from radius_service.simulator.nas import NasSimulator
from tests.db.security_site import SERVICE_PASSWORD
from tests.factories import make_customer, make_nas, make_package, make_tenant
from tests.service.payments.conftest import CallbackServer
from tests.service.payments.payloads import c2b, stk_success
from tests.service.radius.conftest import ServerThread as RadiusServerThread

T = TypeVar("T")

MAC = "AA:BB:CC:00:00:01"
NAS_SECRET = "stk-nas-secret-0123456789"
PAYS = "0712345600"
CANCELS = "0712345601"
NO_CALLBACK = "0712345606"


@dataclass
class Shop:
    tenant_id: uuid.UUID
    package_id: uuid.UUID
    customer_id: uuid.UUID
    box: SecretBox
    admin: sessionmaker[Session]
    service: sessionmaker[Session]
    callbacks: CallbackServer
    simulator: DarajaSimulator

    def flow(self, **kwargs: Any) -> StkFlow:
        return StkFlow(self.service, self.box, self.callbacks.base_url, **kwargs)

    def scalar(self, sql: str, **params: Any) -> Any:
        with self.admin() as session:
            return session.execute(text(sql), params).scalar()

    def status(self, pending_id: uuid.UUID) -> HotspotPaymentStatus:
        with session_scope(self.admin) as session:
            found = purchase_status(session, self.tenant_id, pending_id)
        assert found is not None
        return found.status

    def wait_status(self, pending_id: uuid.UUID, timeout: float = 30.0) -> HotspotPaymentStatus:
        """Until the simulator's callback (or the query job) settled the push."""
        deadline = time.monotonic() + timeout
        while (status := self.status(pending_id)) is HotspotPaymentStatus.PENDING:
            assert time.monotonic() < deadline, "the push was never settled"
            time.sleep(0.05)
        return status

    def payments(self) -> int:
        return int(
            self.scalar("SELECT count(*) FROM payments WHERE customer_id = :c", c=self.customer_id)
        )


def _run(make: Callable[[], Awaitable[T]]) -> T:
    return asyncio.run(make())  # type: ignore[arg-type]


@pytest.fixture
def shop(fresh_db_url: str, secret_box: SecretBox) -> Iterator[Shop]:
    simulator = DarajaSimulator(SimulatorConfig(callback_delay=0.05)).start()
    admin_engine = make_engine(fresh_db_url, application_name="stk-flow-admin")
    admin = sessionmaker(admin_engine, expire_on_commit=False)
    with session_scope(admin) as session:
        tenant = make_tenant(session)
        package = make_package(
            session,
            tenant,
            name="Hotspot 1 day",
            type="HOTSPOT",
            price=Decimal("50"),
            validity_value=1,
            validity_unit="DAYS",
        )
        customer = make_customer(
            session,
            secret_box,
            tenant,
            connection_type="HOTSPOT",
            package=package.name,
            mac_address=MAC,
            phone=PAYS,
        )
        create_payment_gateway(
            session,
            secret_box,
            {
                "tenant": tenant.name,
                "name": "Hotspot paybill",
                "provider": "MPESA_PAYBILL",
                "purpose": "HOTSPOT",
                "shortcode": SANDBOX_SHORTCODE,
                "config": {
                    "environment": "simulator",
                    "base_url": simulator.url,
                    "allowed_callback_ips": ["127.0.0.0/8"],
                },
                "credentials": {
                    "consumer_key": "easyisp-sim-key",
                    "consumer_secret": "easyisp-sim-secret",
                    "passkey": SANDBOX_PASSKEY,
                },
            },
        )
        make_nas(session, secret_box, tenant, ip_address="127.0.0.1", secret=NAS_SECRET)
        RoleRepository(session).enable_service_login(scram_verifier(SERVICE_PASSWORD))
    service_url = admin_engine.url.set(username="easyisp_service", password=SERVICE_PASSWORD)
    service_engine = make_engine(service_url, application_name="stk-flow", pool_size=5)
    service = sessionmaker(service_engine, expire_on_commit=False)
    callbacks = CallbackServer(service_engine)
    callbacks.start()
    try:
        yield Shop(
            tenant.id, package.id, customer.id, secret_box, admin, service, callbacks, simulator
        )
    finally:
        callbacks.stop()
        simulator.stop()
        service_engine.dispose()
        admin_engine.dispose()


def _push(shop: Shop, phone: str, **flow_options: Any) -> uuid.UUID:
    async def go() -> uuid.UUID:
        flow = shop.flow(**flow_options)
        try:
            started = await flow.start_push(
                PushRequest(shop.tenant_id, shop.package_id, phone, MAC, "10.5.50.20")
            )
        finally:
            await flow.aclose()
        return started.pending_id

    return _run(go)


def test_paid_push_credits_renews_and_logs_the_device_in_by_mac(shop: Shop) -> None:
    before = datetime.now(UTC)
    pending_id = _push(shop, "+254 712 345 600")

    assert shop.wait_status(pending_id) is HotspotPaymentStatus.COMPLETED
    assert shop.payments() == 1
    expires = shop.scalar("SELECT expires_at FROM customers WHERE id = :c", c=shop.customer_id)
    assert expires > before + timedelta(hours=23)
    row = shop.scalar(
        "SELECT phone || ' ' || amount || ' ' || mac_address FROM pending_hotspot_payments"
    )
    assert row == "254712345600 50.00 aa:bb:cc:00:00:01"
    with session_scope(shop.service) as session:
        login = login_after_purchase(session, shop.box, shop.tenant_id, pending_id)
    assert login is not None
    assert (login.kind, login.username, login.password) == (LoginKind.MAC, MAC, "")


def test_push_without_callback_is_settled_by_query_once(shop: Shop) -> None:
    pending_id = _push(shop, NO_CALLBACK)

    async def settle() -> list[int]:
        flow = shop.flow(query_after=timedelta(0))
        results = []
        try:
            # The simulator answers "being processed" until the customer has paid.
            for _ in range(200):
                results.append(await flow.settle_unanswered())
                if sum(results):
                    break
                await asyncio.sleep(0.05)
            # A second run finds nothing left to settle.
            results.append(await flow.settle_unanswered())
        finally:
            await flow.aclose()
        return results

    results = _run(settle)
    assert sum(results) == 1
    assert results[-1] == 0
    assert shop.status(pending_id) is HotspotPaymentStatus.COMPLETED
    assert shop.payments() == 1
    checkout = shop.scalar("SELECT checkout_request_id FROM pending_hotspot_payments")
    assert shop.scalar("SELECT transaction_id FROM payments") == checkout.upper()

    # The same payment's C2B confirmation brings the real receipt: adopted, not credited.
    token = shop.scalar("SELECT callback_token FROM payment_gateways")
    username = shop.scalar("SELECT username FROM customers WHERE id = :c", c=shop.customer_id)
    balance = shop.scalar("SELECT wallet_balance FROM customers WHERE id = :c", c=shop.customer_id)
    confirmation = c2b("QRC1234567", amount="50", account=username, shortcode=SANDBOX_SHORTCODE)
    reply = httpx.post(f"{shop.callbacks.base_url}/pay/{token}/c2b/confirmation", json=confirmation)
    assert reply.status_code == 200
    shop_outcome = _wait_kind_outcome(shop, "C2B_CONFIRMATION")
    assert shop_outcome == "IGNORED"
    assert shop.payments() == 1
    assert shop.scalar("SELECT transaction_id FROM payments") == "QRC1234567"
    after = shop.scalar("SELECT wallet_balance FROM customers WHERE id = :c", c=shop.customer_id)
    assert after == balance


def test_a_push_is_queried_only_once_60_seconds_passed_without_a_callback(shop: Shop) -> None:
    """The service's default: a push is asked about 60 s after it was sent, not sooner."""
    pending_id = _push(shop, NO_CALLBACK)
    checkout = shop.scalar("SELECT checkout_request_id FROM pending_hotspot_payments")
    sent = shop.scalar("SELECT created_at FROM pending_hotspot_payments")
    # The customer has paid at the simulator; only a query can tell us.
    deadline = time.monotonic() + 30
    while _sim_state(shop, checkout) != "completed":
        assert time.monotonic() < deadline
        time.sleep(0.05)

    async def settle_at(after: timedelta) -> int:
        flow = shop.flow(clock=lambda: sent + after)
        assert flow.query_after == timedelta(seconds=60)
        try:
            return await flow.settle_unanswered()
        finally:
            await flow.aclose()

    assert _run(lambda: settle_at(timedelta(seconds=59))) == 0
    assert shop.status(pending_id) is HotspotPaymentStatus.PENDING
    assert _run(lambda: settle_at(timedelta(seconds=61))) == 1
    assert shop.status(pending_id) is HotspotPaymentStatus.COMPLETED
    assert shop.payments() == 1


def _sim_state(shop: Shop, checkout: str) -> str:
    listing = httpx.get(f"{shop.simulator.url}/simulator/transactions").json()
    (found,) = [t for t in listing["stk"] if t["checkout_request_id"] == checkout]
    return str(found["state"])


def test_cancelled_push_leaves_no_payment(shop: Shop) -> None:
    pending_id = _push(shop, CANCELS)

    assert shop.wait_status(pending_id) is HotspotPaymentStatus.FAILED
    assert shop.scalar("SELECT result_code FROM pending_hotspot_payments") == 1032
    assert shop.payments() == 0
    with session_scope(shop.service) as session:
        assert login_after_purchase(session, shop.box, shop.tenant_id, pending_id) is None


def test_bad_phone_is_refused_and_stores_nothing(shop: Shop) -> None:
    with pytest.raises(ValidationFailed):
        _push(shop, "0201234567")
    assert shop.scalar("SELECT count(*) FROM pending_hotspot_payments") == 0


NEW_MAC = "AA:BB:CC:00:00:99"
NEW_PHONE = "0712345699"


def _push_from(shop: Shop, phone: str, mac: str | None) -> uuid.UUID:
    async def go() -> uuid.UUID:
        flow = shop.flow()
        try:
            started = await flow.start_push(
                PushRequest(shop.tenant_id, shop.package_id, phone, mac, "10.5.50.21")
            )
        finally:
            await flow.aclose()
        return started.pending_id

    return _run(go)


def _accounts_of(shop: Shop, mac: str) -> int:
    return int(
        shop.scalar("SELECT count(*) FROM customers WHERE mac_address = CAST(:m AS macaddr)", m=mac)
    )


def test_device_without_mac_pays_into_suspense(shop: Shop) -> None:
    """No MAC from the router: nothing to bind an account to, so no account is made."""
    pending_id = _push_from(shop, NEW_PHONE, None)
    # Nobody to credit: the money waits in suspense for staff, never lost.
    deadline = time.monotonic() + 30
    while shop.scalar("SELECT count(*) FROM mpesa_suspense") == 0:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    # Paid (the portal says so), but no payment until staff assign the money.
    assert shop.status(pending_id) is HotspotPaymentStatus.COMPLETED
    assert shop.payments() == 0
    with session_scope(shop.service) as session:
        assert login_after_purchase(session, shop.box, shop.tenant_id, pending_id) is None


def test_new_device_signs_up_pays_and_logs_in_by_mac(shop: Shop, fresh_db_url: str) -> None:
    """A phone the ISP has never seen buys a package: the push creates its hotspot account,
    the callback credits and renews it, and the router's MAC login is then accepted with the
    package's Session-Timeout."""
    radius = RadiusServerThread(fresh_db_url, shop.box)
    address = radius.start()
    try:
        nas = NasSimulator(address, NAS_SECRET.encode(), timeout=3.0)
        nas.calling_station_id = NEW_MAC
        refused = nas.login(NEW_MAC, "", method="mac")
        assert refused is not None
        assert not refused.accepted

        pending_id = _push_from(shop, NEW_PHONE, NEW_MAC)
        assert shop.wait_status(pending_id) is HotspotPaymentStatus.COMPLETED

        assert _accounts_of(shop, NEW_MAC) == 1
        account = shop.scalar(
            "SELECT username || ' ' || phone || ' ' || connection_type || ' ' || status "
            "FROM customers WHERE mac_address = CAST(:m AS macaddr)",
            m=NEW_MAC,
        )
        assert account == "hsaabbcc000099 254712345699 HOTSPOT ACTIVE"
        customer = shop.scalar(
            "SELECT customer_id FROM pending_hotspot_payments WHERE id = :p", p=pending_id
        )
        assert customer is not None
        paid = shop.scalar(
            "SELECT sum(amount) FROM payments WHERE customer_id = :c AND status = 'COMPLETED'",
            c=customer,
        )
        assert paid == Decimal("50.00")
        assert shop.scalar("SELECT count(*) FROM mpesa_suspense") == 0
        audit = shop.scalar(
            "SELECT count(*) FROM audit_logs WHERE target_customer_id = :c "
            "AND action IN ('CUSTOMER_CREATE', 'CUSTOMER_SELF_SIGNUP')",
            c=customer,
        )
        assert audit == 2
        with session_scope(shop.service) as session:
            login = login_after_purchase(session, shop.box, shop.tenant_id, pending_id)
        assert login is not None
        assert (login.kind, login.username) == (LoginKind.MAC, NEW_MAC)

        accepted = nas.login(NEW_MAC, "", method="mac")
        assert accepted is not None
        assert accepted.accepted, accepted.attributes
        assert 23 * 3600 < accepted.first("Session-Timeout") <= 24 * 3600
    finally:
        radius.stop()


def test_two_pushes_from_one_new_device_make_one_account(shop: Shop) -> None:
    """A double tap on the portal: both pushes plan at once. Daraja itself may refuse the
    second push to the same phone ("unable to lock subscriber"); either way one account."""

    async def go() -> list[object]:
        flows = [shop.flow(), shop.flow()]
        try:
            return await asyncio.gather(
                *(
                    flow.start_push(
                        PushRequest(shop.tenant_id, shop.package_id, NO_CALLBACK, NEW_MAC)
                    )
                    for flow in flows
                ),
                return_exceptions=True,
            )
        finally:
            for flow in flows:
                await flow.aclose()

    results = _run(go)
    assert any(not isinstance(result, BaseException) for result in results), results
    assert _accounts_of(shop, NEW_MAC) == 1
    owners = shop.scalar(
        "SELECT array_agg(DISTINCT customer_id) FROM pending_hotspot_payments "
        "WHERE mac_address = CAST(:m AS macaddr)",
        m=NEW_MAC,
    )
    account = shop.scalar(
        "SELECT id FROM customers WHERE mac_address = CAST(:m AS macaddr)", m=NEW_MAC
    )
    assert owners == [account]


def test_self_signup_turned_off_refuses_and_creates_nothing(shop: Shop) -> None:
    with session_scope(shop.admin) as session:
        session.execute(
            text(
                "UPDATE tenants SET config = config || "
                '\'{"hotspot": {"self_signup": false}}\'::jsonb WHERE id = :t'
            ),
            {"t": shop.tenant_id},
        )
    with pytest.raises(ValidationFailed) as refused:
        _push_from(shop, NEW_PHONE, NEW_MAC)
    assert "signup" in refused.value.field_errors
    assert _accounts_of(shop, NEW_MAC) == 0
    assert shop.scalar("SELECT count(*) FROM pending_hotspot_payments") == 0


def test_a_push_daraja_refuses_leaves_no_account_for_the_new_device(shop: Shop) -> None:
    """The sign-up is only tried before the push; the account is made once Daraja has
    accepted it, so a refused push leaves no orphan account (nor its audit rows)."""
    with session_scope(shop.admin) as session:
        session.execute(text("UPDATE payment_gateways SET shortcode = '999999'"))
    customers = shop.scalar("SELECT count(*) FROM customers")
    audit = shop.scalar("SELECT count(*) FROM audit_logs")
    with pytest.raises(DarajaBadRequest, match="Merchant does not exist"):
        _push_from(shop, NEW_PHONE, NEW_MAC)
    assert shop.scalar("SELECT count(*) FROM customers") == customers
    assert shop.scalar("SELECT count(*) FROM audit_logs") == audit
    assert shop.scalar("SELECT count(*) FROM pending_hotspot_payments") == 0

    # Once Daraja accepts a push, the account is made and the payment credits it.
    with session_scope(shop.admin) as session:
        session.execute(
            text("UPDATE payment_gateways SET shortcode = :s"), {"s": SANDBOX_SHORTCODE}
        )
    pending_id = _push_from(shop, NEW_PHONE, NEW_MAC)
    assert shop.wait_status(pending_id) is HotspotPaymentStatus.COMPLETED
    assert _accounts_of(shop, NEW_MAC) == 1
    # The rolled-back trial left no gap in the audit chain.
    with session_scope(shop.admin) as session:
        assert verify_chain(session).problems == []
    owner = shop.scalar(
        "SELECT customer_id FROM pending_hotspot_payments WHERE id = :p", p=pending_id
    )
    assert owner == shop.scalar(
        "SELECT id FROM customers WHERE mac_address = CAST(:m AS macaddr)", m=NEW_MAC
    )


def test_a_device_bound_to_a_home_account_is_told_so_and_nothing_is_pushed(shop: Shop) -> None:
    with session_scope(shop.admin) as session:
        tenant = session.get(Tenant, shop.tenant_id)
        assert tenant is not None
        make_customer(
            session, shop.box, TenantInfo.of(tenant), connection_type="PPPOE", mac_address=NEW_MAC
        )
    pushes = len(httpx.get(f"{shop.simulator.url}/simulator/transactions").json()["stk"])
    with pytest.raises(SignupRefused) as refused:
        _push_from(shop, NEW_PHONE, NEW_MAC)
    assert refused.value.reason is SignupRefusal.DEVICE_TAKEN
    assert len(httpx.get(f"{shop.simulator.url}/simulator/transactions").json()["stk"]) == pushes
    assert shop.scalar("SELECT count(*) FROM pending_hotspot_payments") == 0


def test_simulator_is_reachable(shop: Shop) -> None:
    assert httpx.get(f"{shop.simulator.url}/simulator/scenario").status_code == 200


class ConfirmingServer(CallbackServer):
    """The callback server as the site service builds it: success callbacks of a gateway
    whose tenant asks for it are confirmed with STK Push Query before they are credited."""

    def __init__(self, shop: Shop) -> None:
        super().__init__(shop.callbacks.engine)
        self.flow = StkFlow(shop.service, shop.box, "http://unused")
        endpoints = CallbackEndpoints(
            self.sessions, self.counters, confirm=self.flow.confirm_callback
        )
        self.server = HttpServer(build_app(endpoints), ("127.0.0.1", 0))

    def stop(self) -> None:
        asyncio.run_coroutine_threadsafe(self.flow.aclose(), self.loop).result(30)
        super().stop()


def _wait_kind_outcome(shop: Shop, kind: str) -> str:
    deadline = time.monotonic() + 30
    while True:
        outcome = shop.scalar("SELECT outcome FROM mpesa_callbacks WHERE kind = :k", k=kind)
        if outcome not in (None, "PENDING"):
            return str(outcome)
        assert time.monotonic() < deadline, "the callback was never processed"
        time.sleep(0.05)


def _wait_outcome(shop: Shop, result_code: int) -> str:
    deadline = time.monotonic() + 30
    while True:
        outcome = shop.scalar(
            "SELECT outcome FROM mpesa_callbacks WHERE result_code = :r AND duplicate_of IS NULL",
            r=result_code,
        )
        if outcome not in (None, "PENDING"):
            return str(outcome)
        assert time.monotonic() < deadline, "the callback was never processed"
        time.sleep(0.05)


def test_confirmation_keeps_a_success_that_daraja_denies_for_review(shop: Shop) -> None:
    with session_scope(shop.admin) as session:
        session.execute(
            text(
                "UPDATE tenants SET config = jsonb_set(config, '{mpesa}', "
                "'{\"confirm_with_query\": true}'::jsonb)"
            )
        )
    token = shop.scalar("SELECT callback_token FROM payment_gateways")
    server = ConfirmingServer(shop)
    server.start()
    try:
        # The customer cancels; then a forged success for the same push arrives. Without the
        # confirmation a success after a failure credits (money taken is never lost).
        httpx.post(f"{shop.simulator.url}/simulator/scenario", json={"scenario": "cancelled"})

        async def go() -> uuid.UUID:
            flow = StkFlow(shop.service, shop.box, server.base_url)
            try:
                started = await flow.start_push(
                    PushRequest(shop.tenant_id, shop.package_id, PAYS, MAC)
                )
            finally:
                await flow.aclose()
            return started.pending_id

        pending_id = _run(go)
        assert shop.wait_status(pending_id) is HotspotPaymentStatus.FAILED
        checkout = shop.scalar("SELECT checkout_request_id FROM pending_hotspot_payments")
        merchant = shop.scalar("SELECT merchant_request_id FROM pending_hotspot_payments")
        forged = stk_success(
            checkout, amount=50, receipt="QWE1234567", phone=254712345600, merchant=merchant
        )
        reply = httpx.post(f"{server.base_url}/pay/{token}/stk", json=forged)
        assert reply.status_code == 200

        assert _wait_outcome(shop, 0) == "REVIEW"
        reason = shop.scalar("SELECT review_reason FROM mpesa_callbacks WHERE result_code = 0")
        assert reason.startswith("STK Push Query says 1032")
        assert shop.payments() == 0
    finally:
        server.stop()


def test_confirmation_lets_a_real_success_through(shop: Shop) -> None:
    with session_scope(shop.admin) as session:
        session.execute(
            text(
                "UPDATE tenants SET config = jsonb_set(config, '{mpesa}', "
                "'{\"confirm_with_query\": true}'::jsonb)"
            )
        )
    server = ConfirmingServer(shop)
    server.start()
    try:

        async def go() -> uuid.UUID:
            flow = StkFlow(shop.service, shop.box, server.base_url)
            try:
                started = await flow.start_push(
                    PushRequest(shop.tenant_id, shop.package_id, PAYS, MAC)
                )
            finally:
                await flow.aclose()
            return started.pending_id

        pending_id = _run(go)
        assert shop.wait_status(pending_id) is HotspotPaymentStatus.COMPLETED
        assert _wait_outcome(shop, 0) == "APPLIED"
        assert shop.payments() == 1
    finally:
        server.stop()


def test_paid_push_lets_the_expired_device_log_in_with_the_new_session_timeout(
    shop: Shop, fresh_db_url: str
) -> None:
    """Portal purchase end to end: the subscriber's package has run out, so the router's
    MAC login is refused; after the push is paid the next Access-Request is accepted with a
    day's Session-Timeout."""
    with session_scope(shop.admin) as session:
        session.execute(
            text("UPDATE customers SET expires_at = now() - interval '1 hour' WHERE id = :c"),
            {"c": shop.customer_id},
        )
    radius = RadiusServerThread(fresh_db_url, shop.box)
    address = radius.start()
    try:
        nas = NasSimulator(address, NAS_SECRET.encode(), timeout=3.0)
        nas.calling_station_id = MAC
        refused = nas.login(MAC, "", method="mac")
        assert refused is not None
        assert not refused.accepted

        pending_id = _push(shop, PAYS)
        assert shop.wait_status(pending_id) is HotspotPaymentStatus.COMPLETED

        accepted = nas.login(MAC, "", method="mac")
        assert accepted is not None
        assert accepted.accepted, accepted.attributes
        assert 23 * 3600 < accepted.first("Session-Timeout") <= 24 * 3600
    finally:
        radius.stop()
