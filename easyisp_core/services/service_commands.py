"""Asking the site service to act on a router (disconnect now, ...) and following the outcome.

The console cannot reach routers; it queues a row, a trigger wakes the service, and the
service writes QUEUED → RUNNING → DONE/FAILED with its result back into the same row."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from easyisp_core.errors import NotFound, ValidationFailed
from easyisp_core.models import ServiceCommand
from easyisp_core.models.enums import ServiceCommandKind
from easyisp_core.repositories.integrity import translated_db_errors
from easyisp_core.repositories.service_commands import ServiceCommandRepository

FINISHED = frozenset({"DONE", "FAILED"})


@dataclass(frozen=True)
class CommandStep:
    """One thing the site service did for a command (service_commands.steps), shown in the
    customer's history: sent, NAK, retry, confirmed, router API fallback..."""

    at: str  # ISO time as the service wrote it
    attempt: int
    step: str
    detail: str

    @classmethod
    def of(cls, raw: dict[str, Any]) -> CommandStep:
        return cls(
            str(raw.get("at", "")),
            int(raw.get("attempt", 0)),
            str(raw.get("step", "")),
            str(raw.get("detail", "")),
        )


@dataclass(frozen=True)
class ServiceCommandInfo:
    id: int
    tenant_id: uuid.UUID
    kind: str
    status: str
    customer_id: uuid.UUID | None
    nas_id: uuid.UUID | None
    payload: dict[str, Any]
    attempts: int
    result: str | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    steps: tuple[CommandStep, ...] = ()

    @property
    def finished(self) -> bool:
        return self.status in FINISHED

    @classmethod
    def of(cls, c: ServiceCommand) -> ServiceCommandInfo:
        return cls(
            c.id,
            c.tenant_id,
            str(c.kind),
            str(c.status),
            c.customer_id,
            c.nas_id,
            dict(c.payload or {}),
            c.attempts,
            c.result,
            c.created_at,
            c.started_at,
            c.finished_at,
            tuple(CommandStep.of(step) for step in c.steps or ()),
        )


def queue_command(
    session: Session,
    *,
    kind: ServiceCommandKind | str,
    customer_id: uuid.UUID | None = None,
    nas_id: uuid.UUID | None = None,
    payload: dict[str, Any] | None = None,
) -> ServiceCommandInfo:
    """Queue work for the site service; the database refuses it without sessions.disconnect."""
    try:
        kind = ServiceCommandKind(kind)
    except ValueError:
        raise ValidationFailed({"kind": f"unknown command {kind!r}"}) from None
    if customer_id is None and nas_id is None:
        raise ValidationFailed({"customer": "a command names a customer or a router"})
    repo = ServiceCommandRepository(session)
    tenant_id = repo.tenant_of(customer_id, nas_id)
    with translated_db_errors(session):
        command = repo.add(tenant_id, kind, customer_id, nas_id, payload or {})
    session.refresh(command)
    return ServiceCommandInfo.of(command)


def get_command(session: Session, command_id: int) -> ServiceCommandInfo:
    command = ServiceCommandRepository(session).get(command_id)
    if command is None:
        raise NotFound("No such command.")
    return ServiceCommandInfo.of(command)


def commands_for_customer(
    session: Session, customer_id: uuid.UUID, limit: int = 200
) -> list[ServiceCommandInfo]:
    rows: Sequence[ServiceCommand] = ServiceCommandRepository(session).for_customer(
        customer_id, limit
    )
    return [ServiceCommandInfo.of(c) for c in rows]
