"""Who is logged in: shown in the console's status bar, and what its menus may offer.

The console hides what the user may not do from these permissions, but the database enforces
them regardless (docs/security.md)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy.orm import Session

from easyisp_core.repositories.identity import IdentityRepository
from easyisp_core.rules.permissions import PERMISSIONS


@dataclass(frozen=True)
class SessionIdentity:
    login: str
    full_name: str | None
    role: str
    tenant_id: uuid.UUID | None
    tenant_name: str | None
    permissions: frozenset[str]
    # The tenant's name as services take it ("kilimanet"); tenant_name is its display name.
    tenant_slug: str | None = None

    def may(self, permission: str) -> bool:
        return permission in self.permissions

    @property
    def label(self) -> str:
        where = f" · {self.tenant_name}" if self.tenant_name else ""
        return f"{self.login} ({self.role.replace('_', ' ').lower()}){where}"


def current_identity(session: Session) -> SessionIdentity:
    row = IdentityRepository(session).current()
    if row.role is not None:
        return SessionIdentity(
            row.login, row.full_name, row.role, row.tenant_id, row.tenant_name,
            frozenset(row.permissions), row.tenant_slug,
        )  # fmt: skip
    if row.is_operator:
        # The database administrator (an EASYISP_DATABASE_URL of its own): all tenants.
        return SessionIdentity(
            row.login, None, "DATABASE_ADMIN", None, None, frozenset(PERMISSIONS)
        )
    return SessionIdentity(row.login, None, "NO_ACCESS", None, None, frozenset())
