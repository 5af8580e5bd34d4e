"""A router whose RADIUS secret is not ours is named: nas.secret_mismatch_since.

When someone types over the secret on a router, its Access-Requests fail the
Message-Authenticator check (and its Accounting-Requests the Request Authenticator) and the
listeners drop them without a reply; subscribers cannot log in and nothing said why. The
listeners now note such drops per router and, for an interval with drops and no valid request,
set secret_mismatch_since (kept while it lasts); a valid request clears it. The console shows
"RADIUS secret mismatch suspected since ..." on the Routers page, at once (0012's live trigger
now watches the column too).

Like the health columns (0010) it is the service's to write and staff may only read it; it is
left out of the audit trail and does not stamp updated_at (which would reload RADIUS clients).

Revision ID: 20261206_0033
Revises: 20261206_0032
Create Date: 2026-12-06 05:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "20261206_0033"
down_revision: str | None = "20261206_0032"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

STAFF = "easyisp_staff"
# The nas audit trigger's ignored columns as 0010 left them (0022's api_tls_fingerprint is
# configuration and stays audited).
_AUDIT_BEFORE = [
    *("NAS", "NAS", "target_nas_id", "id"),
    *("updated_at", "status", "last_seen_at", "routeros_version"),
    *("router_identity", "board_name", "uptime", "cpu_load", "free_memory", "total_memory"),
    *("health_checked_at", "health_error", "health_failures"),
]
_UNSTAMPED_BEFORE = _AUDIT_BEFORE[4:]


def _touch_function(unstamped: list[str]) -> str:
    columns = ", ".join(f"'{c}'" for c in unstamped)
    return f"""
CREATE OR REPLACE FUNCTION easyisp_touch_nas_updated_at() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  unstamped text[] := ARRAY[{columns}];
BEGIN
  IF (to_jsonb(NEW) - unstamped) IS DISTINCT FROM (to_jsonb(OLD) - unstamped) THEN
    NEW.updated_at := now();
  ELSE
    NEW.updated_at := OLD.updated_at;
  END IF;
  RETURN NEW;
END $$
"""


def _audit_trigger(ignored: list[str]) -> list[str]:
    args = ", ".join(f"'{a}'" for a in ignored)
    return [
        "DROP TRIGGER nas_audit ON nas",
        "CREATE TRIGGER nas_audit AFTER INSERT OR UPDATE OR DELETE ON nas "
        f"FOR EACH ROW EXECUTE FUNCTION easyisp_audit_row({args})",
    ]


# 0012's live trigger: the Routers page shows the flag at once, like a health error.
_WATCHED_BEFORE = ["status", "health_error", "router_identity", "routeros_version", "board_name"]


def _live_trigger(watched: list[str]) -> list[str]:
    changed = " OR ".join(f"OLD.{c} IS DISTINCT FROM NEW.{c}" for c in watched)
    return [
        "DROP TRIGGER nas_live_health ON nas",
        f"CREATE TRIGGER nas_live_health AFTER UPDATE OF {', '.join(watched)} ON nas "
        f"FOR EACH ROW WHEN ({changed}) EXECUTE FUNCTION easyisp_notify_live_nas()",
    ]


def upgrade() -> None:
    op.add_column(
        "nas", sa.Column("secret_mismatch_since", sa.DateTime(timezone=True), nullable=True)
    )
    op.execute(f"GRANT SELECT (secret_mismatch_since) ON nas TO {STAFF}")
    for statement in _audit_trigger([*_AUDIT_BEFORE, "secret_mismatch_since"]):
        op.execute(statement)
    op.execute(_touch_function([*_UNSTAMPED_BEFORE, "secret_mismatch_since"]))
    for statement in _live_trigger([*_WATCHED_BEFORE, "secret_mismatch_since"]):
        op.execute(statement)


def downgrade() -> None:
    for statement in _live_trigger(_WATCHED_BEFORE):
        op.execute(statement)
    op.execute(_touch_function(_UNSTAMPED_BEFORE))
    for statement in _audit_trigger(_AUDIT_BEFORE):
        op.execute(statement)
    op.drop_column("nas", "secret_mismatch_since")
