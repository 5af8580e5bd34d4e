"""Monthly partitions: stray rows find their month, old months leave as files, nothing is lost."""

from __future__ import annotations

import csv
import gzip
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session, sessionmaker

from easyisp_core.db.engine import make_engine, session_scope
from easyisp_core.errors import ValidationFailed
from easyisp_core.repositories import partitions
from easyisp_core.services.maintenance import archive_partitions, ensure_all_partitions
from tests.factories import make_tenant


def add_months(month: date, n: int) -> date:
    index = month.year * 12 + month.month - 1 + n
    return date(index // 12, index % 12 + 1, 1)


def this_month(session: Session) -> date:
    """The current month by the database's clock, which is what the partition functions use."""
    today: date = session.execute(text("SELECT (now() AT TIME ZONE 'UTC')::date")).scalar_one()
    return today.replace(day=1)


def at(month: date, day: int = 15) -> datetime:
    return datetime(month.year, month.month, day, 12, 0, tzinfo=UTC)


def add_session_row(session: Session, tenant_id: uuid.UUID, started_at: datetime) -> int:
    row_id: int = session.execute(
        text(
            "INSERT INTO sessions (tenant_id, username, session_id, started_at) "
            "VALUES (:t, 'alice', :sid, :at) RETURNING id"
        ),
        {"t": tenant_id, "sid": uuid.uuid4().hex[:16], "at": started_at},
    ).scalar_one()
    return row_id


def add_sms_row(session: Session, tenant_id: uuid.UUID, created_at: datetime) -> int:
    row_id: int = session.execute(
        text(
            "INSERT INTO sms_logs (tenant_id, phone, message, created_at) "
            "VALUES (:t, '254712345678', 'Your package expires tomorrow', :at) RETURNING id"
        ),
        {"t": tenant_id, "at": created_at},
    ).scalar_one()
    return row_id


def holder(session: Session, table: str, row_id: int) -> str:
    """The partition a row physically sits in."""
    name: str = session.execute(
        text(f"SELECT tableoid::regclass::text FROM {table} WHERE id = :id"), {"id": row_id}
    ).scalar_one()
    return name


def test_a_row_beyond_the_prepared_months_moves_into_its_own_partition(session: Session) -> None:
    tenant = make_tenant(session)
    far = add_months(this_month(session), 6)
    session_id = add_session_row(session, tenant.id, at(far))
    sms_id = add_sms_row(session, tenant.id, at(far, 28))
    assert holder(session, "sessions", session_id) == "sessions_default"
    assert holder(session, "sms_logs", sms_id) == "sms_logs_default"

    created = ensure_all_partitions(session, months_ahead=3)

    stamp = far.strftime("%Y%m")
    assert f"sessions_p{stamp}" in created["sessions"]
    assert f"sms_logs_p{stamp}" in created["sms_logs"]
    assert holder(session, "sessions", session_id) == f"sessions_p{stamp}"
    assert holder(session, "sms_logs", sms_id) == f"sms_logs_p{stamp}"
    moved = session.execute(
        text("SELECT username, started_at FROM sessions WHERE id = :id"), {"id": session_id}
    ).one()
    assert moved == ("alice", at(far))
    assert session.execute(text("SELECT count(*) FROM sessions_default")).scalar_one() == 0


def test_ensuring_twice_creates_nothing_the_second_time(session: Session) -> None:
    ensure_all_partitions(session, months_ahead=4)
    assert ensure_all_partitions(session, months_ahead=4) == {"sessions": [], "sms_logs": []}


def test_only_the_partitioned_tables_are_accepted(session: Session) -> None:
    with pytest.raises(ValidationFailed):
        partitions.ensure_partitions(session, "customers", 3)
    with pytest.raises(ValidationFailed):
        partitions.drop_table(session, "customers")
    with pytest.raises(ValidationFailed):
        partitions.drop_table(session, 'sessions_p202601"; DROP TABLE tenants; --')


def test_an_attached_partition_is_never_dropped(session: Session) -> None:
    current = f"sessions_p{this_month(session):%Y%m}"
    with pytest.raises(ValidationFailed, match="still attached"):
        partitions.drop_table(session, current)


def test_the_current_month_cannot_be_archived(session: Session, tmp_path: Path) -> None:
    next_month = add_months(this_month(session), 1)
    with pytest.raises(ValidationFailed) as caught:
        archive_partitions(session, before=next_month, out_dir=tmp_path)
    assert "before" in caught.value.field_errors
    assert list(tmp_path.iterdir()) == []


@contextmanager
def unit_of_work(engine: Engine) -> Iterator[Session]:
    """A committed transaction, as the CLI and the service run maintenance."""
    with session_scope(sessionmaker(engine)) as session:
        yield session


def read_archive(path: Path) -> list[dict[str, str]]:
    with gzip.open(path, "rt", newline="") as handle:
        return list(csv.DictReader(handle))


def test_archiving_exports_old_months_and_keeps_newer_ones(
    fresh_db_url: str, tmp_path: Path
) -> None:
    engine = make_engine(fresh_db_url, application_name="easyisp-tests")
    try:
        with unit_of_work(engine) as session:
            tenant = make_tenant(session)
            old = add_months(this_month(session), -11)
            newer = add_months(old, 1)
            old_ids = {add_session_row(session, tenant.id, at(old, day)) for day in (1, 15, 28)}
            newer_ids = {add_session_row(session, tenant.id, at(newer, day)) for day in (2, 3)}
            add_sms_row(session, tenant.id, at(old))

        with unit_of_work(engine) as session:
            archived = archive_partitions(session, before=newer, out_dir=tmp_path / "archive")

        by_name = {item.name: item for item in archived}
        old_sessions = by_name[f"sessions_p{old:%Y%m}"]
        assert old_sessions.rows == 3
        assert old_sessions.path == tmp_path / "archive" / f"sessions_p{old:%Y%m}.csv.gz"
        exported = read_archive(old_sessions.path)
        assert {int(row["id"]) for row in exported} == old_ids
        assert {row["username"] for row in exported} == {"alice"}
        assert by_name[f"sms_logs_p{old:%Y%m}"].rows == 1
        # Everything older went too (the month before, empty), and nothing newer.
        assert all(partitions.partition_month(name) < newer for name in by_name)
        assert f"sessions_p{newer:%Y%m}" not in by_name
        assert not list((tmp_path / "archive").glob("*.part"))

        with unit_of_work(engine) as session:
            for name in by_name:
                assert (
                    session.execute(text("SELECT to_regclass(:n)"), {"n": name}).scalar_one()
                    is None
                )
            remaining = set(session.execute(text("SELECT id FROM sessions")).scalars())
            assert remaining == newer_ids
            # A second run finds nothing left to archive.
            assert archive_partitions(session, before=newer, out_dir=tmp_path / "again") == []
    finally:
        engine.dispose()


def test_a_month_detached_by_an_unfinished_run_is_archived_next_time(
    fresh_db_url: str, tmp_path: Path
) -> None:
    engine = make_engine(fresh_db_url, application_name="easyisp-tests")
    try:
        with unit_of_work(engine) as session:
            tenant = make_tenant(session)
            old = add_months(this_month(session), -11)
            add_session_row(session, tenant.id, at(old))
            # A run that detached and committed, then died before exporting.
            detached = partitions.detach_before(session, "sessions", add_months(old, 1))
        assert f"sessions_p{old:%Y%m}" in detached

        with unit_of_work(engine) as session:
            archived = archive_partitions(session, before=add_months(old, 1), out_dir=tmp_path)

        rows = {item.name: item.rows for item in archived}
        assert rows[f"sessions_p{old:%Y%m}"] == 1
        assert len(read_archive(tmp_path / f"sessions_p{old:%Y%m}.csv.gz")) == 1
    finally:
        engine.dispose()
