"""Live update notifications: payments, sessions and service command status changes NOTIFY
the channel `easyisp_live`, so open consoles refresh without polling.

A payload carries only ids (table, row id, tenant id, customer id) as JSON: every console on
the server hears every notification, so the console re-reads through RLS and a notification
from another tenant reveals nothing but that something changed somewhere.

Sessions are notified when they start and when they stop, not on every interim usage update
(that would be one notification per subscriber every few minutes). The trigger on the
partitioned sessions table is cloned onto every partition, present and future.

Revision ID: 20261125_0009
Revises: 20261125_0008
Create Date: 2026-11-25 14:30:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "20261125_0009"
down_revision: str | None = "20261125_0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FUNCTION = """
CREATE FUNCTION easyisp_notify_live_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  -- TG_ARGV[0] is the table's logical name: TG_TABLE_NAME would name a sessions partition.
  PERFORM pg_notify('easyisp_live', json_build_object(
    'table', TG_ARGV[0],
    'op', TG_OP,
    'id', NEW.id::text,
    'tenant_id', NEW.tenant_id::text,
    'customer_id', NEW.customer_id::text)::text);
  RETURN NULL;
END $$;
"""

# (trigger, table, events, condition)
TRIGGERS = (
    ("payments_live_insert", "payments", "INSERT", None),
    (
        "payments_live_status",
        "payments",
        "UPDATE OF status",
        "OLD.status IS DISTINCT FROM NEW.status",
    ),
    ("sessions_live_insert", "sessions", "INSERT", None),
    (
        "sessions_live_stop",
        "sessions",
        "UPDATE OF stopped_at",
        "OLD.stopped_at IS DISTINCT FROM NEW.stopped_at",
    ),
    ("service_commands_live_insert", "service_commands", "INSERT", None),
    (
        "service_commands_live_status",
        "service_commands",
        "UPDATE OF status, result",
        "OLD.status IS DISTINCT FROM NEW.status OR OLD.result IS DISTINCT FROM NEW.result",
    ),
)


def upgrade() -> None:
    op.execute(FUNCTION)
    for name, table, events, condition in TRIGGERS:
        when = f" WHEN ({condition})" if condition else ""
        op.execute(
            f"CREATE TRIGGER {name} AFTER {events} ON {table} FOR EACH ROW{when} "
            f"EXECUTE FUNCTION easyisp_notify_live_update('{table}')"
        )


def downgrade() -> None:
    for name, table, _events, _condition in TRIGGERS:
        op.execute(f"DROP TRIGGER {name} ON {table}")
    op.execute("DROP FUNCTION easyisp_notify_live_update()")
