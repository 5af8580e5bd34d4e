"""Two accounting writers never create the same session twice: two real accounting servers
on one database given the same Start at the same moment store one session, and the unique
key (nas_id, session_id, started_at) turns a second insert into nothing."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

from sqlalchemy.orm import Session

from easyisp_core.crypto import SecretBox
from easyisp_core.db.engine import make_engine
from easyisp_core.repositories.accounting import AccountingRepository, NewSession
from easyisp_core.services.radius_auth import load_nas_clients
from radius_service.simulator.nas import NasSimulator
from tests.service.radius.conftest import NAS_SECRET, PPPOE_USER, Seeded
from tests.service.radius.test_accounting import AcctServerThread, session_rows

SESSIONS = 64


def test_two_servers_given_the_same_start_at_once_store_one_session(
    seeded_url: tuple[str, Seeded], secret_box: SecretBox
) -> None:
    url = seeded_url[0]
    servers = [AcctServerThread(url, secret_box), AcctServerThread(url, secret_box)]
    for server in servers:
        server.start()
    try:
        addresses = [s.server.address for s in servers]
        assert None not in addresses

        def both(n: int) -> list[bool]:
            """The same signed Start (and later the same Interim) to both servers at once."""
            builder = NasSimulator(addresses[0] or ("", 0), NAS_SECRET.encode())
            start = builder.accounting_packet("start", f"twice-{n:02d}", PPPOE_USER)
            interim = builder.accounting_packet(
                "interim", f"twice-{n:02d}", PPPOE_USER, session_time=30, input_octets=n
            )
            barrier = threading.Barrier(2)

            def send(address: tuple[str, int], raw: bytes) -> bool:
                nas = NasSimulator(address, NAS_SECRET.encode(), timeout=3.0, retries=3)
                barrier.wait(timeout=30)
                return nas.send_accounting(raw)

            answered = []
            for raw in (start, interim):
                with ThreadPoolExecutor(2) as pair:
                    answered += list(pair.map(send, [a or ("", 0) for a in addresses], [raw] * 2))
            return answered

        with ThreadPoolExecutor(16) as pool:
            results = list(pool.map(both, range(SESSIONS)))
    finally:
        for server in servers:
            server.stop()
    assert all(all(r) for r in results)
    rows = session_rows(url)
    assert [r["session_id"] for r in rows] == [f"twice-{n:02d}" for n in range(SESSIONS)]
    assert [r["input_octets"] for r in rows] == list(range(SESSIONS))
    started = sum(s.counters["radius.acct.started"] for s in servers)
    duplicates = sum(s.counters["radius.acct.duplicate"] for s in servers)
    assert started == SESSIONS
    assert duplicates == SESSIONS


def test_the_unique_key_turns_a_second_insert_of_a_session_into_nothing(
    seeded_url: tuple[str, Seeded], secret_box: SecretBox
) -> None:
    url = seeded_url[0]
    engine = make_engine(url, application_name="identity-test")
    try:
        with Session(engine) as session, session.begin():
            client = load_nas_clients(session, secret_box)[0]
            new = NewSession(
                tenant_id=client.tenant_id, nas_id=client.nas_id, session_id="same",
                unique_session_id="same", username=PPPOE_USER, started_at=datetime.now(UTC),
                service_type="PPPOE", framed_ip=None, calling_station_id=None,
                called_station_id=None, nas_port_id=None, class_value=None,
            )  # fmt: skip
            repository = AccountingRepository(session)
            assert repository.insert(new, None, new.started_at) is not None
            assert repository.insert(new, None, new.started_at) is None
    finally:
        engine.dispose()
    assert len(session_rows(url)) == 1
