"""Accounting when PostgreSQL is unreachable (the fsync'd journal, replayed in order with 0
lost and 0 doubled), and accounting inside the site service and the CLI simulator."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from easyisp_core.crypto import SecretBox
from easyisp_core.db.engine import make_engine
from easyisp_core.services.accounting import AccountingRecord, StatusType, store_records
from easyisp_core.services.radius_auth import load_nas_clients
from easyisp_core.settings import Settings
from radius_service.app import SiteService
from radius_service.radius.journal import Journal
from radius_service.simulator.nas import NasSimulator
from tests.service.radius.conftest import NAS_SECRET, PPPOE_USER, Seeded, seed
from tests.service.radius.test_accounting import AcctServerThread, session_rows

REPO_ROOT = Path(__file__).resolve().parents[3]


def test_records_are_journaled_while_the_database_is_down_and_replayed_once(
    seeded_url: tuple[str, Seeded], secret_box: SecretBox, tmp_path: Path
) -> None:
    url = seeded_url[0]
    dead = make_engine(
        "postgresql://postgres@127.0.0.1:1/nowhere", application_name="dead", pool_size=1
    )
    dead_sessions = sessionmaker(dead)
    state = {"down": False}
    server: AcctServerThread

    def sessions() -> Session:
        return dead_sessions() if state["down"] else server.sessions()

    journal = Journal(tmp_path / "acct.journal")
    server = AcctServerThread(url, secret_box, journal=journal, sessions=sessions)
    server.start()
    try:
        assert server.server.address is not None
        nas = NasSimulator(server.server.address, NAS_SECRET.encode(), timeout=5.0)
        assert nas.account("start", "j-1", PPPOE_USER)
        state["down"] = True
        assert nas.account("interim", "j-1", PPPOE_USER, session_time=60, input_octets=100)
        assert nas.account("start", "j-2", PPPOE_USER)
        assert nas.account("stop", "j-1", PPPOE_USER, session_time=90, input_octets=150,
                           terminate_cause=1)  # fmt: skip
        assert server.counters["radius.acct.journaled"] == 3
        assert len(journal.read()) == 3
        assert [r["session_id"] for r in session_rows(url)] == ["j-1"]
        state["down"] = False
        # The next record first replays the journal, in order, then is stored itself.
        assert nas.account("interim", "j-2", PPPOE_USER, session_time=30, output_octets=7)
        assert server.counters["radius.acct.replayed"] == 3
        assert not journal.pending
        assert journal.read() == []
    finally:
        server.stop()
        dead.dispose()
    rows = {r["session_id"]: r for r in session_rows(url)}
    assert sorted(rows) == ["j-1", "j-2"]
    assert rows["j-1"]["input_octets"] == 150
    assert rows["j-1"]["terminate_cause"] == "User-Request"
    assert rows["j-2"]["output_octets"] == 7
    assert rows["j-2"]["stopped_at"] is None


def test_a_journal_replayed_twice_doubles_nothing(
    seeded_url: tuple[str, Seeded], secret_box: SecretBox, tmp_path: Path
) -> None:
    """A crash between the replay's commit and the journal's truncation replays it again."""
    url = seeded_url[0]
    engine = make_engine(url, application_name="replay-twice")
    try:
        with Session(engine) as session:
            client = load_nas_clients(session, secret_box)[0]
        now = datetime.now(UTC)
        journal = Journal(tmp_path / "acct.journal")
        journal.append(
            [
                AccountingRecord(client.tenant_id, client.nas_id, status, now, "twice",
                                 PPPOE_USER, session_time=t, input_octets=t * 2**32 + 1)
                for status, t in ((StatusType.START, 0), (StatusType.INTERIM, 10),
                                  (StatusType.STOP, 20))
            ]
        )  # fmt: skip
        for _replay in range(2):
            with Session(engine) as session, session.begin():
                store_records(session, journal.read())
            if _replay == 0:
                first = session_rows(url)
    finally:
        engine.dispose()
    assert session_rows(url) == first
    assert len(first) == 1
    assert first[0]["input_octets"] == 20 * 2**32 + 1
    assert first[0]["stopped_at"] is not None


def test_the_site_service_takes_accounting_and_counts_it(
    fresh_db_url: str, secret_box: SecretBox, tmp_path: Path
) -> None:
    seed(fresh_db_url, secret_box)
    service = SiteService(
        Settings(database_url=fresh_db_url, data_dir=tmp_path),
        heartbeat_interval=0.1,
        radius_acct_addr=("127.0.0.1", 0),
        secret_box=secret_box,
    )

    async def scenario() -> None:
        running = asyncio.create_task(service.run())
        await asyncio.wait_for(service.started.wait(), 30)
        assert service.radius_acct is not None
        assert service.radius_acct.address is not None
        address = service.radius_acct.address
        cli = [sys.executable, "-m", "easyisp_cli.main", "simulate", "nas", "--server",
               f"{address[0]}:{address[1]}", "--secret", NAS_SECRET, "--user", PPPOE_USER,
               "--acct", "start", "--session-id", "cli-1"]  # fmt: skip
        done = await asyncio.to_thread(
            subprocess.run, cli, cwd=REPO_ROOT, capture_output=True, text=True, timeout=60
        )
        assert done.returncode == 0, done.stdout + done.stderr
        await asyncio.wait_for(service.stop(), 30)
        await running

    asyncio.run(scenario())
    assert service.counters["radius.acct.started"] == 1
    assert [r["session_id"] for r in session_rows(fresh_db_url)] == ["cli-1"]


def test_the_journal_is_replayed_when_the_database_returns_even_if_routers_are_quiet(
    seeded_url: tuple[str, Seeded], secret_box: SecretBox, tmp_path: Path
) -> None:
    url = seeded_url[0]
    dead = make_engine(
        "postgresql://postgres@127.0.0.1:1/nowhere", application_name="dead", pool_size=1
    )
    dead_sessions = sessionmaker(dead)
    state = {"down": True}
    server: AcctServerThread

    def sessions() -> Session:
        return dead_sessions() if state["down"] else server.sessions()

    journal = Journal(tmp_path / "quiet.journal")
    server = AcctServerThread(
        url, secret_box, journal=journal, sessions=sessions, replay_interval=0.2
    )
    server.start()
    try:
        assert server.server.address is not None
        nas = NasSimulator(server.server.address, NAS_SECRET.encode(), timeout=5.0)
        assert nas.account("start", "q-1", PPPOE_USER)
        assert server.counters["radius.acct.journaled"] == 1
        state["down"] = False  # the database is back; no router sends anything more
        deadline = time.monotonic() + 10
        # The journal empties inside the replay's transaction; the counter follows it.
        while (
            journal.pending or server.counters["radius.acct.replayed"] < 1
        ) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not journal.pending
        assert server.counters["radius.acct.replayed"] == 1
    finally:
        server.stop()
        dead.dispose()
    assert [r["session_id"] for r in session_rows(url)] == ["q-1"]
