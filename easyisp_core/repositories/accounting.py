"""SQL behind RADIUS accounting: find, insert, advance and close rows of the partitioned
sessions table. The caller owns the transaction; rows come back as frozen dataclasses."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

import psycopg
from sqlalchemy import bindparam, func, select, text, update
from sqlalchemy.dialects.postgresql import ARRAY, BIGINT, insert
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from easyisp_core.models import Customer
from easyisp_core.models import Session as RadiusSession


@dataclass(frozen=True, slots=True)
class SessionRow:
    id: int
    started_at: datetime
    stopped_at: datetime | None


@dataclass(frozen=True, slots=True)
class Usage:
    """Counters as the NAS last reported them (64-bit octets, gigawords folded in)."""

    input_octets: int
    output_octets: int
    input_packets: int
    output_packets: int
    session_time: int


@dataclass(frozen=True, slots=True)
class NewSession:
    tenant_id: uuid.UUID
    nas_id: uuid.UUID
    session_id: str
    unique_session_id: str
    username: str
    started_at: datetime
    service_type: str | None
    framed_ip: str | None
    calling_station_id: str | None
    called_station_id: str | None
    nas_port_id: str | None
    class_value: str | None


# One advisory lock per (router, Acct-Session-Id), taken in the order given (the caller
# sorts), so two writers never both decide "no such session yet" and insert it twice.
_LOCK_SESSION_KEYS = text(
    "SELECT count(*) FROM (SELECT pg_advisory_xact_lock(k)"
    " FROM unnest(:keys) WITH ORDINALITY AS t(k, n) ORDER BY n) AS locked"
).bindparams(bindparam("keys", type_=ARRAY(BIGINT)))


class AccountingRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def lock_session_keys(self, keys: Iterable[int]) -> None:
        """Hold these session-identity locks until the transaction ends (the caller passes
        them sorted, so two batches never wait for each other in a cycle)."""
        ordered = list(keys)
        if ordered:
            self.session.execute(_LOCK_SESSION_KEYS, {"keys": ordered})

    def latest_session(self, nas_id: uuid.UUID, session_id: str) -> SessionRow | None:
        """The newest row for this router's Acct-Session-Id, locked for the update to come."""
        row = self.session.execute(
            select(RadiusSession.id, RadiusSession.started_at, RadiusSession.stopped_at)
            .where(RadiusSession.nas_id == nas_id, RadiusSession.session_id == session_id)
            .order_by(RadiusSession.started_at.desc())
            .limit(1)
            .with_for_update()
        ).first()
        return None if row is None else SessionRow(row[0], row[1], row[2])

    def customer_id(self, tenant_id: uuid.UUID, username: str) -> uuid.UUID | None:
        return self.session.scalar(
            select(Customer.id).where(
                Customer.tenant_id == tenant_id, Customer.username == username
            )
        )

    def insert(
        self, new: NewSession, customer_id: uuid.UUID | None, heard_at: datetime
    ) -> SessionRow | None:
        """The new row; None when the same (router, session id, start) is already stored
        (the unique key ux_sessions_identity: a second writer got there first)."""
        row = (
            self.session.execute(
                insert(RadiusSession)
                .values(
                    tenant_id=new.tenant_id,
                    nas_id=new.nas_id,
                    customer_id=customer_id,
                    session_id=new.session_id,
                    unique_session_id=new.unique_session_id,
                    username=new.username,
                    started_at=new.started_at,
                    service_type=new.service_type,
                    framed_ip=new.framed_ip,
                    calling_station_id=new.calling_station_id,
                    called_station_id=new.called_station_id,
                    nas_port_id=new.nas_port_id,
                    class_value=new.class_value,
                    last_update_at=heard_at,
                )
                .on_conflict_do_nothing(index_elements=["nas_id", "session_id", "started_at"])
                .returning(RadiusSession.id, RadiusSession.started_at)
            )
        ).first()
        return None if row is None else SessionRow(row[0], row[1], None)

    def advance(
        self,
        row: SessionRow,
        usage: Usage,
        heard_at: datetime,
        *,
        framed_ip: str | None,
        stopped_at: datetime | None = None,
        terminate_cause: str | None = None,
    ) -> None:
        """Counters only move forward (GREATEST), so a late or repeated packet changes
        nothing; a Stop also closes the row."""
        table = RadiusSession
        values: dict[str, object] = {
            "input_octets": func.greatest(table.input_octets, usage.input_octets),
            "output_octets": func.greatest(table.output_octets, usage.output_octets),
            "input_packets": func.greatest(table.input_packets, usage.input_packets),
            "output_packets": func.greatest(table.output_packets, usage.output_packets),
            "session_time": func.greatest(table.session_time, usage.session_time),
            "last_update_at": func.greatest(table.last_update_at, heard_at),
        }
        if framed_ip is not None:
            values["framed_ip"] = framed_ip
        if stopped_at is not None:
            values["stopped_at"] = stopped_at
            values["terminate_cause"] = terminate_cause
        self.session.execute(
            update(table)
            .where(table.id == row.id, table.started_at == row.started_at)
            .values(values)
            .execution_options(synchronize_session=False)
        )

    def close_open_sessions(self, nas_id: uuid.UUID, stopped_at: datetime, cause: str) -> int:
        """Accounting-On/Off: every session this router still has open ends now."""
        result = self.session.execute(
            update(RadiusSession)
            .where(RadiusSession.nas_id == nas_id, RadiusSession.stopped_at.is_(None))
            .values(stopped_at=stopped_at, terminate_cause=cause)
            .execution_options(synchronize_session=False)
        )
        return int(result.rowcount or 0)  # type: ignore[attr-defined]


