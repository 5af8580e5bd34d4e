"""Worker side of the workspace: read everything one customer's workspace shows, in one
read-only unit of work, skipping the tabs this staff member may not read."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from easyisp_core.db.engine import session_scope
from easyisp_core.services import customer_workspace as reads
from easyisp_core.services.customer_removal import customer_history
from easyisp_core.services.customer_workspace import CustomerProfile
from easyisp_core.services.identity import current_identity
from easyisp_core.services.mpesa_status import customer_questions
from easyisp_core.services.service_commands import commands_for_customer

DELETE = "customers.delete"

# tab -> (permission needed to read it, reader)
TAB_READERS: dict[str, tuple[str, Any]] = {
    "ledger": ("payments.read", reads.wallet_ledger),
    "payments": ("payments.read", reads.customer_payments),
    "mpesa_checks": ("payments.read", customer_questions),
    "sessions": ("sessions.read", reads.customer_sessions),
    "invoices": ("invoices.read", reads.customer_invoices),
    "commands": ("sessions.read", commands_for_customer),
    "audit": ("audit.read", reads.customer_audit_trail),
}


@dataclass(frozen=True)
class WorkspaceData:
    profile: CustomerProfile
    permissions: frozenset[str]
    tabs: dict[str, list[Any]] = field(default_factory=dict)
    read_at: datetime | None = None
    # What keeps the customer from being deleted (read only with customers.delete).
    history: list[str] | None = None


def load_workspace(
    sessions: sessionmaker[Session],
    customer_id: uuid.UUID,
    permissions: frozenset[str] | None = None,
) -> WorkspaceData:
    with session_scope(sessions) as session:
        if permissions is None:
            permissions = current_identity(session).permissions
        profile = reads.customer_profile(session, customer_id)
        tabs = {
            name: list(reader(session, customer_id))
            for name, (permission, reader) in TAB_READERS.items()
            if permission in permissions
        }
        history = customer_history(session, customer_id) if DELETE in permissions else None
    return WorkspaceData(profile, permissions, tabs, datetime.now(UTC), history)
