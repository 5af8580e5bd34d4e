"""Journal hardening: a full journal stops acknowledging (the router retransmits) instead of
losing records; a journaled record the database rejects goes to the dead-letter file with
the reason and does not block the records behind it; a torn last line is cut on open."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from easyisp_core.crypto import SecretBox
from easyisp_core.db.engine import make_engine
from easyisp_core.services.accounting import AccountingRecord, StatusType
from easyisp_core.services.radius_auth import load_nas_clients
from radius_service.radius.accounting import RadiusAccountingServer
from radius_service.radius.journal import Journal, JournalFull
from radius_service.simulator.nas import NasSimulator
from tests.service.radius.conftest import NAS_SECRET, PPPOE_USER, Seeded
from tests.service.radius.test_accounting import AcctServerThread, session_rows


def _record(session_id: str, nas_id: uuid.UUID | None = None) -> AccountingRecord:
    return AccountingRecord(
        uuid.uuid4(), nas_id or uuid.uuid4(), StatusType.START, datetime.now(UTC), session_id
    )


def test_a_full_journal_refuses_records_and_writes_nothing(tmp_path: Path) -> None:
    one_line = _line_size(tmp_path)
    journal = Journal(tmp_path / "acct.journal", max_bytes=one_line * 2)
    journal.append([_record("a-1")])
    journal.append([_record("a-2")])
    before = journal.path.read_bytes()
    with pytest.raises(JournalFull):
        journal.append([_record("a-3")])
    assert journal.path.read_bytes() == before
    assert [r.session_id for r in journal.read()] == ["a-1", "a-2"]
    journal.clear()
    journal.append([_record("a-3")])  # room again once replayed
    assert journal.size == one_line


def _line_size(tmp_path: Path) -> int:
    probe = Journal(tmp_path / "size.probe")
    probe.append([_record("a-0")])
    return probe.size


def test_a_torn_last_line_is_cut_when_the_journal_is_opened(tmp_path: Path) -> None:
    path = tmp_path / "acct.journal"
    Journal(path).append([_record("t-1"), _record("t-2")])
    with path.open("ab") as file:
        file.write(b'{"tenant_id": "half a rec')  # the crash came mid-append
    journal = Journal(path)
    journal.append([_record("t-3")])
    assert [r.session_id for r in Journal(path).read()] == ["t-1", "t-2", "t-3"]


def test_a_full_journal_stops_acknowledging_until_the_database_returns(
    seeded_url: tuple[str, Seeded], secret_box: SecretBox, tmp_path: Path
) -> None:
    url = seeded_url[0]
    dead = make_engine("postgresql://postgres@127.0.0.1:1/nowhere", application_name="dead")
    dead_sessions = sessionmaker(dead)
    state = {"down": True}
    server: AcctServerThread

    def sessions() -> Session:
        return dead_sessions() if state["down"] else server.sessions()

    journal = Journal(tmp_path / "acct.journal", max_bytes=4096)
    server = AcctServerThread(url, secret_box, journal=journal, sessions=sessions)
    server.start()
    try:
        assert server.server.address is not None
        nas = NasSimulator(server.server.address, NAS_SECRET.encode(), timeout=1.0)
        acked = 0
        while nas.account("start", f"full-{acked:02d}", PPPOE_USER):
            acked += 1
            assert acked < 100, "the journal never filled"
        refused = f"full-{acked:02d}"
        assert server.counters["radius.acct.journal_full"] >= 1
        assert [r.session_id for r in journal.read()] == [f"full-{n:02d}" for n in range(acked)]
        assert journal.size <= journal.max_bytes
        state["down"] = False
        # The router retransmits the refused record: now the journal replays and it is stored.
        assert nas.account("start", refused, PPPOE_USER)
        assert not journal.pending
    finally:
        server.stop()
        dead.dispose()
    expected = [f"full-{n:02d}" for n in range(acked + 1)]
    assert [r["session_id"] for r in session_rows(url)] == expected


def test_a_journaled_record_the_database_rejects_is_dead_lettered_not_blocking(
    seeded_url: tuple[str, Seeded], secret_box: SecretBox, tmp_path: Path
) -> None:
    url = seeded_url[0]
    engine = make_engine(url, application_name="dead-letter-test")
    try:
        with Session(engine) as session:
            client = load_nas_clients(session, secret_box)[0]
    finally:
        engine.dispose()
    now = datetime.now(UTC)
    good = [
        AccountingRecord(client.tenant_id, client.nas_id, StatusType.START, now, f"dl-{n}",
                         PPPOE_USER)
        for n in range(3)
    ]  # fmt: skip
    # A router that was deleted while its record waited: the foreign key refuses it.
    orphan = AccountingRecord(client.tenant_id, uuid.uuid4(), StatusType.START, now, "dl-x")
    journal = Journal(tmp_path / "acct.journal")
    journal.append([good[0], orphan, good[1], good[2]])
    server = AcctServerThread(url, secret_box, journal=journal, replay_interval=0.1)
    server.start()
    try:
        assert server.server.address is not None
        nas = NasSimulator(server.server.address, NAS_SECRET.encode(), timeout=5.0)
        assert nas.account("start", "dl-live", PPPOE_USER)
        assert not journal.pending
    finally:
        server.stop()
    assert server.counters["radius.acct.dead_letter"] == 1
    assert server.counters["radius.acct.replayed"] == 4
    [(reason, record)] = journal.dead_letters()
    assert record == orphan
    assert "ForeignKeyViolation" in reason
    stored = [r["session_id"] for r in session_rows(url)]
    assert stored == ["dl-0", "dl-1", "dl-2", "dl-live"]


def test_a_replay_cut_short_goes_on_after_the_committed_part(
    seeded_url: tuple[str, Seeded], secret_box: SecretBox, tmp_path: Path
) -> None:
    """The database goes away part way through a replay: the next replay neither stores the
    committed head again nor dead-letters its rejected record twice."""
    url = seeded_url[0]
    engine = make_engine(url, application_name="replay-resume")
    dead = make_engine("postgresql://postgres@127.0.0.1:1/nowhere", application_name="dead")
    live_sessions, dead_sessions = sessionmaker(engine), sessionmaker(dead)
    calls = {"n": 0}

    def sessions() -> Session:
        calls["n"] += 1
        return dead_sessions() if calls["n"] == 3 else live_sessions()

    try:
        with live_sessions() as session:
            client = load_nas_clients(session, secret_box)[0]
        now = datetime.now(UTC)
        good = [
            AccountingRecord(client.tenant_id, client.nas_id, StatusType.START, now, f"rs-{n}")
            for n in range(3)
        ]
        orphan = AccountingRecord(client.tenant_id, uuid.uuid4(), StatusType.START, now, "rs-x")
        journal = Journal(tmp_path / "acct.journal")
        journal.append([good[0], orphan, good[1], good[2]])
        server = RadiusAccountingServer(("127.0.0.1", 0), sessions, journal=journal, batch_size=1)
        # In the writer thread's place (no event loop needed): rs-0 commits, rs-x is
        # rejected, then the database is unreachable for rs-1.
        first = server._store_durably([])
        assert (first.outcomes, first.replayed, first.dead_lettered) == ([], 0, 1)
        assert journal.pending
        assert journal.replayed_upto == 2
        second = server._store_durably([])
        assert (second.replayed, second.dead_lettered) == (4, 0)
        assert not journal.pending
    finally:
        engine.dispose()
        dead.dispose()
    assert [reason.split(":")[0] for reason, _r in journal.dead_letters()] == [
        "ForeignKeyViolation"
    ]
    assert calls["n"] == 5  # rs-0, rs-x, (rs-1: down), rs-1, rs-2: the head was not redone
    assert [r["session_id"] for r in session_rows(url)] == ["rs-0", "rs-1", "rs-2"]
