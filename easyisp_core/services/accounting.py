"""Accounting records into the sessions table: Start opens a session, Interim-Update and
Stop advance and close it, Accounting-On/Off close every open session of the router.

Storing is idempotent: a retransmission, a duplicate or a late packet changes nothing, so a
batch may be stored twice (journal replay after a crash) without doubling anything. The
caller owns the transaction and stores a whole batch in one (group commit).
"""

from __future__ import annotations

import enum
import hashlib
import uuid
from collections.abc import Iterable
from dataclasses import asdict, dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from easyisp_core.repositories.accounting import (
    AccountingRepository,
    Advance,
    BatchAccountingRepository,
    NewSession,
    SessionKey,
    SessionRow,
    SessionValues,
    Usage,
)

# A closed session with the same Acct-Session-Id that started this close to the packet's
# start is the same session (a late or repeated packet); further apart it is a new session
# reusing the id (RouterOS restarts its counter after a reboot).
SAME_SESSION_TOLERANCE = timedelta(hours=1)
NAS_RESET_CAUSE = "NAS-Reboot"


class StatusType(enum.StrEnum):
    START = "Start"
    STOP = "Stop"
    INTERIM = "Interim-Update"
    ACCOUNTING_ON = "Accounting-On"
    ACCOUNTING_OFF = "Accounting-Off"


class Outcome(enum.StrEnum):
    STARTED = "started"
    UPDATED = "updated"
    STOPPED = "stopped"
    RECOVERED = "recovered"  # an Interim/Stop whose Start never arrived
    DUPLICATE = "duplicate"
    NAS_RESET = "nas_reset"


@dataclass(frozen=True, slots=True)
class AccountingRecord:
    """One Accounting-Request as plain data (also one line of the journal).

    `received_at` is when the server got it; the event happened Acct-Delay-Time earlier."""

    tenant_id: uuid.UUID
    nas_id: uuid.UUID
    status: StatusType
    received_at: datetime
    session_id: str = ""
    username: str = ""
    delay: int = 0
    session_time: int = 0
    input_octets: int = 0
    output_octets: int = 0
    input_packets: int = 0
    output_packets: int = 0
    framed_ip: str | None = None
    calling_station_id: str | None = None
    called_station_id: str | None = None
    nas_port_id: str | None = None
    service_type: str | None = None
    terminate_cause: str | None = None
    class_value: str | None = None

    @property
    def event_at(self) -> datetime:
        return self.received_at - timedelta(seconds=self.delay)

    @property
    def started_at(self) -> datetime:
        return self.event_at - timedelta(seconds=self.session_time)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["tenant_id"] = str(self.tenant_id)
        data["nas_id"] = str(self.nas_id)
        data["status"] = self.status.value
        data["received_at"] = self.received_at.isoformat()
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> AccountingRecord:
        values = dict(data)
        values["tenant_id"] = uuid.UUID(values["tenant_id"])
        values["nas_id"] = uuid.UUID(values["nas_id"])
        values["status"] = StatusType(values["status"])
        values["received_at"] = datetime.fromisoformat(values["received_at"])
        return cls(**values)


def store_records(session: Session, records: Iterable[AccountingRecord]) -> list[Outcome]:
    """Apply records in order inside the caller's transaction; one outcome per record.

    Another process may store the same records at the same time (two accounting servers
    behind one router address, a replay racing a live write): the identity lock per session
    makes the second writer find the first one's row instead of inserting its own.

    The batch is decided in memory from one read of the rows it touches and written by one
    statement (group commit needs few round trips, not four per record). An
    Accounting-On/Off closes rows the batch did not read, so it splits the batch into
    segments stored one after another."""
    records = list(records)
    repository = BatchAccountingRepository(session)
    lock_keys = sorted({session_lock_key(r.nas_id, r.session_id) for r in records if r.session_id})
    if not any(r.status in (StatusType.ACCOUNTING_ON, StatusType.ACCOUNTING_OFF) for r in records):
        # The usual batch: one segment, its locks and its read in one round trip.
        found = repository.lock_and_read_latest(lock_keys, _keys(records))
        return _store_segment(repository, records, found)
    repository.lock_session_keys(lock_keys)
    outcomes: list[Outcome] = []
    segment: list[AccountingRecord] = []
    for record in records:
        if record.status in (StatusType.ACCOUNTING_ON, StatusType.ACCOUNTING_OFF):
            outcomes.extend(_store_segment(repository, segment))
            segment = []
            outcomes.append(_apply(repository, record))
        else:
            segment.append(record)
    outcomes.extend(_store_segment(repository, segment))
    return outcomes


