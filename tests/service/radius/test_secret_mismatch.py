"""A router whose RADIUS secret is not ours is flagged: real Access- and Accounting-Requests
over UDP, signed with a wrong secret from a known router's address, set
nas.secret_mismatch_since; a request with the right secret clears it."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Callable
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

# Long: the tests end each interval themselves (judge()), so nothing depends on timing.
EVERY = 3600.0


def mismatch_since(sessions: sessionmaker[Session]) -> datetime | None:
    with sessions() as session:
        value: datetime | None = session.execute(
            text("SELECT secret_mismatch_since FROM nas LIMIT 1")
        ).scalar_one()
        return value


def nas_stamps(sessions: sessionmaker[Session]) -> tuple[object, ...]:
    """updated_at (reloads RADIUS clients when it moves) and the router's audit rows."""
    with sessions() as session:
        return tuple(
            session.execute(
                text(
                    "SELECT (SELECT updated_at FROM nas LIMIT 1), "
                    "(SELECT count(*) FROM audit_logs WHERE target_type = 'NAS')"
                )
            ).one()
        )


async def until(condition: Callable[[], bool]) -> None:
    """The listener handles a datagram on its loop; wait until it has (no reply comes)."""
    for _ in range(500):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("the listener never handled the request")


def test_wrong_secret_access_requests_flag_the_router_and_a_right_one_clears_it(
    seeded_url: tuple[str, Seeded], secret_box: SecretBox
) -> None:
    engine = make_engine(seeded_url[0], application_name="secret-mismatch-test")
    sessions = sessionmaker(engine, expire_on_commit=False)

    def load() -> list[NasClient]:
        with sessions() as session:
            return load_nas_clients(session, secret_box)

    async def scenario() -> None:
        counters: Counter[str] = Counter()
        seen = SeenRouters(sessions, every=EVERY, counters=counters)
        auth = RadiusAuthServer(
            ("127.0.0.1", 0),
            AccessRequestHandler(sessions, secret_box),
            load_clients=load,
            counters=counters,
            seen=seen,
        )
        address = await auth.start()
        wrong = NasSimulator(address, b"typed-over-on-the-router", timeout=0.2)
        right = NasSimulator(address, NAS_SECRET.encode(), timeout=3.0)
        before = nas_stamps(sessions)
        try:
            assert await asyncio.to_thread(wrong.login, PPPOE_USER, PPPOE_PASSWORD) is None
            await until(lambda: counters["radius.auth.drop.bad_message_authenticator"] >= 1)
            await seen.judge()
            flagged = mismatch_since(sessions)
            assert flagged is not None
            # Health data: not audited, and no RADIUS client reload.
            assert nas_stamps(sessions) == before
            # Still wrong in the next interval: the flag keeps its first time.
            assert await asyncio.to_thread(wrong.login, PPPOE_USER, PPPOE_PASSWORD) is None
            await until(lambda: counters["radius.auth.drop.bad_message_authenticator"] >= 2)
            await seen.judge()
            assert mismatch_since(sessions) == flagged

            reply = await asyncio.to_thread(right.login, PPPOE_USER, PPPOE_PASSWORD)
            assert reply is not None
            assert reply.accepted
            await seen.flush()
            assert mismatch_since(sessions) is None
            # Wrong and valid requests in one interval (a retyped secret): not flagged.
            assert await asyncio.to_thread(wrong.login, PPPOE_USER, PPPOE_PASSWORD) is None
            await until(lambda: counters["radius.auth.drop.bad_message_authenticator"] >= 3)
            await seen.judge()
            assert mismatch_since(sessions) is None
        finally:
            await auth.stop()

    try:
        asyncio.run(scenario())
    finally:
        engine.dispose()


def test_wrong_secret_accounting_requests_flag_the_router(
    seeded_url: tuple[str, Seeded], secret_box: SecretBox
) -> None:
    engine = make_engine(seeded_url[0], application_name="secret-mismatch-test")
    sessions = sessionmaker(engine, expire_on_commit=False)

    def load() -> list[NasClient]:
        with sessions() as session:
            return load_nas_clients(session, secret_box)

    async def scenario() -> None:
        counters: Counter[str] = Counter()
        seen = SeenRouters(sessions, every=EVERY, counters=counters)
        acct = RadiusAccountingServer(
            ("127.0.0.1", 0), sessions, load_clients=load, counters=counters, seen=seen
        )
        address = await acct.start()
        wrong = NasSimulator(address, b"typed-over-on-the-router", timeout=0.2)
        right = NasSimulator(address, NAS_SECRET.encode(), timeout=3.0)
        try:
            assert not await asyncio.to_thread(wrong.account, "start", "mm-1", PPPOE_USER)
            await until(lambda: counters["radius.bad_secret"] >= 1)
        finally:
            await acct.stop()  # ends the interval: the router is flagged
        assert mismatch_since(sessions) is not None

        acct = RadiusAccountingServer(
            ("127.0.0.1", 0), sessions, load_clients=load, seen=SeenRouters(sessions, every=EVERY)
        )
        right = NasSimulator(await acct.start(), NAS_SECRET.encode(), timeout=3.0)
        try:
            assert await asyncio.to_thread(right.account, "start", "mm-2", PPPOE_USER)
        finally:
            await acct.stop()
        assert mismatch_since(sessions) is None

    try:
        with sessions() as session, session.begin():
            session.execute(update(Nas).values(secret_mismatch_since=None))
        asyncio.run(scenario())
    finally:
        engine.dispose()
