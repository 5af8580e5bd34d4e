"""RADIUS traffic marks its router seen: real Access- and Accounting-Requests over UDP to the
real listeners, `nas.last_seen_at` written in the background, batched per router."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from datetime import datetime

from sqlalchemy import text, update
from sqlalchemy.orm import Session, sessionmaker

from easyisp_core.crypto import SecretBox
from easyisp_core.db.engine import make_engine
from easyisp_core.models import Nas
from easyisp_core.services.radius_auth import NasClient, load_nas_clients
from radius_service.radius.accounting import RadiusAccountingServer
from radius_service.radius.auth import AccessRequestHandler
from radius_service.radius.listener import RadiusAuthServer
from radius_service.radius.router_seen import SeenRouters
from radius_service.simulator.nas import NasSimulator
from tests.service.radius.conftest import NAS_SECRET, PPPOE_PASSWORD, PPPOE_USER, Seeded


def last_seen(sessions: sessionmaker[Session]) -> datetime | None:
    with sessions() as session:
        value: datetime | None = session.execute(
            text("SELECT last_seen_at FROM nas LIMIT 1")
        ).scalar_one()
        return value


def clear_seen(sessions: sessionmaker[Session]) -> None:
    with sessions() as session, session.begin():
        session.execute(update(Nas).values(last_seen_at=None))


def test_an_access_request_and_an_accounting_request_mark_their_router_seen(
    seeded_url: tuple[str, Seeded], secret_box: SecretBox
) -> None:
    engine = make_engine(seeded_url[0], application_name="router-seen-test")
    sessions = sessionmaker(engine, expire_on_commit=False)

    def load() -> list[NasClient]:
        with sessions() as session:
            return load_nas_clients(session, secret_box)

    async def scenario() -> None:
        clear_seen(sessions)
        counters: Counter[str] = Counter()
        auth = RadiusAuthServer(
            ("127.0.0.1", 0),
            AccessRequestHandler(sessions, secret_box),
            load_clients=load,
            seen=SeenRouters(sessions, counters=counters),
        )
        address = await auth.start()
        nas = NasSimulator(address, NAS_SECRET.encode(), timeout=3.0)
        try:
            reply = await asyncio.to_thread(nas.login, PPPOE_USER, PPPOE_PASSWORD)
            assert reply is not None
            assert reply.accepted
            # A second request within the interval is not written again.
            assert await asyncio.to_thread(nas.login, PPPOE_USER, PPPOE_PASSWORD) is not None
        finally:
            await auth.stop()  # writes whatever is still pending
        assert last_seen(sessions) is not None
        assert counters["radius.routers_seen.writes"] == 1

        clear_seen(sessions)
        acct = RadiusAccountingServer(
            ("127.0.0.1", 0), sessions, load_clients=load, seen=SeenRouters(sessions)
        )
        acct_nas = NasSimulator(await acct.start(), NAS_SECRET.encode(), timeout=3.0)
        try:
            assert await asyncio.to_thread(acct_nas.account, "start", "seen-1", PPPOE_USER)
        finally:
            await acct.stop()
        assert last_seen(sessions) is not None

    try:
        asyncio.run(scenario())
    finally:
        engine.dispose()


def test_notes_are_batched_per_router_and_written_once_per_interval(
    seeded_url: tuple[str, Seeded],
) -> None:
    engine = make_engine(seeded_url[0], application_name="router-seen-test")
    sessions = sessionmaker(engine, expire_on_commit=False)
    now = [1000.0]
    seen = SeenRouters(sessions, every=30.0, clock=lambda: now[0])
    with sessions() as session:
        router: uuid.UUID = session.execute(text("SELECT id FROM nas LIMIT 1")).scalar_one()

    async def scenario() -> None:
        for _ in range(100):
            seen.note(router)
        await seen.flush()
        first = last_seen(sessions)
        assert first is not None
        now[0] += 10  # within the interval: nothing to write
        seen.note(router)
        await seen.flush()
        now[0] += 30
        seen.note(router)
        await seen.flush()
        later = last_seen(sessions)
        assert later is not None
        assert later > first

    try:
        clear_seen(sessions)
        asyncio.run(scenario())
        assert seen.counters["radius.routers_seen.writes"] == 2
    finally:
        engine.dispose()
