"""Two site-service instances never send the same Transaction Status question: the claim
(FOR UPDATE SKIP LOCKED, `sending_since` set before Daraja is called) gives parallel senders
disjoint questions, a committed claim keeps others away, and a dead sender's claim is taken
over after the timeout. Real PostgreSQL, under the service's own database role."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from easyisp_core.crypto import SecretBox
from easyisp_core.db.engine import make_engine, session_scope
from easyisp_core.passwords import scram_verifier
from easyisp_core.repositories.roles import RoleRepository
from easyisp_core.services.gateways import create_payment_gateway
from easyisp_core.services.mpesa_status import ask_status
from easyisp_core.services.mpesa_status_send import (
    CLAIM_TIMEOUT,
    queued_questions,
    record_sent,
    release,
)
from tests.db.security_site import SERVICE_PASSWORD
from tests.factories import make_customer, make_package, make_tenant

QUESTIONS = 10


@dataclass
class Queue:
    service: sessionmaker[Session]
    admin: sessionmaker[Session]
    box: SecretBox
    ids: set[uuid.UUID]

    def claim(self, now: datetime, limit: int = QUESTIONS) -> set[uuid.UUID]:
        with session_scope(self.service) as session:
            return {q.query_id for q in queued_questions(session, self.box, now, limit)}


@pytest.fixture
def queue(fresh_db_url: str, secret_box: SecretBox) -> Iterator[Queue]:
    admin_engine = make_engine(fresh_db_url, application_name="claim-admin")
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
        create_payment_gateway(
            session,
            secret_box,
            {
                "tenant": tenant.name, "name": "Hotspot", "provider": "MPESA_PAYBILL",
                "purpose": "HOTSPOT", "shortcode": "174379",
                "config": {"environment": "simulator", "base_url": "http://127.0.0.1:9"},
                "credentials": {
                    "consumer_key": "k", "consumer_secret": "s", "passkey": "p",
                    "initiator_name": "testapi", "security_credential": "c2VhbGVk",
                },
            },
        )  # fmt: skip
        ids = {
            ask_status(
                session, tenant_id=tenant.id, customer_id=customer.id, receipt=f"TST{n:07d}"
            ).id
            for n in range(QUESTIONS)
        }
        RoleRepository(session).enable_service_login(scram_verifier(SERVICE_PASSWORD))
    service_url = admin_engine.url.set(username="easyisp_service", password=SERVICE_PASSWORD)
    service_engine = make_engine(service_url, application_name="claim-service", pool_size=4)
    try:
        yield Queue(sessionmaker(service_engine, expire_on_commit=False), admin, secret_box, ids)
    finally:
        service_engine.dispose()
        admin_engine.dispose()


def test_two_senders_in_parallel_claim_disjoint_questions(queue: Queue) -> None:
    now = datetime.now(UTC)
    # Both claim inside open transactions before either commits: the second neither waits
    # for the first's row locks nor takes the rows they hold.
    both_claimed = threading.Barrier(2, timeout=20)
    claimed: dict[int, set[uuid.UUID]] = {}

    def sender(number: int) -> None:
        with session_scope(queue.service) as session:
            got = queued_questions(session, queue.box, now, limit=6)
            claimed[number] = {q.query_id for q in got}
            both_claimed.wait()

    threads = [threading.Thread(target=sender, args=(n,)) for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert not claimed[0] & claimed[1]
    assert sorted(len(c) for c in claimed.values()) == [4, 6]
    assert claimed[0] | claimed[1] == queue.ids
    # Committed claims keep a third sender away, though the questions are still QUEUED.
    assert queue.claim(now + timedelta(seconds=30)) == set()
    with queue.admin() as session:
        assert session.execute(
            text("SELECT count(*) FILTER (WHERE state = 'QUEUED' AND sending_since IS NOT NULL) "
                 "FROM mpesa_status_queries")
        ).scalar() == QUESTIONS  # fmt: skip


def test_a_dead_senders_claim_is_taken_over_after_the_timeout(queue: Queue) -> None:
    now = datetime.now(UTC)
    assert queue.claim(now) == queue.ids
    assert queue.claim(now + CLAIM_TIMEOUT - timedelta(seconds=1)) == set()
    assert queue.claim(now + CLAIM_TIMEOUT + timedelta(seconds=1)) == queue.ids


def test_a_deferred_question_is_handed_back_and_a_sent_one_is_never_claimed_again(
    queue: Queue,
) -> None:
    now = datetime.now(UTC)
    first, second, *_ = sorted(queue.claim(now))
    with session_scope(queue.service) as session:
        release(session, first)
        record_sent(session, second, "AG_claim_test", "conv", now)
    # The handed-back one at once; the sent one not even after the timeout.
    assert queue.claim(now) == {first}
    later = queue.claim(now + CLAIM_TIMEOUT * 2)
    assert second not in later
    assert later == queue.ids - {second}
    with queue.admin() as session:
        assert session.execute(
            text("SELECT state || ' ' || (sending_since IS NULL) FROM mpesa_status_queries "
                 "WHERE id = :q"), {"q": second}
        ).scalar() == "SENT true"  # fmt: skip
