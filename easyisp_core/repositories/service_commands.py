"""The console's side of the service command queue: queue a command, read its progress.

The site service claims and runs the rows (repositories/service_command_queue.py); here
we only insert them and read them back, through the staff member's grants and RLS."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from easyisp_core.errors import NotFound
from easyisp_core.models import Customer, Nas, ServiceCommand
from easyisp_core.models.enums import ServiceCommandKind


class ServiceCommandRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(
        self,
        tenant_id: uuid.UUID,
        kind: ServiceCommandKind,
        customer_id: uuid.UUID | None,
        nas_id: uuid.UUID | None,
        payload: dict[str, Any],
    ) -> ServiceCommand:
        command = ServiceCommand(
            tenant_id=tenant_id,
            kind=kind,
            customer_id=customer_id,
            nas_id=nas_id,
            payload=payload,
            # NULL for a database administrator, the staff member's users.id otherwise.
            requested_by=func.easyisp_current_user_id(),
        )
        self.session.add(command)
        return command

    def get(self, command_id: int) -> ServiceCommand | None:
        return self.session.get(ServiceCommand, command_id, populate_existing=True)

    def for_customer(self, customer_id: uuid.UUID, limit: int = 200) -> Sequence[ServiceCommand]:
        return self.session.scalars(
            select(ServiceCommand)
            .where(ServiceCommand.customer_id == customer_id)
            .order_by(ServiceCommand.created_at.desc(), ServiceCommand.id.desc())
            .limit(limit)
        ).all()

    def tenant_of(self, customer_id: uuid.UUID | None, nas_id: uuid.UUID | None) -> uuid.UUID:
        """The tenant of the command's customer (else router), read through RLS: another
        tenant's customer or router is simply not found."""
        if customer_id is not None:
            customer = self.session.get(Customer, customer_id)
            if customer is None:
                raise NotFound("No such customer.")
            return customer.tenant_id
        router = self.session.get(Nas, nas_id) if nas_id is not None else None
        if router is None:
            raise NotFound("No such router.")
        return router.tenant_id