@dataclass(slots=True)
class _Planned:
    """One row as the batch leaves it: read from the database (row set) or to be inserted."""

    row: SessionRow | None
    started_at: datetime
    stopped_at: datetime | None
    new: NewSession | None = None
    queued: bool = False  # an existing row already in the batch's list of advances
    usage: Usage | None = None
    heard_at: datetime | None = None
    framed_ip: str | None = None
    stop_at: datetime | None = None
    cause: str | None = None


def _keys(records: list[AccountingRecord]) -> list[SessionKey]:
    return list(dict.fromkeys(SessionKey(r.nas_id, r.session_id) for r in records))


def _store_segment(
    repository: BatchAccountingRepository,
    records: list[AccountingRecord],
    found: dict[SessionKey, SessionRow] | None = None,
) -> list[Outcome]:
    if found is None:
        found = repository.latest_sessions(_keys(records))
    latest: dict[SessionKey, _Planned] = {
        key: _Planned(row, row.started_at, row.stopped_at) for key, row in found.items()
    }
    planned: list[_Planned] = []
    outcomes: list[Outcome] = []
    for record in records:
        key = SessionKey(record.nas_id, record.session_id)
        started_at = record.started_at
        current = latest.get(key)
        if current is not None and _same_planned(current, started_at):
            if current.stopped_at is not None or record.status is StatusType.START:
                outcomes.append(Outcome.DUPLICATE)
                continue
            _fold(current, record)
            outcomes.append(
                Outcome.STOPPED if record.status is StatusType.STOP else Outcome.UPDATED
            )
            if current.row is not None and not current.queued:
                current.queued = True
                planned.append(current)
            continue
        # No row, or a closed one an hour or more away: a new session (reusing the id).
        fresh = _Planned(None, started_at, None, _new_session(record, started_at))
        fresh.heard_at = record.event_at
        latest[key] = fresh
        planned.append(fresh)
        if record.status is StatusType.START:
            outcomes.append(Outcome.STARTED)
        else:
            _fold(fresh, record)
            outcomes.append(Outcome.RECOVERED)
    inserts = [p for p in planned if p.new is not None]
    inserted = repository.write_sessions(
        [_values(p) for p in inserts],
        [_folded_advance(p) for p in planned if p.row is not None],
    )
    missed = {
        SessionKey(p.new.nas_id, p.new.session_id)
        for p in inserts
        if p.new is not None and (p.new.nas_id, p.new.session_id, p.new.started_at) not in inserted
    }
    if missed:
        # Rare: a row the identity lock did not cover (a writer without it). Apply that
        # session's records again one by one; storing is idempotent, so what the batch
        # already wrote for it changes nothing, and the per-record path decides the rest.
        for n, record in enumerate(records):
            if SessionKey(record.nas_id, record.session_id) in missed:
                outcomes[n] = _apply(repository, record)
    return outcomes


def _same_planned(current: _Planned, started_at: datetime) -> bool:
    return (
        current.stopped_at is None or abs(current.started_at - started_at) <= SAME_SESSION_TOLERANCE
    )


def _fold(planned: _Planned, record: AccountingRecord) -> None:
    """Merge one Interim/Stop into what the batch does to this row (maxima, last framed IP,
    the Stop closes it)."""
    usage = _usage(record)
    old = planned.usage
    if old is not None:
        usage = Usage(
            max(old.input_octets, usage.input_octets),
            max(old.output_octets, usage.output_octets),
            max(old.input_packets, usage.input_packets),
            max(old.output_packets, usage.output_packets),
            max(old.session_time, usage.session_time),
        )
    planned.usage = usage
    heard = record.event_at
    planned.heard_at = heard if planned.heard_at is None else max(planned.heard_at, heard)
    if record.framed_ip is not None:
        planned.framed_ip = record.framed_ip
    if record.status is StatusType.STOP:
        planned.stopped_at = planned.stop_at = record.event_at
        planned.cause = record.terminate_cause


