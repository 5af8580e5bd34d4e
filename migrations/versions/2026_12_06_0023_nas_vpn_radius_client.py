"""RADIUS clients know a router's WireGuard address too: a change of nas.vpn_ip notifies.

A router onboarded over WireGuard sends its RADIUS packets from its tunnel address (nas.vpn_ip),
so the RADIUS client table (radius/clients.py) holds each router by its registered address and
by that one. The table is refreshed by the `easyisp_subscribers` NOTIFY that 0017 sends when a
column it holds changes; vpn_ip joins those columns.

Revision ID: 20261206_0023
Revises: 20261125_0022
Create Date: 2026-12-06 03:30:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "20261206_0023"
down_revision: str | None = "20261125_0022"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# 0017's columns, as they were.
BEFORE = ("ip_address", "secret_enc", "tenant_id", "name", "require_message_authenticator")
AFTER = (*BEFORE, "vpn_ip")


def _trigger(columns: Sequence[str]) -> str:
    changed = " OR ".join(f"OLD.{c} IS DISTINCT FROM NEW.{c}" for c in columns)
    return (
        f"CREATE TRIGGER nas_notify_update AFTER UPDATE OF {', '.join(columns)} "
        f"ON nas FOR EACH ROW WHEN ({changed}) EXECUTE FUNCTION easyisp_notify_nas_client()"
    )


def upgrade() -> None:
    op.execute("DROP TRIGGER nas_notify_update ON nas")
    op.execute(_trigger(AFTER))


def downgrade() -> None:
    op.execute("DROP TRIGGER nas_notify_update ON nas")
    op.execute(_trigger(BEFORE))
