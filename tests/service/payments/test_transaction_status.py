"""Transaction Status reconciliation end to end: a receipt reported to us that we do not hold
is asked about (Daraja simulator), the answer arrives at the gateway's ResultURL on the real
HTTP server, is stored raw and credited once; unknown receipts, timeouts, replays and gateways
without an initiator change no balance."""

from __future__ import annotations

import asyncio
import socket
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
from easyisp_core.errors import NotFound, ValidationFailed
from easyisp_core.passwords import scram_verifier
from easyisp_core.repositories.roles import RoleRepository
from easyisp_core.services.gateways import create_payment_gateway
from easyisp_core.services.mpesa_status import StatusQuestion, ask_status
from easyisp_core.services.results import TenantInfo
from radius_service.mpesa.client import DarajaClient
from radius_service.mpesa.status_flow import StatusQueryJob
from radius_service.simulator.daraja.runner import DarajaSimulator
from radius_service.simulator.daraja.state import (
    SANDBOX_PASSKEY,
    SANDBOX_SHORTCODE,
    SimulatorConfig,
)
from tests.db.security_site import SERVICE_PASSWORD
from tests.factories import make_customer, make_package, make_tenant
from tests.service.payments.payloads import c2b
from tests.service.portal.conftest import SiteServer

KEY, SECRET = "easyisp-sim-key", "easyisp-sim-secret"


@dataclass
class Reconcile:
    tenant: TenantInfo
    customer_id: uuid.UUID
    username: str
    token: str
    bare_token: str
    admin: sessionmaker[Session]
    site: SiteServer
    simulator: DarajaSimulator

    def scalar(self, sql: str, **params: Any) -> Any:
        with self.admin() as session:
            return session.execute(text(sql), params).scalar()

    def ask(self, receipt: str, customer: uuid.UUID | None = None) -> StatusQuestion:
        with session_scope(self.admin) as session:
            return ask_status(
                session,
                tenant_id=self.tenant.id,
                customer_id=customer or self.customer_id,
                receipt=receipt,
            )

    def send(self) -> int:
        job = StatusQueryJob(self.site.flow)
        return asyncio.run_coroutine_threadsafe(job.send_queued(), self.site.loop).result(30)

    def wait_for(self, sql: str, timeout: float = 20.0, **params: Any) -> Any:
        deadline = time.monotonic() + timeout
        while not (value := self.scalar(sql, **params)):
            assert time.monotonic() < deadline, f"never true: {sql}"
            time.sleep(0.05)
        return value

    def paid_but_lost(self, amount: int = 50) -> str:
        """A paybill payment M-Pesa took whose confirmation never reached us (our URL was
        unreachable): the receipt the customer holds and we do not."""
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            dead = f"http://127.0.0.1:{probe.getsockname()[1]}/lost"

        async def pay() -> None:
            async with DarajaClient(self.simulator.url, KEY, SECRET) as client:
                await client.register_c2b_urls(
                    shortcode=SANDBOX_SHORTCODE, confirmation_url=dead, validation_url=dead
                )
                await client.simulate_c2b(
                    shortcode=SANDBOX_SHORTCODE,
                    amount=Decimal(amount),
                    phone="0708374149",
                    bill_ref_number=self.username,
                )

        before = {p["trans_id"] for p in self._c2b()}
        asyncio.run(pay())
        deadline = time.monotonic() + 20
        while True:
            new = [p for p in self._c2b() if p["trans_id"] not in before]
            if new and new[0]["state"] == "confirmed":
                return str(new[0]["trans_id"])
            assert time.monotonic() < deadline, new
            time.sleep(0.05)

    def _c2b(self) -> list[dict[str, Any]]:
        reply = httpx.get(f"{self.simulator.url}/simulator/transactions")
        return list(reply.json()["c2b"])


