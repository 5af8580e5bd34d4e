"""A whole group-commit batch stored set-based gives what storing its records one by one
gives: several records of one session in a batch, an Accounting-On in the middle of it, the
batch stored again (journal replay) changing nothing, and an insert meeting a row the
identity lock did not cover."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from easyisp_core.crypto import SecretBox
from easyisp_core.db.engine import make_engine
from easyisp_core.repositories.accounting import AccountingRepository, NewSession
from easyisp_core.services.accounting import (
    AccountingRecord,
    Outcome,
    StatusType,
    store_records,
)
from easyisp_core.services.radius_auth import NasClient, load_nas_clients
from tests.service.radius.conftest import PPPOE_USER, Seeded
from tests.service.radius.test_accounting import session_rows

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


@pytest.fixture
def engine(seeded_url: tuple[str, Seeded]) -> Iterator[Engine]:
    engine = make_engine(seeded_url[0], application_name="acct-batch-test")
    yield engine
    engine.dispose()


@pytest.fixture
def client(engine: Engine, secret_box: SecretBox) -> NasClient:
    with Session(engine) as session:
        return load_nas_clients(session, secret_box)[0]


def record(
    client: NasClient, status: StatusType, sid: str, at: datetime, **values: object
) -> AccountingRecord:
    return AccountingRecord(
        tenant_id=client.tenant_id, nas_id=client.nas_id, status=status, received_at=at,
        session_id=sid, username=PPPOE_USER, **values,  # type: ignore[arg-type]
    )  # fmt: skip


def store(engine: Engine, records: list[AccountingRecord]) -> list[Outcome]:
    with Session(engine) as session, session.begin():
        return store_records(session, records)


def test_one_batch_with_a_whole_session_and_an_accounting_on_in_the_middle(
    engine: Engine, client: NasClient, seeded_url: tuple[str, Seeded]
) -> None:
    s, i, p = StatusType.START, StatusType.INTERIM, StatusType.STOP
    minute = timedelta(minutes=1)
    batch = [
        record(client, s, "a", NOW, framed_ip="10.0.0.7"),
        record(client, i, "a", NOW + minute, session_time=60, input_octets=5, output_octets=9),
        # A late interim with smaller counters: octets never go backwards.
        record(client, i, "a", NOW + minute, session_time=30, input_octets=2, output_octets=3),
        record(client, p, "a", NOW + 2 * minute, session_time=120, input_octets=(1 << 32) + 7,
               output_octets=11, terminate_cause="User-Request"),
        record(client, s, "b", NOW),
        record(client, StatusType.ACCOUNTING_ON, "", NOW + 3 * minute),
        # After the router's reboot, b is closed: its late interim changes nothing.
        record(client, i, "b", NOW + 3 * minute, session_time=180, input_octets=99),
        # A Stop whose Start never arrived: recovered as a closed session.
        record(client, p, "c", NOW + 4 * minute, session_time=60, input_octets=4),
        record(client, p, "a", NOW + 2 * minute, session_time=120, input_octets=1),
    ]  # fmt: skip
    assert store(engine, batch) == [
        Outcome.STARTED, Outcome.UPDATED, Outcome.UPDATED, Outcome.STOPPED, Outcome.STARTED,
        Outcome.NAS_RESET, Outcome.DUPLICATE, Outcome.RECOVERED, Outcome.DUPLICATE,
    ]  # fmt: skip
    first = session_rows(seeded_url[0])
    by_id = {row["session_id"]: row for row in first}
    assert sorted(by_id) == ["a", "b", "c"]
    assert by_id["a"]["input_octets"] == (1 << 32) + 7
    assert by_id["a"]["output_octets"] == 11
    assert by_id["a"]["session_time"] == 120
    assert by_id["a"]["terminate_cause"] == "User-Request"
    assert str(by_id["a"]["framed_ip"]) == "10.0.0.7"
    assert by_id["a"]["stopped_at"] == NOW + 2 * minute
    assert by_id["a"]["customer_id"] is not None
    assert by_id["b"]["terminate_cause"] == "NAS-Reboot"
    assert by_id["b"]["input_octets"] == 0
    assert by_id["c"]["started_at"] == NOW + 3 * minute
    assert by_id["c"]["stopped_at"] == NOW + 4 * minute
    assert by_id["c"]["input_octets"] == 4
    # The journal may replay the same batch: nothing changes.
    again = store(engine, batch)
    assert again.count(Outcome.DUPLICATE) == len(batch) - 1
    assert session_rows(seeded_url[0]) == first


def test_an_insert_meeting_a_row_it_did_not_read_changes_nothing(
    engine: Engine, client: NasClient, seeded_url: tuple[str, Seeded]
) -> None:
    # An old closed session started at T and a newer one reusing the id two hours later:
    # the batch reads only the newer one, so a late Stop of the old session tries to insert
    # a row the unique key already holds.
    old_start = NOW
    late_stop = record(client, StatusType.STOP, "x", NOW + timedelta(minutes=5), session_time=300)
    with Session(engine) as session, session.begin():
        repository = AccountingRepository(session)
        for started in (old_start, old_start + timedelta(hours=2)):
            new = NewSession(
                tenant_id=client.tenant_id, nas_id=client.nas_id, session_id="x",
                unique_session_id=f"x-{started.hour}", username=PPPOE_USER, started_at=started,
                service_type="PPPOE", framed_ip=None, calling_station_id=None,
                called_station_id=None, nas_port_id=None, class_value=None,
            )  # fmt: skip
            row = repository.insert(new, None, started)
            assert row is not None
        repository.close_open_sessions(client.nas_id, NOW + timedelta(hours=3), "Lost-Carrier")
    before = session_rows(seeded_url[0])
    assert store(engine, [late_stop]) == [Outcome.DUPLICATE]
    assert session_rows(seeded_url[0]) == before