# --- set-based batch (one statement per step for a whole group-commit batch) ---------------


@dataclass(frozen=True, slots=True)
class SessionKey:
    nas_id: uuid.UUID
    session_id: str


@dataclass(frozen=True, slots=True)
class SessionValues:
    """A row to insert with its counters already folded in (a Start, or a recovered
    Interim/Stop whose Start never arrived); the customer is looked up by username."""

    new: NewSession
    usage: Usage
    heard_at: datetime
    stopped_at: datetime | None
    terminate_cause: str | None


@dataclass(frozen=True, slots=True)
class Advance:
    """Everything a batch did to one existing row, folded: counters and heard-at are maxima
    (GREATEST is associative), framed_ip the last one given, a Stop closes the row."""

    row: SessionRow
    usage: Usage
    heard_at: datetime
    framed_ip: str | None
    stopped_at: datetime | None
    terminate_cause: str | None


_LATEST_SESSIONS = text(
    "SELECT k.nas_id, k.session_id, s.id, s.started_at, s.stopped_at"
    " FROM unnest(CAST(:nas_ids AS uuid[]), CAST(:session_ids AS text[]))"
    "  AS k(nas_id, session_id)"
    " CROSS JOIN LATERAL (SELECT id, started_at, stopped_at FROM sessions"
    "  WHERE sessions.nas_id = k.nas_id AND sessions.session_id = k.session_id"
    "  ORDER BY started_at DESC LIMIT 1 FOR UPDATE) AS s"
)

