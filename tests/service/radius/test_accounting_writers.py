"""Accounting writers over real UDP into the real sessions table: with several, each
session's records are stored in the order they came even when a router sends them back to
back, and an Accounting-On is a barrier (what came before it is closed by it, what came after
is not); a writer's connection that PostgreSQL dropped is replaced, not journaled around."""

from __future__ import annotations

import socket
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import pytest
from sqlalchemy.orm import sessionmaker

from easyisp_core.crypto import SecretBox
from easyisp_core.db.engine import make_engine
from easyisp_core.services.accounting import AccountingRecord, StatusType
from radius_service.radius.accounting import shard_of
from radius_service.radius.journal import Journal
from radius_service.simulator.nas import NasSimulator
from tests.service.radius.conftest import NAS_SECRET, PPPOE_USER, Seeded
from tests.service.radius.test_accounting import AcctServerThread, session_rows

WRITERS = 4


@pytest.fixture
def sharded(seeded_url: tuple[str, Seeded], secret_box: SecretBox) -> Iterator[AcctServerThread]:
    server = AcctServerThread(seeded_url[0], secret_box, writers=WRITERS)
    server.start()
    yield server
    server.stop()


def blast(server: AcctServerThread, packets: list[bytes], timeout: float = 20.0) -> int:
    """Send every packet at once from one socket (no waiting between them, so many are in
    flight together), then collect the replies; how many came."""
    assert server.server.address is not None
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 * 1024 * 1024)
        for raw in packets:
            sock.sendto(raw, server.server.address)
        replies = 0
        deadline = time.monotonic() + timeout
        while replies < len(packets) and time.monotonic() < deadline:
            sock.settimeout(max(0.01, deadline - time.monotonic()))
            try:
                sock.recv(4096)
            except TimeoutError:
                break
            replies += 1
        return replies


def test_a_session_always_belongs_to_the_same_writer_and_sessions_spread_over_all() -> None:
    nas = uuid.uuid4()
    now = datetime.now(UTC)

    def record(sid: str, status: StatusType) -> AccountingRecord:
        return AccountingRecord(uuid.uuid4(), nas, status, now, sid)

    assert {shard_of(record("s-1", s), WRITERS) for s in StatusType} == {
        shard_of(record("s-1", StatusType.START), WRITERS)
    }
    spread = Counter(shard_of(record(f"s-{n}", StatusType.START), WRITERS) for n in range(400))
    assert sorted(spread) == list(range(WRITERS))
    assert min(spread.values()) > 50
    assert shard_of(record("s-1", StatusType.START), 1) == 0


def test_records_of_one_session_sent_back_to_back_are_stored_in_order(
    sharded: AcctServerThread, seeded_url: tuple[str, Seeded]
) -> None:
    assert sharded.server.address is not None
    nas = NasSimulator(sharded.server.address, NAS_SECRET.encode())
    sessions = [f"order-{n:02d}" for n in range(40)]
    packets = []
    for step in range(4):  # start, interim, interim, stop: all sessions interleaved
        for sid in sessions:
            status = ("start", "interim", "interim", "stop")[step]
            packets.append(
                nas.accounting_packet(
                    status,
                    sid,
                    PPPOE_USER,
                    session_time=60 * step,
                    input_octets=1000 * step,
                    terminate_cause=1,
                )
            )
    assert blast(sharded, packets) == len(packets)
    counters = sharded.counters
    # Out of order, a Stop before its Start would be "recovered" and the Start a duplicate.
    assert counters["radius.acct.started"] == 40
    assert counters["radius.acct.updated"] == 80
    assert counters["radius.acct.stopped"] == 40
    assert counters["radius.acct.recovered"] == 0
    assert counters["radius.acct.duplicate"] == 0
    rows = session_rows(seeded_url[0])
    assert [r["session_id"] for r in rows] == sessions
    assert all(r["session_time"] == 180 and r["input_octets"] == 3000 for r in rows)
    assert all(r["terminate_cause"] == "User-Request" for r in rows)


def test_accounting_on_closes_what_came_before_it_and_nothing_that_came_after(
    sharded: AcctServerThread, seeded_url: tuple[str, Seeded]
) -> None:
    assert sharded.server.address is not None
    nas = NasSimulator(sharded.server.address, NAS_SECRET.encode())
    before = [nas.accounting_packet("start", f"before-{n:02d}", PPPOE_USER) for n in range(30)]
    after = [nas.accounting_packet("start", f"after-{n:02d}", PPPOE_USER) for n in range(30)]
    # Two barriers in a row, with records between and after them.
    packets = [*before, nas.accounting_packet("on"), *after[:10], nas.accounting_packet("on")]
    assert blast(sharded, [*packets, *after[10:]]) == len(packets) + 20
    rows = {r["session_id"]: r for r in session_rows(seeded_url[0])}
    assert len(rows) == 60
    assert all(rows[f"before-{n:02d}"]["terminate_cause"] == "NAS-Reboot" for n in range(30))
    assert all(rows[f"after-{n:02d}"]["terminate_cause"] == "NAS-Reboot" for n in range(10))
    assert all(rows[f"after-{n:02d}"]["stopped_at"] is None for n in range(10, 30))
    assert sharded.counters["radius.acct.nas_reset"] == 2
    assert sharded.counters["radius.acct.started"] == 60


def test_a_connection_the_server_dropped_is_replaced_and_nothing_is_journaled(
    seeded_url: tuple[str, Seeded], secret_box: SecretBox, tmp_path: Path
) -> None:
    """The writers' pool does not ping each checkout (a round trip per batch): a connection
    PostgreSQL closed meanwhile fails on first use, and the batch is tried once more on a new
    one instead of going to the journal."""
    url = seeded_url[0]
    engine = make_engine(url, application_name="acct-dropped", pool_size=1, pre_ping=False)
    journal = Journal(tmp_path / "acct.journal")
    server = AcctServerThread(
        url, secret_box, journal=journal, sessions=sessionmaker(engine, expire_on_commit=False)
    )
    server.start()
    try:
        assert server.server.address is not None
        nas = NasSimulator(server.server.address, NAS_SECRET.encode(), timeout=5.0)
        assert nas.account("start", "dropped-1", PPPOE_USER)
        with psycopg.connect(url, autocommit=True) as admin:
            killed = admin.execute(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
                " WHERE application_name = 'acct-dropped'"
            ).fetchone()
        assert killed == (1,)
        assert nas.account("interim", "dropped-1", PPPOE_USER, session_time=60, input_octets=10)
    finally:
        server.stop()
        engine.dispose()
    assert server.counters["radius.acct.updated"] == 1
    assert server.counters["radius.acct.journaled"] == 0
    assert server.counters["radius.acct.error"] == 0
    assert not journal.pending
    [row] = session_rows(url)
    assert row["input_octets"] == 10
