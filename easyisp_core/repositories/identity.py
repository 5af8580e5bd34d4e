"""Who the current connection is, as the database sees it."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.orm import Session


@dataclass(frozen=True)
class IdentityRow:
    login: str
    user_id: uuid.UUID | None
    full_name: str | None
    role: str | None
    tenant_id: uuid.UUID | None
    tenant_name: str | None
    permissions: tuple[str, ...]
    is_operator: bool
    # The tenant's name (slug) the services take, beside its display name above.
    tenant_slug: str | None = None


class IdentityRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def current(self) -> IdentityRow:
        row = self.session.execute(
            text(
                "SELECT session_user AS login, u.id, u.full_name, u.role::text AS role, "
                "u.tenant_id, t.display_name, t.name AS tenant_slug, "
                "easyisp_my_permissions() AS permissions, "
                "easyisp_is_operator() AS is_operator "
                "FROM (SELECT 1) AS one "
                "LEFT JOIN users u ON u.username = session_user AND u.status = 'ACTIVE' "
                "LEFT JOIN tenants t ON t.id = u.tenant_id"
            )
        ).one()
        return IdentityRow(
            row.login,
            row.id,
            row.full_name,
            row.role,
            row.tenant_id,
            row.display_name,
            tuple(row.permissions or ()),
            bool(row.is_operator),
            row.tenant_slug,
        )
