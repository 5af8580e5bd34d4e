"""NOTIFY for every input of the RADIUS auth decision: tenant settings, and only the
router columns RADIUS reads.

Migration 0007 notifies `easyisp_subscribers` on customers, packages, nas and vouchers;
the tenants table had no trigger, so a tenant's RADIUS settings (tenants.config: the
expired pool and address list, whether expired subscribers are let in, the time zone of
Reply-Messages) reached the site service's subscriber cache only through a 5-second
re-read. Now a change to a tenant's config (or a new or deleted tenant) sends
{"table": "tenants", "tenant", "id"} on the same channel and the cache re-reads that
tenant's policy at once. Row-level: tenants are few and change rarely.

The nas UPDATE trigger of 0007 fired on every column, and the service writes nas often
(health polling every 20 s per router, last_seen_at from RADIUS traffic): each write made
every auth process re-read and decrypt all routers. It now fires only when a column the
RADIUS client table holds changes (address, secret, tenant, name, the Message-Authenticator
requirement), so the listener can refresh at once on a notification.

Revision ID: 20261125_0017
Revises: 20261125_0016
Create Date: 2026-11-25 17:30:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "20261125_0017"
down_revision: str | None = "20261125_0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CHANNEL = "easyisp_subscribers"
# What radius.clients.ClientTable holds (repositories/radius.py RadiusRepository.nas_clients).
NAS_CLIENT_COLUMNS = (
    "ip_address",
    "secret_enc",
    "tenant_id",
    "name",
    "require_message_authenticator",
)

TENANT_FUNCTION = f"""
CREATE FUNCTION easyisp_notify_tenant_settings() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  changed_id uuid := CASE WHEN TG_OP = 'DELETE' THEN OLD.id ELSE NEW.id END;
BEGIN
  PERFORM pg_notify('{CHANNEL}', json_build_object(
    'table', 'tenants', 'tenant', changed_id, 'id', changed_id)::text);
  RETURN NULL;
END $$;
"""

NAS_ROW_FUNCTION = f"""
CREATE FUNCTION easyisp_notify_nas_client() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('{CHANNEL}', json_build_object(
    'table', 'nas', 'tenant', NEW.tenant_id, 'id', NEW.id)::text);
  RETURN NULL;
END $$;
"""


def upgrade() -> None:
    op.execute(TENANT_FUNCTION)
    op.execute(
        "CREATE TRIGGER tenants_notify_insert AFTER INSERT ON tenants "
        "FOR EACH ROW EXECUTE FUNCTION easyisp_notify_tenant_settings()"
    )
    op.execute(
        "CREATE TRIGGER tenants_notify_config AFTER UPDATE OF config ON tenants "
        "FOR EACH ROW WHEN (OLD.config IS DISTINCT FROM NEW.config) "
        "EXECUTE FUNCTION easyisp_notify_tenant_settings()"
    )
    op.execute(
        "CREATE TRIGGER tenants_notify_delete AFTER DELETE ON tenants "
        "FOR EACH ROW EXECUTE FUNCTION easyisp_notify_tenant_settings()"
    )
    op.execute("DROP TRIGGER nas_notify_update ON nas")
    op.execute(NAS_ROW_FUNCTION)
    changed = " OR ".join(f"OLD.{c} IS DISTINCT FROM NEW.{c}" for c in NAS_CLIENT_COLUMNS)
    op.execute(
        f"CREATE TRIGGER nas_notify_update AFTER UPDATE OF {', '.join(NAS_CLIENT_COLUMNS)} "
        f"ON nas FOR EACH ROW WHEN ({changed}) EXECUTE FUNCTION easyisp_notify_nas_client()"
    )


def downgrade() -> None:
    op.execute("DROP TRIGGER nas_notify_update ON nas")
    op.execute("DROP FUNCTION easyisp_notify_nas_client()")
    op.execute(
        "CREATE TRIGGER nas_notify_update AFTER UPDATE ON nas "
        "REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT "
        "EXECUTE FUNCTION easyisp_notify_subscribers()"
    )
    for event in ("insert", "config", "delete"):
        op.execute(f"DROP TRIGGER tenants_notify_{event} ON tenants")
    op.execute("DROP FUNCTION easyisp_notify_tenant_settings()")
