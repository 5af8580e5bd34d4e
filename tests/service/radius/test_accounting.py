"""RADIUS accounting over real UDP into the real partitioned sessions table: sequences with
retransmissions, duplicates, late packets and gigawords; Accounting-On; bad authenticators;
group commit of a burst; the reply only after the commit."""

from __future__ import annotations

import asyncio
import json
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, select, text
from sqlalchemy.orm import Session, sessionmaker

from easyisp_core.crypto import SecretBox
from easyisp_core.db.engine import make_engine
from easyisp_core.models import Nas
from easyisp_core.services.nas import NAS_SECRET as NAS_SECRET_PURPOSE
from easyisp_core.services.radius_auth import NasClient, load_nas_clients
from radius_service.radius.accounting import DEFAULT_WRITERS, RadiusAccountingServer
from radius_service.radius.journal import Journal
from radius_service.simulator.nas import NasSimulator
from tests.service.radius.conftest import NAS_SECRET, PPPOE_USER, Seeded

SEQUENCES = json.loads(
    (Path(__file__).resolve().parents[2] / "data/radius/accounting_sequences.json").read_text()
)


class AcctServerThread:
    """RadiusAccountingServer on a private event loop thread until stop()."""

    def __init__(
        self,
        url: str,
        box: SecretBox,
        *,
        journal: Journal | None = None,
        sessions: Callable[[], Session] | None = None,
        replay_interval: float = 5.0,
        writers: int = DEFAULT_WRITERS,
    ) -> None:
        self.engine = make_engine(url, application_name="radius-acct-test", pool_size=4)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)
        self.counters: Counter[str] = Counter()
        self._box = box
        self.server = RadiusAccountingServer(
            ("127.0.0.1", 0),
            sessions or self.sessions,
            load_clients=self._load,
            counters=self.counters,
            journal=journal,
            replay_interval=replay_interval,
            writers=writers,
        )
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, daemon=True)

    def _load(self) -> list[NasClient]:
        with self.sessions() as session:
            return load_nas_clients(session, self._box)

    def start(self) -> tuple[str, int]:
        self._thread.start()
        return asyncio.run_coroutine_threadsafe(self.server.start(), self.loop).result(10)

    def stop(self) -> None:
        asyncio.run_coroutine_threadsafe(self.server.stop(), self.loop).result(timeout=20)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout=10)
        self.loop.close()
        self.engine.dispose()


@pytest.fixture
def acct_server(
    seeded_url: tuple[str, Seeded], secret_box: SecretBox
) -> Iterator[AcctServerThread]:
    server = AcctServerThread(seeded_url[0], secret_box)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def acct_nas(acct_server: AcctServerThread) -> NasSimulator:
    assert acct_server.server.address is not None
    return NasSimulator(acct_server.server.address, NAS_SECRET.encode(), timeout=3.0)


def session_rows(url: str, where: str = "true", **params: Any) -> list[dict[str, Any]]:
    """Read from a separate connection: what is committed, nothing else."""
    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    try:
        with engine.connect() as connection:
            result = connection.execute(
                text(
                    "SELECT session_id, username, customer_id, input_octets, output_octets,"
                    " session_time, started_at, stopped_at, terminate_cause,"
                    " host(framed_ip) AS framed_ip, calling_station_id, class_value"
                    f" FROM sessions WHERE {where} ORDER BY session_id"
                ),
                params,
            )
            return [dict(row._mapping) for row in result]
    finally:
        engine.dispose()


@pytest.mark.parametrize("case", SEQUENCES, ids=[case["name"] for case in SEQUENCES])
def test_accounting_sequences_store_exactly_the_expected_session(
    case: dict[str, Any], acct_nas: NasSimulator, seeded_url: tuple[str, Seeded]
) -> None:
    sent: list[bytes] = []
    for step in case["steps"]:
        if "resend" in step:
            raw = sent[step["resend"]]
        else:
            raw = acct_nas.accounting_packet(
                step["send"],
                "81f00001",
                PPPOE_USER,
                session_time=step.get("session_time", 0),
                input_octets=step.get("input", 0),
                output_octets=step.get("output", 0),
                delay=step.get("delay", 0),
                terminate_cause=step.get("cause"),
                framed_ip=step.get("framed_ip"),
                class_value=b"easyisp:test",
            )
        sent.append(raw)
        assert acct_nas.send_accounting(raw), step
    rows = session_rows(seeded_url[0])
    assert len(rows) == 1
    row, expect = rows[0], case["expect"]
    for column in ("input_octets", "output_octets", "session_time", "terminate_cause"):
        assert row[column] == expect[column], column
    assert (row["stopped_at"] is not None) is expect["closed"]
    if "framed_ip" in expect:
        assert row["framed_ip"] == expect["framed_ip"]
    if "started_ago" in expect:
        ago = (datetime.now(UTC) - row["started_at"]).total_seconds()
        assert abs(ago - expect["started_ago"]) < 10
    assert row["customer_id"] is not None
    assert row["calling_station_id"] == "AA:BB:CC:DD:EE:FF"
    assert row["class_value"] == "easyisp:test"