def _usage(record: AccountingRecord) -> Usage:
    return Usage(
        record.input_octets,
        record.output_octets,
        record.input_packets,
        record.output_packets,
        record.session_time,
    )


def _values(planned: _Planned) -> SessionValues:
    new = planned.new
    assert new is not None
    assert planned.heard_at is not None
    if planned.framed_ip is not None:
        new = replace(new, framed_ip=planned.framed_ip)
    return SessionValues(
        new=new,
        usage=planned.usage or Usage(0, 0, 0, 0, 0),
        heard_at=planned.heard_at,
        stopped_at=planned.stop_at,
        terminate_cause=planned.cause,
    )


def _folded_advance(planned: _Planned) -> Advance:
    assert planned.row is not None
    assert planned.usage is not None
    assert planned.heard_at is not None
    return Advance(
        planned.row,
        planned.usage,
        planned.heard_at,
        planned.framed_ip,
        planned.stop_at,
        planned.cause,
    )


def session_lock_key(nas_id: uuid.UUID, session_id: str) -> int:
    """A stable signed 64-bit key for the advisory lock (same in every process)."""
    digest = hashlib.blake2b(f"{nas_id}:{session_id}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def _apply(repository: AccountingRepository, record: AccountingRecord) -> Outcome:
    if record.status in (StatusType.ACCOUNTING_ON, StatusType.ACCOUNTING_OFF):
        repository.close_open_sessions(record.nas_id, record.event_at, NAS_RESET_CAUSE)
        return Outcome.NAS_RESET
    started_at = record.started_at
    latest = repository.latest_session(record.nas_id, record.session_id)
    if latest is not None and _same_session(latest, started_at):
        if latest.stopped_at is not None or record.status is StatusType.START:
            return Outcome.DUPLICATE
        _advance(repository, latest, record)
        return Outcome.STOPPED if record.status is StatusType.STOP else Outcome.UPDATED
    customer_id = repository.customer_id(record.tenant_id, record.username)
    row = repository.insert(_new_session(record, started_at), customer_id, record.event_at)
    if row is None:
        # The unique key caught a row the lock did not cover (a writer without it).
        return _apply(repository, record) if latest is None else Outcome.DUPLICATE
    if record.status is StatusType.START:
        return Outcome.STARTED
    _advance(repository, row, record)
    return Outcome.RECOVERED


def _same_session(row: SessionRow, started_at: datetime) -> bool:
    return row.stopped_at is None or abs(row.started_at - started_at) <= SAME_SESSION_TOLERANCE


def _advance(repository: AccountingRepository, row: SessionRow, record: AccountingRecord) -> None:
    stop = record.status is StatusType.STOP
    repository.advance(
        row,
        Usage(
            record.input_octets,
            record.output_octets,
            record.input_packets,
            record.output_packets,
            record.session_time,
        ),
        record.event_at,
        framed_ip=record.framed_ip,
        stopped_at=record.event_at if stop else None,
        terminate_cause=record.terminate_cause if stop else None,
    )


def _new_session(record: AccountingRecord, started_at: datetime) -> NewSession:
    key = f"{record.nas_id}:{record.session_id}:{int(started_at.timestamp())}"
    return NewSession(
        tenant_id=record.tenant_id,
        nas_id=record.nas_id,
        session_id=record.session_id,
        unique_session_id=hashlib.sha256(key.encode()).hexdigest()[:32],
        username=record.username,
        started_at=started_at,
        service_type=record.service_type,
        framed_ip=record.framed_ip,
        calling_station_id=record.calling_station_id,
        called_station_id=record.called_station_id,
        nas_port_id=record.nas_port_id,
        class_value=record.class_value,
    )
