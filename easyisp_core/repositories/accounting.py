"""SQL behind RADIUS accounting: find, insert, advance and close rows of the partitioned
sessions table. The caller owns the transaction; rows come back as frozen dataclasses."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, func, select, text, update
from sqlalchemy.dialects.postgresql import ARRAY, BIGINT, insert
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