# One statement writes the whole batch: the new rows (customer looked up inline) and the
# folded advances of existing rows. The two parts touch different rows, so running them as
# data-modifying CTEs of one statement is safe, and saves a round trip per batch.
_WRITE_SESSIONS = """
WITH inserted AS (
  INSERT INTO sessions (tenant_id, nas_id, customer_id, session_id, unique_session_id,
    username, started_at, service_type, framed_ip, calling_station_id, called_station_id,
    nas_port_id, class_value, last_update_at, input_octets, output_octets, input_packets,
    output_packets, session_time, stopped_at, terminate_cause)
  SELECT n.tenant_id, n.nas_id,
    (SELECT c.id FROM customers AS c
      WHERE c.tenant_id = n.tenant_id AND c.username = n.username LIMIT 1),
    n.session_id, n.unique_id, n.username, n.started_at, n.service, n.framed_ip, n.calling,
    n.called, n.port, n.class_value, n.heard_at, n.in_octets, n.out_octets, n.in_packets,
    n.out_packets, n.session_time, n.stopped_at, n.cause
  FROM unnest(CAST(:n_tenant_ids AS uuid[]), CAST(:n_nas_ids AS uuid[]),
    CAST(:n_session_ids AS text[]), CAST(:n_unique_ids AS text[]),
    CAST(:n_usernames AS text[]), CAST(:n_started AS timestamptz[]),
    CAST(:n_services AS text[]), CAST(:n_framed_ips AS inet[]), CAST(:n_callings AS text[]),
    CAST(:n_calleds AS text[]), CAST(:n_ports AS text[]), CAST(:n_classes AS text[]),
    CAST(:n_heard AS timestamptz[]), CAST(:n_in_octets AS bigint[]),
    CAST(:n_out_octets AS bigint[]), CAST(:n_in_packets AS bigint[]),
    CAST(:n_out_packets AS bigint[]), CAST(:n_times AS integer[]),
    CAST(:n_stopped AS timestamptz[]), CAST(:n_causes AS text[]))
    AS n(tenant_id, nas_id, session_id, unique_id, username, started_at, service, framed_ip,
      calling, called, port, class_value, heard_at, in_octets, out_octets, in_packets,
      out_packets, session_time, stopped_at, cause)
  ON CONFLICT (nas_id, session_id, started_at) DO NOTHING
  RETURNING nas_id, session_id, started_at
), advanced AS (
  UPDATE sessions AS s SET
    input_octets = GREATEST(s.input_octets, v.in_octets),
    output_octets = GREATEST(s.output_octets, v.out_octets),
    input_packets = GREATEST(s.input_packets, v.in_packets),
    output_packets = GREATEST(s.output_packets, v.out_packets),
    session_time = GREATEST(s.session_time, v.session_time),
    last_update_at = GREATEST(s.last_update_at, v.heard_at),
    framed_ip = COALESCE(v.framed_ip, s.framed_ip){stop}
  FROM unnest(CAST(:a_ids AS bigint[]), CAST(:a_started AS timestamptz[]),
    CAST(:a_in_octets AS bigint[]), CAST(:a_out_octets AS bigint[]),
    CAST(:a_in_packets AS bigint[]), CAST(:a_out_packets AS bigint[]),
    CAST(:a_times AS integer[]), CAST(:a_heard AS timestamptz[]),
    CAST(:a_framed_ips AS inet[]), CAST(:a_stopped AS timestamptz[]),
    CAST(:a_causes AS text[]))
    AS v(id, started_at, in_octets, out_octets, in_packets, out_packets, session_time,
      heard_at, framed_ip, stopped_at, cause)
  WHERE s.id = v.id AND s.started_at = v.started_at
  RETURNING s.id
)
SELECT nas_id, session_id, started_at FROM inserted
"""
# stopped_at / terminate_cause are in the SET list only when the batch holds a Stop for an
# existing row, so the live-update trigger on UPDATE OF stopped_at is not even considered
# for a batch of interim updates.
_STOP_COLUMNS = """,
    stopped_at = CASE WHEN v.stopped_at IS NULL THEN s.stopped_at ELSE v.stopped_at END,
    terminate_cause = CASE WHEN v.stopped_at IS NULL THEN s.terminate_cause ELSE v.cause END"""
_WRITE_ONLY_ADVANCES = text(_WRITE_SESSIONS.format(stop=""))
_WRITE_WITH_STOPS = text(_WRITE_SESSIONS.format(stop=_STOP_COLUMNS))


# The same two statements for psycopg's pipeline mode (lock_and_read_latest).
_PIPELINED_LOCK = (
    "SELECT count(*) FROM (SELECT pg_advisory_xact_lock(k)"
    " FROM unnest(%(keys)s::bigint[]) WITH ORDINALITY AS t(k, n) ORDER BY n) AS locked"
)
_PIPELINED_LATEST = _LATEST_SESSIONS.text.replace(
    "CAST(:nas_ids AS uuid[])", "%(nas_ids)s::uuid[]"
).replace("CAST(:session_ids AS text[])", "%(session_ids)s::text[]")


