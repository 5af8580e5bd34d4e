"""Live router status: a router's status or health verdict changing NOTIFYs `easyisp_live`.

Same channel and payload shape as 0009 (table, op, id, tenant_id, customer_id — null here),
so the console's one listener refreshes the Routers page when a router goes ONLINE/OFFLINE,
its health error appears or clears, or it reports a new identity, version or board. The
figures that move on every poll (CPU, memory, uptime, last seen) do not notify: that would
be one notification per router every poll for every console; the open Routers page re-reads
those on a timer instead.

Revision ID: 20261125_0012
Revises: 20261125_0011
Create Date: 2026-11-25 15:30:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "20261125_0012"
down_revision: str | None = "20261125_0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The columns whose change the console shows at once.
WATCHED = ("status", "health_error", "router_identity", "routeros_version", "board_name")

# nas has no customer_id: 0009's function reads NEW.customer_id, so routers get their own.
FUNCTION = """
CREATE FUNCTION easyisp_notify_live_nas() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('easyisp_live', json_build_object(
    'table', 'nas',
    'op', TG_OP,
    'id', NEW.id::text,
    'tenant_id', NEW.tenant_id::text,
    'customer_id', NULL)::text);
  RETURN NULL;
END $$;
"""


def upgrade() -> None:
    op.execute(FUNCTION)
    changed = " OR ".join(f"OLD.{c} IS DISTINCT FROM NEW.{c}" for c in WATCHED)
    op.execute(
        f"CREATE TRIGGER nas_live_health AFTER UPDATE OF {', '.join(WATCHED)} ON nas "
        f"FOR EACH ROW WHEN ({changed}) EXECUTE FUNCTION easyisp_notify_live_nas()"
    )


def downgrade() -> None:
    op.execute("DROP TRIGGER nas_live_health ON nas")
    op.execute("DROP FUNCTION easyisp_notify_live_nas()")