@pytest.fixture
def rec(fresh_db_url: str, secret_box: SecretBox) -> Iterator[Reconcile]:
    simulator = DarajaSimulator(SimulatorConfig()).start()
    admin_engine = make_engine(fresh_db_url, application_name="status-admin")
    admin = sessionmaker(admin_engine, expire_on_commit=False)
    with session_scope(admin) as session:
        tenant = make_tenant(session)
        day = make_package(
            session, tenant, name="1 day", type="HOTSPOT", price=Decimal("50"),
            validity_value=1, validity_unit="DAYS",
        )  # fmt: skip
        customer = make_customer(
            session, secret_box, tenant, connection_type="HOTSPOT", package=day.name
        )
        credentials = {"consumer_key": KEY, "consumer_secret": SECRET, "passkey": SANDBOX_PASSKEY}
        config = {"environment": "simulator", "base_url": simulator.url}
        gateway = create_payment_gateway(
            session,
            secret_box,
            {
                "tenant": tenant.name, "name": "Hotspot", "provider": "MPESA_PAYBILL",
                "purpose": "HOTSPOT", "shortcode": SANDBOX_SHORTCODE, "config": config,
                "credentials": {
                    **credentials, "initiator_name": "testapi",
                    "security_credential": "c2VhbGVkLWJ5LXNhZmFyaWNvbQ==",
                },
            },
        )  # fmt: skip
        # The home connections' paybill was set up without an initiator.
        bare = create_payment_gateway(
            session,
            secret_box,
            {
                "tenant": tenant.name, "name": "Home", "provider": "MPESA_PAYBILL",
                "purpose": "PPPOE", "shortcode": SANDBOX_SHORTCODE, "config": config,
                "credentials": credentials,
            },
        )  # fmt: skip
        RoleRepository(session).enable_service_login(scram_verifier(SERVICE_PASSWORD))
    assert gateway.callback_token is not None
    assert bare.callback_token is not None
    service_url = admin_engine.url.set(username="easyisp_service", password=SERVICE_PASSWORD)
    service_engine = make_engine(service_url, application_name="status", pool_size=5)
    site = SiteServer(service_engine, secret_box)
    site.start()
    try:
        yield Reconcile(
            tenant, customer.id, customer.username, gateway.callback_token,
            bare.callback_token, admin, site, simulator,
        )  # fmt: skip
    finally:
        site.stop()
        simulator.stop()
        service_engine.dispose()
        admin_engine.dispose()


def test_a_receipt_we_never_heard_of_is_confirmed_by_transaction_status_and_credited_once(
    rec: Reconcile,
) -> None:
    receipt = rec.paid_but_lost(50)
    assert rec.scalar("SELECT count(*) FROM payments") == 0

    # Staff type it in, in lower case with a space, as read out over the phone.
    asked = rec.ask(f"{receipt[:5].lower()} {receipt[5:]}")
    assert asked.new
    assert asked.receipt == receipt
    assert rec.send() == 1

    rec.wait_for(
        "SELECT true FROM mpesa_status_queries WHERE id = :q AND state = 'CREDITED'", q=asked.id
    )
    assert rec.scalar(
        "SELECT amount || ' ' || method || ' ' || status FROM payments "
        "WHERE transaction_id = :r AND customer_id = :c",
        r=receipt,
        c=rec.customer_id,
    ) == ("50.00 MPESA COMPLETED")
    # Bought the package from the wallet: renewed for a day.
    assert rec.scalar(
        "SELECT expires_at > now() + interval '23 hours' AND wallet_balance = 0 "
        "FROM customers WHERE id = :c",
        c=rec.customer_id,
    )
    # Stored raw first, as Daraja sent it, keyed on its OriginatorConversationID.
    stored = rec.scalar(
        "SELECT kind || ' ' || outcome || ' ' || (external_id = q.originator_conversation_id) "
        "FROM mpesa_callbacks, mpesa_status_queries q WHERE q.id = :q",
        q=asked.id,
    )
    assert stored == "STATUS_RESULT APPLIED true"
    params = rec.scalar(
        "SELECT body->'Result'->'ResultParameters'->'ResultParameter' FROM mpesa_callbacks"
    )
    assert {p["Key"] for p in params} >= {"ReceiptNo", "Amount", "TransactionStatus"}
    assert "credited KES 50.00" in rec.scalar(
        "SELECT result FROM mpesa_status_queries WHERE id = :q", q=asked.id
    )

    # The lost confirmation turns up after all: the receipt is credited already.
    with httpx.Client(base_url=rec.site.base_url) as client:
        late = client.post(
            f"/pay/{rec.token}/c2b/confirmation",
            json=c2b(receipt, amount="50.00", account=rec.username, shortcode=SANDBOX_SHORTCODE),
        )
    assert late.status_code == 200
    rec.wait_for("SELECT count(*) = 2 FROM mpesa_callbacks WHERE outcome <> 'PENDING'")
    assert rec.scalar("SELECT count(*) FROM payments WHERE transaction_id = :r", r=receipt) == 1
    assert rec.scalar("SELECT count(*) FROM wallet_transactions WHERE kind = 'TOPUP'") == 1

    # Asking again about a credited receipt is refused and changes nothing.
    with pytest.raises(ValidationFailed, match="already credited"):
        rec.ask(receipt)


