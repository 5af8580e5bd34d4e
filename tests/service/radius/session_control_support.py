"""Shared parts of the session-control tests: the simulated router (accounting client plus
/radius incoming) against a real accounting server, a settable clock, and small readers."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, text, update
from sqlalchemy.orm import Session, sessionmaker

from easyisp_core.crypto import SecretBox
from easyisp_core.db.engine import make_engine
from easyisp_core.models import Customer, Nas
from easyisp_core.models.enums import ServiceCommandKind
from easyisp_core.repositories.service_command_queue import CommandRow, ServiceCommandQueue
from radius_service.commands.worker import (
    CommandWorker,
    RetryPolicy,
    RouterApiFallback,
    RouterTasks,
)
from radius_service.radius.coa import CoaClient
from radius_service.simulator.coa_listener import CoaListener
from radius_service.simulator.nas import NasSimulator
from tests.service.radius.conftest import NAS_SECRET, PPPOE_USER, Seeded
from tests.service.radius.test_accounting import AcctServerThread


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = datetime.now(UTC).replace(microsecond=0)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@dataclass
class Site:
    url: str
    engine: Engine
    sessions: sessionmaker[Session]
    router: CoaListener
    nas: NasSimulator
    clock: Clock
    box: SecretBox

    def customer_id(self, username: str = PPPOE_USER) -> uuid.UUID:
        with self.sessions() as session:
            value: uuid.UUID = session.execute(
                text("SELECT id FROM customers WHERE username = :u"), {"u": username}
            ).scalar_one()
            return value

    def tenant_id(self) -> uuid.UUID:
        with self.sessions() as session:
            value: uuid.UUID = session.execute(text("SELECT id FROM tenants LIMIT 1")).scalar_one()
            return value

    def enqueue(self, kind: ServiceCommandKind, username: str = PPPOE_USER, **payload: Any) -> int:
        customer = self.customer_id(username)
        with self.sessions() as session, session.begin():
            return ServiceCommandQueue(session).enqueue(
                self.tenant_id(), kind, customer_id=customer, payload=payload
            )

    def command(self, command_id: int) -> CommandRow:
        with self.sessions() as session:
            row = ServiceCommandQueue(session).get(command_id)
        assert row is not None
        return row

    def next_attempt_at(self, command_id: int) -> datetime | None:
        with self.sessions() as session:
            value: datetime | None = session.execute(
                text("SELECT next_attempt_at FROM service_commands WHERE id = :i"),
                {"i": command_id},
            ).scalar_one()
            return value

    def session_row(self, session_id: str) -> dict[str, Any]:
        with self.sessions() as session:
            row = session.execute(
                text(
                    "SELECT session_id, stopped_at, terminate_cause, last_update_at"
                    " FROM sessions WHERE session_id = :s"
                ),
                {"s": session_id},
            ).one()
            return dict(row._mapping)

    def set_customer(self, username: str = PPPOE_USER, **values: Any) -> None:
        with self.sessions() as session, session.begin():
            session.execute(update(Customer).where(Customer.username == username).values(**values))

    def worker(
        self,
        *,
        sessions: sessionmaker[Session] | None = None,
        router_api: RouterApiFallback | None = None,
        routers: RouterTasks | None = None,
        **policy: Any,
    ) -> CommandWorker:
        """A worker on the test clock with short timeouts (CoA 2 × 0.3 s)."""
        settings = {"max_attempts": 3, "confirm_timeout": 5.0, "confirm_poll": 0.02, **policy}
        return CommandWorker(
            sessions or self.sessions,
            self.box,
            CoaClient(timeout=0.3, tries=2),
            policy=RetryPolicy(**settings),
            clock=self.clock,
            router_api=router_api,
            routers=routers,
        )


@pytest.fixture
def site(seeded_url: tuple[str, Seeded], secret_box: SecretBox) -> Iterator[Site]:
    url = seeded_url[0]
    acct = AcctServerThread(url, secret_box)
    acct_address = acct.start()
    nas = NasSimulator(acct_address, NAS_SECRET.encode(), timeout=3.0)
    router = CoaListener(NAS_SECRET.encode(), nas)
    router.start()
    engine = make_engine(url, application_name="session-control-test", pool_size=8)
    sessions = sessionmaker(engine, expire_on_commit=False)
    with sessions() as session, session.begin():
        session.execute(update(Nas).values(coa_port=router.address[1]))
    try:
        yield Site(url, engine, sessions, router, nas, Clock(), secret_box)
    finally:
        router.stop()
        acct.stop()
        engine.dispose()
