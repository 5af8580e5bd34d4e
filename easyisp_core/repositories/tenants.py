"""Tenants and their per-tenant counters."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from easyisp_core.errors import NotFound
from easyisp_core.models import Tenant


class TenantRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, tenant: Tenant) -> Tenant:
        self.session.add(tenant)
        return tenant

    def get(self, tenant_id: uuid.UUID) -> Tenant:
        tenant = self.session.get(Tenant, tenant_id)
        if tenant is None:
            raise NotFound("No such tenant.")
        return tenant

    def get_by_name(self, name: str) -> Tenant:
        tenant = self.session.scalar(select(Tenant).where(Tenant.name == name))
        if tenant is None:
            raise NotFound(f"No tenant named {name!r}. `easyisp tenant list` shows them.")
        return tenant

    def list(self) -> Sequence[Tenant]:
        return self.session.scalars(select(Tenant).order_by(Tenant.name)).all()

    def next_number(self, tenant_id: uuid.UUID, counter: str) -> int:
        """Take the next value of a per-tenant counter; the row lock serialises writers."""
        return self.reserve_numbers(tenant_id, counter, 1)

    def reserve_numbers(self, tenant_id: uuid.UUID, counter: str, count: int) -> int:
        """Reserve `count` consecutive numbers and return the first (bulk loads reserve many)."""
        value = self.session.execute(
            text("SELECT easyisp_next_number(:t, :n, :c)"),
            {"t": tenant_id, "n": counter, "c": count},
        ).scalar_one()
        return int(value)