def test_a_replayed_answer_credits_nothing_more(rec: Reconcile) -> None:
    receipt = rec.paid_but_lost(50)
    asked = rec.ask(receipt)
    rec.send()
    rec.wait_for("SELECT true FROM mpesa_status_queries WHERE id = :q AND state = 'CREDITED'",
                 q=asked.id)  # fmt: skip
    body = rec.scalar("SELECT body FROM mpesa_callbacks WHERE kind = 'STATUS_RESULT'")
    with httpx.Client(base_url=rec.site.base_url) as client:
        for _ in range(3):
            assert client.post(f"/pay/{rec.token}/status/result", json=body).status_code == 200
        forged = {**body, "Result": {**body["Result"], "ResultDesc": "edited"}}
        assert client.post(f"/pay/{rec.token}/status/result", json=forged).status_code == 200
    outcomes = rec.scalar(
        "SELECT string_agg(outcome::text, ',' ORDER BY id) FROM mpesa_callbacks "
        "WHERE kind = 'STATUS_RESULT'"
    )
    assert outcomes == "APPLIED,IGNORED,IGNORED,IGNORED,REVIEW"
    assert rec.scalar("SELECT count(*) FROM payments") == 1


def test_a_receipt_mpesa_does_not_know_credits_nothing_and_waits_for_review(
    rec: Reconcile,
) -> None:
    asked = rec.ask("TKQ0000000")
    assert rec.send() == 1
    rec.wait_for(
        "SELECT true FROM mpesa_status_queries WHERE id = :q AND state = 'NOT_FOUND'", q=asked.id
    )
    assert "does not exist" in rec.scalar(
        "SELECT result FROM mpesa_status_queries WHERE id = :q", q=asked.id
    )
    rec.wait_for("SELECT outcome = 'REVIEW' FROM mpesa_callbacks")
    assert rec.scalar("SELECT count(*) FROM payments") == 0
    assert rec.scalar("SELECT wallet_balance FROM customers WHERE id = :c", c=rec.customer_id) == 0


def test_an_answer_that_timed_out_in_the_queue_is_recorded_and_can_be_asked_again(
    rec: Reconcile,
) -> None:
    receipt = rec.paid_but_lost(50)
    httpx.post(f"{rec.simulator.url}/simulator/status-timeout", json={"requests": 1})
    first = rec.ask(receipt)
    rec.send()
    rec.wait_for(
        "SELECT true FROM mpesa_status_queries WHERE id = :q AND state = 'TIMEOUT'", q=first.id
    )
    assert "did not answer in time" in rec.scalar(
        "SELECT result FROM mpesa_status_queries WHERE id = :q", q=first.id
    )
    assert rec.scalar("SELECT kind || ' ' || outcome FROM mpesa_callbacks") == (
        "STATUS_TIMEOUT APPLIED"
    )
    assert rec.scalar("SELECT count(*) FROM payments") == 0
    # A timed-out question is finished: asking again sends a new one, which is answered.
    again = rec.ask(receipt)
    assert again.new
    rec.send()
    rec.wait_for(
        "SELECT true FROM mpesa_status_queries WHERE id = :q AND state = 'CREDITED'", q=again.id
    )
    assert rec.scalar("SELECT count(*) FROM payments WHERE transaction_id = :r", r=receipt) == 1


def test_asking_twice_before_the_answer_sends_one_question(rec: Reconcile) -> None:
    first = rec.ask("TKQ1111111")
    second = rec.ask("tkq1111111")
    assert second.id == first.id
    assert not second.new
    assert rec.scalar("SELECT count(*) FROM mpesa_status_queries") == 1


def test_a_gateway_without_an_initiator_fails_the_question_with_the_reason(
    rec: Reconcile, secret_box: SecretBox
) -> None:
    with session_scope(rec.admin) as session:
        home = make_customer(session, secret_box, rec.tenant)  # PPPoE: the "Home" gateway
    asked = rec.ask("TKQ2222222", customer=home.id)
    assert rec.send() == 0
    assert rec.scalar(
        "SELECT state || ': ' || result FROM mpesa_status_queries WHERE id = :q", q=asked.id
    ).startswith("FAILED: the M-Pesa gateway has no initiator set up")
    assert rec.scalar("SELECT count(*) FROM mpesa_callbacks") == 0


def test_bad_input_is_refused_and_stores_nothing(rec: Reconcile, secret_box: SecretBox) -> None:
    with pytest.raises(ValidationFailed, match="not an M-Pesa receipt"):
        rec.ask("not a receipt!")
    with session_scope(rec.admin) as session:
        foreign = make_customer(session, secret_box, make_tenant(session)).id
    with pytest.raises(NotFound):
        rec.ask("TKQ3333333", customer=foreign)
    assert rec.scalar("SELECT count(*) FROM mpesa_status_queries") == 0
