"""Hotspot logins through the real server: MAC login, vouchers and their first use."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import select
from sqlalchemy.orm import Session

from easyisp_core.crypto import SecretBox
from easyisp_core.db.engine import make_engine
from easyisp_core.models import Voucher
from easyisp_core.models.enums import VoucherStatus
from easyisp_core.repositories.radius import RadiusRepository
from radius_service.simulator.nas import NasReply, NasSimulator
from tests.service.radius.conftest import (
    HOTSPOT_MAC,
    HOTSPOT_PASSWORD,
    HOTSPOT_USER,
    PPPOE_PASSWORD,
    PPPOE_USER,
    VOUCHER_CODE,
    Seeded,
    ServerThread,
)


def voucher_row(url: str) -> Voucher:
    engine = make_engine(url, application_name="radius-test-check")
    try:
        with Session(engine) as session:
            voucher = session.scalars(select(Voucher).where(Voucher.code == VOUCHER_CODE)).one()
            session.expunge(voucher)
            return voucher
    finally:
        engine.dispose()


def test_hotspot_mac_login_accepts_the_bound_device(nas: NasSimulator) -> None:
    reply = nas.login(HOTSPOT_MAC, "", method="mac")
    assert reply is not None
    assert reply.accepted, reply.attributes
    assert reply.first("Mikrotik-Rate-Limit") == "2M/5M"


def test_hotspot_mac_login_from_another_device_is_refused(nas: NasSimulator) -> None:
    nas.calling_station_id = "11:22:33:44:55:66"
    reply = nas.login("11:22:33:44:55:66", "", method="mac")
    assert reply is not None
    assert not reply.accepted


def test_hotspot_chap_login_by_password_from_the_bound_mac(nas: NasSimulator) -> None:
    reply = nas.login(HOTSPOT_USER, HOTSPOT_PASSWORD, method="chap", service="hotspot")
    assert reply is not None
    assert reply.accepted


def test_a_pppoe_account_cannot_log_in_on_the_hotspot(nas: NasSimulator) -> None:
    reply = nas.login(PPPOE_USER, PPPOE_PASSWORD, method="chap", service="hotspot")
    assert reply is not None
    assert not reply.accepted
    assert "PPPoE account" in reply.first("Reply-Message")


def test_a_voucher_first_login_marks_it_used_and_starts_its_validity(
    nas: NasSimulator, seeded_url: tuple[str, Seeded], radius_server: ServerThread
) -> None:
    reply = nas.login(VOUCHER_CODE, VOUCHER_CODE, method="chap", service="hotspot")
    assert reply is not None
    assert reply.accepted, reply.attributes
    voucher = voucher_row(seeded_url[0])
    assert voucher.status is VoucherStatus.USED
    assert voucher.used_at is not None
    assert voucher.expires_at is not None
    assert str(voucher.used_by_mac).upper() == HOTSPOT_MAC
    timeout = reply.first("Session-Timeout")
    assert 86000 < timeout <= 86400
    # Logging in again is the same voucher, now used: still accepted, not redeemed twice.
    again = nas.login(VOUCHER_CODE, "", method="pap", service="hotspot")
    assert again is not None
    assert again.accepted
    assert voucher_row(seeded_url[0]).used_at == voucher.used_at
    assert radius_server.counters["radius.auth.voucher_first_use"] == 1


def test_concurrent_first_logins_redeem_a_voucher_exactly_once(
    seeded_url: tuple[str, Seeded], radius_server: ServerThread
) -> None:
    address = radius_server.server.address
    assert address is not None
    logins = 8
    barrier = threading.Barrier(logins)

    def login(n: int) -> NasReply | None:
        sim = NasSimulator(address, b"sim-secret-0123456789", timeout=3.0, retries=2)
        sim.calling_station_id = f"AA:BB:CC:DD:EE:{n:02X}"
        barrier.wait()
        return sim.login(VOUCHER_CODE, VOUCHER_CODE, method="pap", service="hotspot")

    with ThreadPoolExecutor(logins) as pool:
        replies = list(pool.map(login, range(logins)))
    assert all(r is not None and r.accepted for r in replies)
    assert radius_server.counters["radius.auth.voucher_first_use"] == 1
    voucher = voucher_row(seeded_url[0])
    assert voucher.status is VoucherStatus.USED
    # Every login ends at the winner's expiry, not at a later one of its own.
    timeouts = {r.first("Session-Timeout") for r in replies if r is not None}
    assert max(timeouts) - min(timeouts) <= 2


def test_the_conditional_update_lets_only_one_of_two_racing_transactions_win(
    seeded_url: tuple[str, Seeded], secret_box: SecretBox
) -> None:
    url = seeded_url[0]
    voucher_id = voucher_row(url).id
    engine = make_engine(url, application_name="radius-test-race")
    barrier = threading.Barrier(2)
    from datetime import UTC, datetime, timedelta

    now = datetime.now(UTC)

    def redeem(_n: int) -> bool:
        with Session(engine) as session, session.begin():
            barrier.wait()
            return RadiusRepository(session).mark_voucher_used(
                voucher_id, used_at=now, expires_at=now + timedelta(days=1), mac=None
            )

    try:
        with ThreadPoolExecutor(2) as pool:
            results = list(pool.map(redeem, range(2)))
    finally:
        engine.dispose()
    assert sorted(results) == [False, True]