def test_the_reply_comes_only_after_the_record_is_committed(
    acct_nas: NasSimulator, seeded_url: tuple[str, Seeded]
) -> None:
    for n in range(20):
        assert acct_nas.account("start", f"commit-{n}", PPPOE_USER)
        # The moment the reply is here, another connection sees the row.
        assert session_rows(seeded_url[0], "session_id = :sid", sid=f"commit-{n}")


@pytest.fixture
def second_router(seeded_url: tuple[str, Seeded], secret_box: SecretBox) -> str:
    """Another router of the tenant, at 127.0.0.2 (in the client table from the start)."""
    engine = make_engine(seeded_url[0], application_name="radius-acct-test-seed")
    try:
        with Session(engine) as session, session.begin():
            template = session.scalars(select(Nas)).one()
            session.add(
                Nas(
                    tenant_id=template.tenant_id,
                    name="second-router",
                    ip_address="127.0.0.2",
                    secret_enc=secret_box.encrypt(NAS_SECRET, NAS_SECRET_PURPOSE),
                )
            )
    finally:
        engine.dispose()
    return "127.0.0.2"


@pytest.mark.parametrize("status", ["on", "off"])
def test_accounting_on_or_off_closes_every_open_session_of_that_router_only(
    status: str,
    second_router: str,
    acct_nas: NasSimulator,
    acct_server: AcctServerThread,
    seeded_url: tuple[str, Seeded],
) -> None:
    other = NasSimulator(acct_nas.server, acct_nas.secret, timeout=3.0, source_ip=second_router)
    assert other.account("start", "other-0", PPPOE_USER)
    for n in range(3):
        assert acct_nas.account("start", f"open-{n}", PPPOE_USER)
    assert acct_nas.account("stop", "open-0", PPPOE_USER, session_time=5, terminate_cause=1)
    assert acct_nas.account(status)
    rows = session_rows(seeded_url[0])
    assert [r["session_id"] for r in rows] == ["open-0", "open-1", "open-2", "other-0"]
    assert [r["terminate_cause"] for r in rows] == [
        "User-Request", "NAS-Reboot", "NAS-Reboot", None
    ]  # fmt: skip
    assert [r["stopped_at"] is not None for r in rows] == [True, True, True, False]
    assert acct_server.counters["radius.acct.nas_reset"] == 1
    # The same Accounting-On/Off again (a retransmission from a new port) closes nothing more.
    assert acct_nas.account(status)
    assert session_rows(seeded_url[0]) == rows


def test_a_bad_authenticator_or_wrong_code_is_dropped_without_reply(
    acct_nas: NasSimulator, acct_server: AcctServerThread, seeded_url: tuple[str, Seeded]
) -> None:
    raw = bytearray(acct_nas.accounting_packet("start", "forged", PPPOE_USER))
    raw[5] ^= 0xFF
    assert acct_nas.send_raw(bytes(raw), timeout=0.5) is None
    wrong_secret = NasSimulator(acct_nas.server, b"not-the-secret", timeout=0.5)
    assert not wrong_secret.account("start", "forged-2", PPPOE_USER)
    assert session_rows(seeded_url[0]) == []
    assert acct_server.counters["radius.acct.drop.bad_authenticator"] == 2
    assert acct_nas.account("start", "genuine", PPPOE_USER)


def test_a_burst_of_200_records_is_group_committed_and_each_stored_once(
    acct_nas: NasSimulator, acct_server: AcctServerThread, seeded_url: tuple[str, Seeded]
) -> None:
    def one(n: int) -> bool:
        nas = NasSimulator(acct_nas.server, acct_nas.secret, timeout=3.0, retries=2)
        return nas.account("start", f"burst-{n:03d}", PPPOE_USER)

    with ThreadPoolExecutor(64) as pool:
        answered = list(pool.map(one, range(200)))
    assert all(answered)
    rows = session_rows(seeded_url[0])
    assert [r["session_id"] for r in rows] == [f"burst-{n:03d}" for n in range(200)]
    counters = acct_server.counters
    assert counters["radius.acct.started"] == 200
    # Many records per transaction, not one commit each.
    assert counters["radius.acct.batch"] < 100


def test_a_nul_in_a_text_attribute_is_stored_as_a_replacement_character_and_answered(
    acct_nas: NasSimulator, acct_server: AcctServerThread, seeded_url: tuple[str, Seeded]
) -> None:
    # PostgreSQL text cannot hold NUL: unreplaced, the record could never be stored and the
    # router would retransmit it unanswered until it gave up (found by test_accounting_fuzz).
    assert acct_nas.account("start", "nul\x00id", PPPOE_USER, class_value=b"easyisp:\x00")
    assert acct_nas.account("stop", "nul\x00id", PPPOE_USER, session_time=3, input_octets=9)
    (row,) = session_rows(seeded_url[0])
    assert row["session_id"] == "nul\ufffdid"
    assert row["class_value"] == "easyisp:\ufffd"
    assert (row["input_octets"], row["stopped_at"] is not None) == (9, True)
    assert acct_server.counters["radius.acct.error"] == 0
