"""SQL behind the site service's side of the command queue: claim a due command (SKIP LOCKED),
write each step and the outcome back, and the session reads and sweeps the commands need.

The console's side (queueing a command) lives in repositories/service_commands.py. The caller
owns the transaction; rows come back as frozen dataclasses.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, cast, exists, func, insert, literal, or_, select, update
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Session

from easyisp_core.models import Customer, Nas, ServiceCommand
from easyisp_core.models import Session as RadiusSession
from easyisp_core.models.enums import CustomerStatus, ServiceCommandKind, ServiceCommandStatus

_UNFINISHED = (ServiceCommandStatus.QUEUED, ServiceCommandStatus.RUNNING)


@dataclass(frozen=True, slots=True)
class ClaimedCommand:
    id: int
    tenant_id: uuid.UUID
    kind: ServiceCommandKind
    customer_id: uuid.UUID | None
    nas_id: uuid.UUID | None
    payload: dict[str, Any]
    attempts: int  # including the one just claimed


@dataclass(frozen=True, slots=True)
class OpenSessionRow:
    """An open session with what a CoA/Disconnect to its router needs."""

    id: int
    started_at: datetime
    username: str
    session_id: str
    framed_ip: str | None
    nas_id: uuid.UUID | None
    router_ip: str | None
    coa_port: int | None
    secret_enc: bytes | None


@dataclass(frozen=True, slots=True)
class CommandRow:
    id: int
    kind: ServiceCommandKind
    status: ServiceCommandStatus
    attempts: int
    result: str | None
    steps: list[dict[str, Any]]
    payload: dict[str, Any]


class ServiceCommandQueue:
    def __init__(self, session: Session) -> None:
        self.session = session

    # -- the queue -------------------------------------------------------------------------

    def claim_next(
        self, kinds: Sequence[ServiceCommandKind], *, now: datetime, lease_expired_before: datetime
    ) -> ClaimedCommand | None:
        """The oldest due command, marked RUNNING with one more attempt.

        Due: QUEUED and past its next_attempt_at, or RUNNING by a worker that died (started
        before `lease_expired_before`). SKIP LOCKED: a row another worker is claiming right
        now is passed over, never waited for and never taken twice."""
        command = ServiceCommand
        due = or_(
            and_(
                command.status == ServiceCommandStatus.QUEUED,
                or_(command.next_attempt_at.is_(None), command.next_attempt_at <= now),
            ),
            and_(
                command.status == ServiceCommandStatus.RUNNING,
                command.started_at < lease_expired_before,
            ),
        )
        chosen = (
            select(command.id)
            .where(command.status.in_(_UNFINISHED), command.kind.in_(list(kinds)), due)
            .order_by(command.created_at, command.id)
            .limit(1)
            .with_for_update(skip_locked=True)
            .scalar_subquery()
        )
        row = self.session.execute(
            update(command)
            .where(command.id == chosen)
            .values(
                status=ServiceCommandStatus.RUNNING,
                attempts=command.attempts + 1,
                started_at=now,
                next_attempt_at=None,
            )
            .returning(
                command.id,
                command.tenant_id,
                command.kind,
                command.customer_id,
                command.nas_id,
                command.payload,
                command.attempts,
            )
        ).first()
        if row is None:
            return None
        return ClaimedCommand(row[0], row[1], row[2], row[3], row[4], dict(row[5] or {}), row[6])

    def add_step(self, command_id: int, step: dict[str, Any]) -> None:
        self.session.execute(
            update(ServiceCommand)
            .where(ServiceCommand.id == command_id)
            .values(steps=ServiceCommand.steps.op("||")(func.jsonb_build_array(_jsonb(step))))
        )

    def retry_later(self, command_id: int, *, at: datetime, result: str) -> None:
        self.session.execute(
            update(ServiceCommand)
            .where(ServiceCommand.id == command_id)
            .values(status=ServiceCommandStatus.QUEUED, next_attempt_at=at, result=result)
        )

    def finish(
        self, command_id: int, status: ServiceCommandStatus, *, result: str, at: datetime
    ) -> None:
        self.session.execute(
            update(ServiceCommand)
            .where(ServiceCommand.id == command_id)
            .values(status=status, result=result, finished_at=at, next_attempt_at=None)
        )

    def enqueue(
        self,
        tenant_id: uuid.UUID,
        kind: ServiceCommandKind,
        *,
        customer_id: uuid.UUID | None,
        payload: dict[str, Any],
        requested_by: uuid.UUID | None = None,
    ) -> int:
        return int(
            self.session.execute(
                insert(ServiceCommand)
                .values(
                    tenant_id=tenant_id,
                    kind=kind,
                    customer_id=customer_id,
                    payload=payload,
                    requested_by=requested_by,
                )
                .returning(ServiceCommand.id)
            ).scalar_one()
        )

    def has_unfinished(self, customer_id: uuid.UUID, kind: ServiceCommandKind) -> bool:
        return bool(
            self.session.scalar(
                select(
                    exists().where(
                        ServiceCommand.customer_id == customer_id,
                        ServiceCommand.kind == kind,
                        ServiceCommand.status.in_(_UNFINISHED),
                    )
                )
            )
        )

    def next_retry_at(self, kinds: Sequence[ServiceCommandKind]) -> datetime | None:
        """When the earliest command waiting to be retried becomes due."""
        value: datetime | None = self.session.scalar(
            select(func.min(ServiceCommand.next_attempt_at)).where(
                ServiceCommand.status == ServiceCommandStatus.QUEUED,
                ServiceCommand.kind.in_(list(kinds)),
            )
        )
        return value

    def get(self, command_id: int) -> CommandRow | None:
        c = ServiceCommand
        row = self.session.execute(
            select(c.id, c.kind, c.status, c.attempts, c.result, c.steps, c.payload).where(
                c.id == command_id
            )
        ).first()
        if row is None:
            return None
        return CommandRow(row[0], row[1], row[2], row[3], row[4], list(row[5]), dict(row[6]))

    # -- sessions --------------------------------------------------------------------------

    def open_sessions(self, customer_id: uuid.UUID) -> list[OpenSessionRow]:
        s = RadiusSession
        rows = self.session.execute(
            select(
                s.id,
                s.started_at,
                s.username,
                s.session_id,
                s.framed_ip,
                s.nas_id,
                # Over WireGuard the router is reached at its tunnel address (it may sit
                # behind carrier NAT); its registered address otherwise.
                func.coalesce(Nas.vpn_ip, Nas.ip_address),
                Nas.coa_port,
                Nas.secret_enc,
            )
            .outerjoin(Nas, Nas.id == s.nas_id)
            .where(s.customer_id == customer_id, s.stopped_at.is_(None))
            .order_by(s.started_at)
        ).all()
        return [
            OpenSessionRow(
                r[0],
                r[1],
                r[2],
                r[3],
                None if r[4] is None else str(r[4]),
                r[5],
                None if r[6] is None else str(r[6]),
                r[7],
                None if r[8] is None else bytes(r[8]),
            )
            for r in rows
        ]

    def session_is_open(self, session_pk: int, started_at: datetime) -> bool:
        stopped = self.session.execute(
            select(RadiusSession.stopped_at).where(
                RadiusSession.id == session_pk, RadiusSession.started_at == started_at
            )
        ).first()
        return stopped is not None and stopped[0] is None

    def has_open_session(self, customer_id: uuid.UUID) -> bool:
        return bool(
            self.session.scalar(
                select(
                    exists().where(
                        RadiusSession.customer_id == customer_id,
                        RadiusSession.stopped_at.is_(None),
                    )
                )
            )
        )

    def close_stale_sessions(self, *, silent_since: datetime, cause: str) -> int:
        """Close open sessions last heard before `silent_since`, stopped at the time they were
        last heard (what was used is all that can be billed)."""
        s = RadiusSession
        last_heard = func.coalesce(s.last_update_at, s.started_at)
        result = self.session.execute(
            update(s)
            .where(s.stopped_at.is_(None), last_heard < silent_since)
            .values(stopped_at=last_heard, terminate_cause=cause)
            .returning(s.id)
        )
        return len(result.all())

    # -- expiry ----------------------------------------------------------------------------

    def online_to_cut(self, now: datetime) -> list[tuple[uuid.UUID, uuid.UUID, str]]:
        """(tenant, customer, reason) for customers with a session they should no longer
        have and no disconnect queued or running yet.

        Driven from the open sessions (thousands), not the customers (a million, many of
        them long expired). Only sessions begun while the customer was still entitled count:
        a tenant may let an expired or suspended customer back into its "expired" pool to
        pay, and that session must not be cut again and again. Suspension is dated by the
        row's updated_at."""
        c, s = Customer, RadiusSession
        expired = and_(c.expires_at <= now, s.started_at < c.expires_at)
        suspended = and_(c.status == CustomerStatus.SUSPENDED, s.started_at < c.updated_at)
        expired_undated = and_(c.status == CustomerStatus.EXPIRED, c.expires_at.is_(None))
        pending = exists().where(
            ServiceCommand.customer_id == c.id,
            ServiceCommand.kind == ServiceCommandKind.DISCONNECT,
            ServiceCommand.status.in_(_UNFINISHED),
        )
        rows = self.session.execute(
            select(c.tenant_id, c.id, c.status, c.expires_at)
            .distinct()
            .select_from(s)
            .join(c, c.id == s.customer_id)
            .where(s.stopped_at.is_(None), or_(expired, suspended, expired_undated), ~pending)
        ).all()
        return [(r[0], r[1], _cut_reason(r[2], r[3], now)) for r in rows]

    def next_expiry_online(self, now: datetime) -> datetime | None:
        """The earliest expiry still ahead among active customers with an open session."""
        c, s = Customer, RadiusSession
        value: datetime | None = self.session.scalar(
            select(func.min(c.expires_at))
            .select_from(s)
            .join(c, c.id == s.customer_id)
            .where(s.stopped_at.is_(None), c.expires_at > now, c.status == CustomerStatus.ACTIVE)
        )
        return value

    def customer_username(self, customer_id: uuid.UUID) -> str | None:
        return self.session.scalar(select(Customer.username).where(Customer.id == customer_id))


def _cut_reason(status: CustomerStatus, expires_at: datetime | None, now: datetime) -> str:
    if status is CustomerStatus.SUSPENDED:
        return "suspended"
    if expires_at is not None and expires_at <= now:
        return f"expired at {expires_at.isoformat(timespec='seconds')}"
    return "expired"


def _jsonb(value: dict[str, Any]) -> Any:
    return cast(literal(value, JSONB), JSONB)
