"""A real PostgreSQL outage under accounting load: a private server is stopped while the NAS
simulator keeps sending Start / Interim / Stop (with retransmissions and duplicates), every
request is still answered (from the fsync'd journal), the server is started again and the
journal replayed; then every acknowledged record is in `sessions` exactly once.

Waits are count-based with generous deadlines; nothing asserts how long anything took."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from easyisp_core.crypto import SecretBox, new_site_key
from radius_service.radius.journal import Journal
from radius_service.simulator.nas import NasSimulator
from tests.pg import create_migrated_database, database_url
from tests.service.radius.conftest import NAS_SECRET, PPPOE_USER, seed
from tests.service.radius.stoppable_pg import StoppablePostgres, stoppable_postgres
from tests.service.radius.test_accounting import AcctServerThread, session_rows

SESSIONS = 48
INTERIMS = 3
WORKERS = 16
SEND_DEADLINE = 180.0  # per record: a router retransmits for as long as this
WAIT_DEADLINE = 180.0
REPO_ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def stoppable_pg() -> Iterator[StoppablePostgres]:
    with stoppable_postgres() as server:
        yield server


@pytest.fixture
def outage_db(stoppable_pg: StoppablePostgres, secret_box: SecretBox) -> str:
    if not stoppable_pg.running:
        stoppable_pg.start()
    url = database_url(
        stoppable_pg.admin_url, create_migrated_database(stoppable_pg.admin_url, "outage")
    )
    seed(url, secret_box)
    return url


def wait_for(condition: Callable[[], bool], what: str, deadline: float = WAIT_DEADLINE) -> None:
    end = time.monotonic() + deadline
    while not condition():
        if time.monotonic() > end:
            raise AssertionError(f"gave up waiting for {what}")
        time.sleep(0.02)


@dataclass
class SentStop:
    input_octets: int
    output_octets: int
    first_sent: datetime
    acknowledged: datetime


@dataclass
class Load:
    """A router population: each session Start, Interims, Stop, one record at a time, each
    retransmitted until acknowledged; every third record sent once more after its reply."""

    server: tuple[str, int]
    acked: int = 0
    duplicates: int = 0
    stops: dict[str, SentStop] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def send(self, nas: NasSimulator, raw: bytes, what: str) -> datetime:
        end = time.monotonic() + SEND_DEADLINE
        while not nas.send_accounting(raw):
            if time.monotonic() > end:
                self.failures.append(what)
                raise AssertionError(f"{what} was never acknowledged")
        acknowledged = datetime.now(UTC)
        with self._lock:
            self.acked += 1
            count = self.acked
        if count % 3 == 0:
            # A late retransmission from another port: not in the reply cache, so it goes
            # through storing again and must change nothing.
            nas.send_accounting(raw)
            with self._lock:
                self.duplicates += 1
        return acknowledged

    def session(self, n: int) -> None:
        nas = NasSimulator(self.server, NAS_SECRET.encode(), timeout=1.0, retries=2)
        sid = f"out-{n:03d}"
        self.send(nas, nas.accounting_packet("start", sid, PPPOE_USER), f"{sid} start")
        for k in range(1, INTERIMS + 1):
            raw = nas.accounting_packet(
                "interim", sid, PPPOE_USER, session_time=60 * k,
                input_octets=k * 1000 + n, output_octets=k * 2**32 + n,
            )  # fmt: skip
            self.send(nas, raw, f"{sid} interim {k}")
        stop = (INTERIMS + 1) * 1000 + n, (INTERIMS + 1) * 2**32 + n
        raw = nas.accounting_packet("stop", sid, PPPOE_USER, session_time=60 * (INTERIMS + 1),
                                    input_octets=stop[0], output_octets=stop[1],
                                    terminate_cause=1)  # fmt: skip
        first_sent = datetime.now(UTC)
        acknowledged = self.send(nas, raw, f"{sid} stop")
        with self._lock:
            self.stops[sid] = SentStop(stop[0], stop[1], first_sent, acknowledged)


def test_every_acknowledged_record_survives_a_postgres_outage_exactly_once(
    stoppable_pg: StoppablePostgres, outage_db: str, secret_box: SecretBox, tmp_path: Path
) -> None:
    journal = Journal(tmp_path / "acct.journal")
    server = AcctServerThread(outage_db, secret_box, journal=journal, replay_interval=0.2)
    server.start()
    counters = server.counters
    total = SESSIONS * (INTERIMS + 2)
    try:
        assert server.server.address is not None
        load = Load(server.server.address)
        with ThreadPoolExecutor(WORKERS) as pool:
            running = [pool.submit(load.session, n) for n in range(SESSIONS)]
            wait_for(lambda: load.acked >= total // 4, "a quarter of the records stored")
            stoppable_pg.stop()
            # The outage lasts until a good share of the load was answered from the journal.
            wait_for(
                lambda: (
                    counters["radius.acct.journaled"] >= total // 4
                    or all(f.done() for f in running)
                ),
                "records journaled while PostgreSQL is down",
            )
            stoppable_pg.start()
            for future in running:
                future.result(timeout=WAIT_DEADLINE)
        wait_for(lambda: not journal.pending, "the journal to be replayed")
    finally:
        server.stop()
    assert load.failures == []
    assert load.acked == total
    assert counters["radius.acct.journaled"] > 0
    assert counters["radius.acct.replayed"] >= counters["radius.acct.journaled"]
    assert counters["radius.acct.dead_letter"] == 0
    assert journal.read() == []
    assert journal.dead_letters() == []

    rows = session_rows(outage_db)
    # One row per session: nothing doubled, nothing that was not sent.
    assert [r["session_id"] for r in rows] == [f"out-{n:03d}" for n in range(SESSIONS)]
    slack = timedelta(seconds=1)
    for row in rows:
        sent = load.stops[row["session_id"]]
        assert (row["input_octets"], row["output_octets"]) == (
            sent.input_octets, sent.output_octets
        ), row["session_id"]  # fmt: skip
        assert row["session_time"] == 60 * (INTERIMS + 1)
        assert row["terminate_cause"] == "User-Request"
        assert row["customer_id"] is not None
        # Stopped when the Stop reached the server: after it was first sent, before its reply.
        assert sent.first_sent - slack <= row["stopped_at"] <= sent.acknowledged + slack


def _free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _service(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "easyisp_cli.main", "service", "--heartbeat-interval", "1"]
    with log.open("ab") as out:
        return subprocess.Popen(command, cwd=REPO_ROOT, env=env, stdout=out, stderr=out)


def test_journaled_records_survive_a_killed_service_and_the_next_one_replays_them(
    stoppable_pg: StoppablePostgres, tmp_path: Path
) -> None:
    if not stoppable_pg.running:
        stoppable_pg.start()
    key = new_site_key()
    admin = stoppable_pg.admin_url
    url = database_url(admin, create_migrated_database(admin, "restart"))
    seed(url, SecretBox.from_encoded(key))
    port = _free_udp_port()
    data_dir = tmp_path / "data"
    env = {**os.environ, "EASYISP_DATABASE_URL": url, "EASYISP_DATA_DIR": str(data_dir),
           "EASYISP_SITE_KEY": key, "EASYISP_RADIUS_AUTH_ADDR": "off",
           "EASYISP_RADIUS_ACCT_ADDR": f"127.0.0.1:{port}"}  # fmt: skip
    log = tmp_path / "service.log"
    nas = NasSimulator(("127.0.0.1", port), NAS_SECRET.encode(), timeout=1.0)
    first = _service(env, log)
    second: subprocess.Popen[bytes] | None = None
    try:

        def acked(raw: bytes, process: subprocess.Popen[bytes]) -> None:
            end = time.monotonic() + WAIT_DEADLINE
            while not nas.send_accounting(raw):
                assert process.poll() is None, log.read_text()
                assert time.monotonic() < end, log.read_text()

        acked(nas.accounting_packet("start", "r-1", PPPOE_USER), first)
        stoppable_pg.stop()
        acked(nas.accounting_packet("interim", "r-1", PPPOE_USER, session_time=60,
                                    input_octets=10), first)  # fmt: skip
        acked(nas.accounting_packet("stop", "r-1", PPPOE_USER, session_time=90,
                                    input_octets=15, terminate_cause=1), first)  # fmt: skip
        acked(nas.accounting_packet("start", "r-2", PPPOE_USER), first)
        first.kill()  # no shutdown: only the fsync'd journal holds the three records
        first.wait(timeout=30)
        journal = Journal(data_dir / "radius" / "accounting.journal")
        assert [r.session_id for r in journal.read()] == ["r-1", "r-1", "r-2"]
        stoppable_pg.start()
        second = _service(env, log)

        def replayed() -> bool:
            assert second is not None
            assert second.poll() is None, log.read_text()
            rows = session_rows(url)
            return len(rows) == 2 and rows[0]["stopped_at"] is not None

        wait_for(replayed, "the new service to replay the journal")
        second.terminate()
        assert second.wait(timeout=60) == 0, log.read_text()
    finally:
        for process in (first, second):
            if process is not None and process.poll() is None:
                process.kill()
                process.wait(timeout=30)
    rows = session_rows(url)
    assert [r["session_id"] for r in rows] == ["r-1", "r-2"]
    assert rows[0]["input_octets"] == 15
    assert rows[0]["session_time"] == 90
    assert rows[0]["terminate_cause"] == "User-Request"
    assert rows[1]["stopped_at"] is None
    assert not Journal(data_dir / "radius" / "accounting.journal").pending