class BatchAccountingRepository(AccountingRepository):
    """The same rules as AccountingRepository, one round trip per step for a whole batch."""

    def lock_and_read_latest(
        self, lock_keys: Sequence[int], keys: Sequence[SessionKey]
    ) -> dict[SessionKey, SessionRow]:
        """lock_session_keys then latest_sessions, sent together with the transaction's BEGIN
        in one round trip (psycopg pipeline mode). Still two statements: the read takes its
        snapshot after the locks are held, so it sees what a writer that held one committed."""
        if not keys:
            self.lock_session_keys(lock_keys)
            return {}
        connection = self.session.connection()
        driver = connection.connection.driver_connection
        if not isinstance(driver, psycopg.Connection):  # another driver: one trip each
            self.lock_session_keys(lock_keys)
            return self.latest_sessions(keys)
        params = {"nas_ids": [k.nas_id for k in keys], "session_ids": [k.session_id for k in keys]}
        try:
            with driver.pipeline(), driver.cursor() as lock, driver.cursor() as read:
                if lock_keys:
                    lock.execute(_PIPELINED_LOCK, {"keys": list(lock_keys)})
                read.execute(_PIPELINED_LATEST, params)
                rows = read.fetchall()
        except psycopg.Error as exc:
            # Behind SQLAlchemy's back: raise what it would (OperationalError for a lost
            # server, which the caller journals), and drop a broken connection from the pool.
            lost = driver.closed or driver.broken
            if lost:
                connection.invalidate(exc)
            raise DBAPIError.instance(
                _PIPELINED_LATEST, params, exc, psycopg.Error, connection_invalidated=lost
            ) from exc
        return {SessionKey(r[0], r[1]): SessionRow(r[2], r[3], r[4]) for r in rows}

    def latest_sessions(self, keys: Iterable[SessionKey]) -> dict[SessionKey, SessionRow]:
        """The newest row per (router, Acct-Session-Id), locked for the updates to come."""
        keys = list(keys)
        if not keys:
            return {}
        rows = self.session.execute(
            _LATEST_SESSIONS,
            {"nas_ids": [k.nas_id for k in keys], "session_ids": [k.session_id for k in keys]},
        )
        return {SessionKey(r[0], r[1]): SessionRow(r[2], r[3], r[4]) for r in rows}

    def write_sessions(
        self, rows: Sequence[SessionValues], advances: Sequence[Advance]
    ) -> set[tuple[uuid.UUID, str, datetime]]:
        """Insert the new rows and advance the existing ones (counters only move forward,
        a Stop closes its row) in one statement. Returns the identities (router, session id,
        start) actually inserted: one missing means the unique key ux_sessions_identity
        found it already stored (a writer that did not take the identity lock)."""
        if not rows and not advances:
            return set()
        stops = any(a.stopped_at is not None for a in advances)
        result = self.session.execute(
            _WRITE_WITH_STOPS if stops else _WRITE_ONLY_ADVANCES,
            {
                "n_tenant_ids": [r.new.tenant_id for r in rows],
                "n_nas_ids": [r.new.nas_id for r in rows],
                "n_session_ids": [r.new.session_id for r in rows],
                "n_unique_ids": [r.new.unique_session_id for r in rows],
                "n_usernames": [r.new.username for r in rows],
                "n_started": [r.new.started_at for r in rows],
                "n_services": [r.new.service_type for r in rows],
                "n_framed_ips": [r.new.framed_ip for r in rows],
                "n_callings": [r.new.calling_station_id for r in rows],
                "n_calleds": [r.new.called_station_id for r in rows],
                "n_ports": [r.new.nas_port_id for r in rows],
                "n_classes": [r.new.class_value for r in rows],
                "n_heard": [r.heard_at for r in rows],
                "n_in_octets": [r.usage.input_octets for r in rows],
                "n_out_octets": [r.usage.output_octets for r in rows],
                "n_in_packets": [r.usage.input_packets for r in rows],
                "n_out_packets": [r.usage.output_packets for r in rows],
                "n_times": [r.usage.session_time for r in rows],
                "n_stopped": [r.stopped_at for r in rows],
                "n_causes": [r.terminate_cause for r in rows],
                "a_ids": [a.row.id for a in advances],
                "a_started": [a.row.started_at for a in advances],
                "a_in_octets": [a.usage.input_octets for a in advances],
                "a_out_octets": [a.usage.output_octets for a in advances],
                "a_in_packets": [a.usage.input_packets for a in advances],
                "a_out_packets": [a.usage.output_packets for a in advances],
                "a_times": [a.usage.session_time for a in advances],
                "a_heard": [a.heard_at for a in advances],
                "a_framed_ips": [a.framed_ip for a in advances],
                "a_stopped": [a.stopped_at for a in advances],
                "a_causes": [a.terminate_cause for a in advances],
            },
        )
        return {(r[0], r[1], r[2]) for r in result}
