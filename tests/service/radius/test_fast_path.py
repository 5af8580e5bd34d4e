"""The fast path: the subscriber cache kept current by NOTIFY, its fallback to the database,
Status-Server, and auth worker processes sharing one port."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from easyisp_core.crypto import SecretBox, new_site_key
from easyisp_core.db.engine import make_engine
from easyisp_core.models import Customer
from easyisp_core.models import Session as RadiusSession
from easyisp_core.services.customers import CUSTOMER_PASSWORD
from easyisp_core.settings import Settings
from radius_service.radius.codec import ACCESS_ACCEPT, decode_reply, encode_request
from radius_service.radius.workers import AuthWorkerPool
from radius_service.simulator.nas import NasReply, NasSimulator
from tests.service.radius.conftest import (
    NAS_SECRET,
    PPPOE_PASSWORD,
    PPPOE_USER,
    CachedServerThread,
    ServerThread,
    seed,
)

STATUS_SERVER = 12
WAIT = 20.0


def _until(condition: Callable[[], bool], what: str) -> None:
    """Wait for something another thread or process does (never a timing assertion)."""
    deadline = time.monotonic() + WAIT
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting: {what}")
        time.sleep(0.02)


def _nas(server: ServerThread) -> NasSimulator:
    assert server.server.address is not None
    return NasSimulator(server.server.address, NAS_SECRET.encode(), timeout=3.0)


def _login(nas: NasSimulator, user: str, password: str) -> NasReply:
    reply = nas.login(user, password)
    assert reply is not None, "no reply"
    return reply


def _set_password(url: str, box: SecretBox, password: str) -> None:
    engine = make_engine(url, application_name="fast-path-test")
    try:
        with Session(engine) as session, session.begin():
            session.execute(
                update(Customer)
                .where(Customer.username == PPPOE_USER)
                .values(password_enc=box.encrypt(password, CUSTOMER_PASSWORD))
            )
    finally:
        engine.dispose()


def test_a_login_is_decided_from_memory_and_a_console_change_is_seen_through_notify(
    cached: CachedServerThread, fresh_db_url: str, secret_box: SecretBox
) -> None:
    nas = _nas(cached)
    assert _login(nas, PPPOE_USER, PPPOE_PASSWORD).accepted
    assert cached.counters["radius.auth.fast_path"] == 1

    applied = cached.cache.changes_applied
    _set_password(fresh_db_url, secret_box, "a-new-password")
    _until(lambda: cached.cache.changes_applied > applied, "the NOTIFY reached the cache")

    assert not _login(nas, PPPOE_USER, PPPOE_PASSWORD).accepted
    assert _login(nas, PPPOE_USER, "a-new-password").accepted
    assert cached.counters["radius.auth.fast_path"] == 3


def test_with_the_listener_down_logins_are_decided_by_the_database(
    cached: CachedServerThread, fresh_db_url: str, secret_box: SecretBox
) -> None:
    nas = _nas(cached)
    cached.cache.disconnect()
    _until(lambda: not cached.cache.healthy, "the cache noticed")
    # A change the cache cannot hear about: only the database path sees it.
    _set_password(fresh_db_url, secret_box, "changed-while-deaf")

    assert _login(nas, PPPOE_USER, "changed-while-deaf").accepted
    assert not _login(nas, PPPOE_USER, PPPOE_PASSWORD).accepted
    assert cached.counters["radius.auth.fast_path"] == 0


def test_a_user_online_at_the_limit_is_counted_in_the_database(
    cached: CachedServerThread, fresh_db_url: str
) -> None:
    """The PPPoE package allows one session; a session opening is NOTIFYed, so the next
    login leaves the fast path, counts in the database and is refused."""
    nas = _nas(cached)
    assert _login(nas, PPPOE_USER, PPPOE_PASSWORD).accepted
    engine = make_engine(fresh_db_url, application_name="fast-path-test")
    try:
        with Session(engine) as session, session.begin():
            customer = session.execute(
                select(Customer.id, Customer.tenant_id).where(Customer.username == PPPOE_USER)
            ).one()
            session.add(
                RadiusSession(
                    tenant_id=customer.tenant_id,
                    customer_id=customer.id,
                    username=PPPOE_USER,
                    session_id="open-1",
                    started_at=datetime.now(UTC),
                    last_update_at=datetime.now(UTC),
                )
            )
    finally:
        engine.dispose()
    tenant = customer.tenant_id
    _until(lambda: cached.cache.may_be_online(tenant, PPPOE_USER), "the NOTIFY reached the cache")

    reply = _login(nas, PPPOE_USER, PPPOE_PASSWORD)
    assert not reply.accepted
    assert "already in use" in str(reply.first("Reply-Message"))
    assert cached.counters["radius.auth.fast_path"] == 1


def _status_server(nas: NasSimulator, *, signed: bool) -> bytes | None:
    authenticator = os.urandom(16)
    raw = encode_request(
        STATUS_SERVER, 7, authenticator, [], NAS_SECRET.encode(), message_authenticator=signed
    )
    reply = nas.send_raw(raw, timeout=1.0)
    if reply is None:
        return None
    packet = decode_reply(reply, authenticator, NAS_SECRET.encode())
    return bytes([packet.code])


def test_status_server_is_answered_only_when_signed(radius_server: ServerThread) -> None:
    nas = _nas(radius_server)
    assert _status_server(nas, signed=True) == bytes([ACCESS_ACCEPT])
    assert _status_server(nas, signed=False) is None
    assert radius_server.counters["radius.auth.status_server"] == 1


def test_two_worker_processes_share_the_port_and_a_killed_one_is_restarted(
    fresh_db_url: str,
) -> None:
    key = new_site_key()
    seed(fresh_db_url, SecretBox.from_encoded(key))
    settings = Settings(database_url=fresh_db_url, site_key=key)

    import asyncio

    async def scenario() -> None:
        pool = AuthWorkerPool(settings, ("127.0.0.1", 0), 2, key)
        await pool.start()
        try:
            nas = NasSimulator(pool.address, NAS_SECRET.encode(), timeout=3.0)
            pids = [p.pid for p in pool.processes if p is not None]
            assert len(set(pids)) == 2
            assert all(p is not None and p.is_alive() for p in pool.processes)
            assert (await asyncio.to_thread(_login, nas, PPPOE_USER, PPPOE_PASSWORD)).accepted

            assert pids[0] is not None
            os.kill(pids[0], signal.SIGKILL)
            deadline = time.monotonic() + WAIT
            while pool.counters["radius.auth.worker_restarts"] < 1:
                assert time.monotonic() < deadline, "the worker was not restarted"
                await asyncio.sleep(0.05)
            first = pool.processes[0]
            assert first is not None
            assert first.pid != pids[0]
            assert first.is_alive()
            for _ in range(4):  # new source ports: the kernel spreads them over both
                nas = NasSimulator(pool.address, NAS_SECRET.encode(), timeout=3.0)
                reply = await asyncio.to_thread(_login, nas, PPPOE_USER, PPPOE_PASSWORD)
                assert reply.accepted
        finally:
            await pool.stop()
        assert all(p is not None and not p.is_alive() for p in pool.processes)

    asyncio.run(scenario())
