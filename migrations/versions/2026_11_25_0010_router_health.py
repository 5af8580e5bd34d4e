"""Router health: what the site service last learned from each router's API.

The service polls every router with an API user and writes here: the router's identity,
board, uptime, CPU load and memory, when it last tried, the last failure in plain words and
how many polls in a row failed (the OFFLINE rule). `api_host` is where the API is reached
when that is neither the VPN address nor the RADIUS address (a port forward, a simulator).

The health columns are the service's to write: staff may read them (the console shows them)
but not change them, and they are left out of the audit trail like `status` already is;
`api_host` is configuration, so staff with nas.write edit it and it is audited.

Revision ID: 20261125_0010
Revises: 20261125_0009
Create Date: 2026-11-25 14:45:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "20261125_0010"
down_revision: str | None = "20261125_0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

STAFF = "easyisp_staff"
HEALTH_COLUMNS = [
    "router_identity",
    "board_name",
    "uptime",
    "cpu_load",
    "free_memory",
    "total_memory",
    "health_checked_at",
    "health_error",
    "health_failures",
]
# The nas audit trigger's arguments: 0003's plus the health columns.
_AUDIT_BEFORE = [
    *("NAS", "NAS", "target_nas_id", "id"),
    *("updated_at", "status", "last_seen_at", "routeros_version"),
]


# updated_at stamps configuration changes only: the poll writes every 20 s, and readers use
# max(updated_at) to notice edited routers (RADIUS client reload).
TOUCH_NAS = f"""
CREATE FUNCTION easyisp_touch_nas_updated_at() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  unstamped text[] := ARRAY['updated_at', 'status', 'last_seen_at', 'routeros_version',
                            {", ".join(f"'{c}'" for c in HEALTH_COLUMNS)}];
BEGIN
  IF (to_jsonb(NEW) - unstamped) IS DISTINCT FROM (to_jsonb(OLD) - unstamped) THEN
    NEW.updated_at := now();
  ELSE
    NEW.updated_at := OLD.updated_at;
  END IF;
  RETURN NEW;
END $$
"""


def _audit_trigger(ignored: list[str]) -> str:
    args = ", ".join(f"'{a}'" for a in ignored)
    return (
        "CREATE TRIGGER nas_audit AFTER INSERT OR UPDATE OR DELETE ON nas "
        f"FOR EACH ROW EXECUTE FUNCTION easyisp_audit_row({args})"
    )


def upgrade() -> None:
    op.add_column("nas", sa.Column("api_host", sa.String(255), nullable=True))
    op.add_column("nas", sa.Column("router_identity", sa.String(100), nullable=True))
    op.add_column("nas", sa.Column("board_name", sa.String(100), nullable=True))
    op.add_column("nas", sa.Column("uptime", sa.String(40), nullable=True))
    op.add_column("nas", sa.Column("cpu_load", sa.SmallInteger(), nullable=True))
    op.add_column("nas", sa.Column("free_memory", sa.BigInteger(), nullable=True))
    op.add_column("nas", sa.Column("total_memory", sa.BigInteger(), nullable=True))
    op.add_column("nas", sa.Column("health_checked_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("nas", sa.Column("health_error", sa.String(500), nullable=True))
    op.add_column(
        "nas",
        sa.Column("health_failures", sa.Integer(), server_default="0", nullable=False),
    )
    # 0003 granted staff column lists; new columns need their own grants.
    op.execute(f"GRANT SELECT (api_host, {', '.join(HEALTH_COLUMNS)}) ON nas TO {STAFF}")
    op.execute(f"GRANT UPDATE (api_host) ON nas TO {STAFF}")
    op.execute("DROP TRIGGER nas_audit ON nas")
    op.execute(_audit_trigger(_AUDIT_BEFORE + HEALTH_COLUMNS))
    op.execute(TOUCH_NAS)
    op.execute("DROP TRIGGER nas_touch_updated_at ON nas")
    op.execute(
        "CREATE TRIGGER nas_touch_updated_at BEFORE UPDATE ON nas "
        "FOR EACH ROW EXECUTE FUNCTION easyisp_touch_nas_updated_at()"
    )


def downgrade() -> None:
    op.execute("DROP TRIGGER nas_touch_updated_at ON nas")
    op.execute(
        "CREATE TRIGGER nas_touch_updated_at BEFORE UPDATE ON nas "
        "FOR EACH ROW EXECUTE FUNCTION easyisp_touch_updated_at()"
    )
    op.execute("DROP FUNCTION easyisp_touch_nas_updated_at()")
    op.execute("DROP TRIGGER nas_audit ON nas")
    op.execute(_audit_trigger(_AUDIT_BEFORE))
    for column in ["api_host", *HEALTH_COLUMNS]:
        op.drop_column("nas", column)
