"""Payments and sessions list indexes: the console pages both by keyset, sorts on the server
and filters as the operator types (the customers list got the same in 0004).

- Keyset order: (tenant_id, sort column, id) for every sort the lists offer, so the first, the
  next and the last page are index walks; the old (tenant_id, created_at) and
  (tenant_id, started_at) indexes become their (…, id) supersets.
- "Online now" (the Sessions page's default): the same two orders over open sessions only
  (partial indexes, small: a session leaves them when it stops).
- Filter as you type: trigram GIN indexes on the text columns each list searches, so a rare
  term is found through the index instead of a walk over every row (payments: 6.6 s at
  1.67 million rows). The host of framed_ip is searched through an expression index.

sessions is partitioned: an index created on the parent is created on every partition, the
default one included, and on each partition created later (`easyisp db partitions ensure`).

Row-level security hides the trigram indexes from staff logins: ILIKE is not a leakproof
operator, so under RLS PostgreSQL tests it only after the policies, row by row (1.7 s for one
receipt among 2 million payments). `easyisp_payments_matching` / `easyisp_sessions_matching`
find the matching ids through the indexes with the owner's rights, limited to what the
policies let the caller read (the same tenant, permission and operator/service rules); the
list query itself still runs under RLS and tests every row it returns.

Revision ID: 20261125_0016
Revises: 20261125_0015
Create Date: 2026-11-25 17:45:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "20261125_0016"
down_revision: str | None = "20261125_0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OPEN = sa.text("stopped_at IS NULL")
DEFINER = "SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp"
STAFF = "easyisp_staff"
SERVICE = "easyisp_service"
PAYMENTS_MATCHING = "easyisp_payments_matching(text)"
SESSIONS_MATCHING = "easyisp_sessions_matching(text)"

# What the policies of payments / sessions / customers let the caller read, per table; each
# check a scalar subquery, so it runs once per call, not once per row.
_MAY_READ = """((SELECT easyisp_is_operator()) OR (SELECT easyisp_is_service())
   OR ((SELECT easyisp_has_permission('{permission}'))
       AND (t.tenant_id = (SELECT easyisp_current_tenant())
            OR (SELECT easyisp_has_permission('tenants.manage')))))"""

FUNCTIONS = f"""
-- Ids of the payments the caller may read whose receipt or phone contains the ILIKE
-- `pattern`, or whose customer (one the caller may read) has it in name, username, account
-- number or phone (customers.search, lower case).
CREATE FUNCTION easyisp_payments_matching(pattern text) RETURNS SETOF uuid
LANGUAGE sql STABLE {DEFINER} ROWS 1000 AS $$
  SELECT t.id FROM (
      SELECT id, tenant_id FROM payments WHERE transaction_id ILIKE pattern
      UNION ALL
      SELECT id, tenant_id FROM payments WHERE phone ILIKE pattern
      UNION ALL
      SELECT p.id, p.tenant_id FROM customers c JOIN payments p ON p.customer_id = c.id
       WHERE c.search LIKE lower(pattern)
         AND ((SELECT easyisp_is_operator()) OR (SELECT easyisp_is_service())
              OR (SELECT easyisp_has_permission('customers.read')))
  ) t
  WHERE {_MAY_READ.format(permission="payments.read")}
$$;

-- (id, started_at) of the sessions the caller may read whose username, address or MAC
-- contains the ILIKE `pattern` (started_at too: each probe then reads one partition).
CREATE FUNCTION easyisp_sessions_matching(pattern text)
RETURNS TABLE (id bigint, started_at timestamptz)
LANGUAGE sql STABLE {DEFINER} ROWS 1000 AS $$
  SELECT t.id, t.started_at FROM sessions t
   WHERE (t.username ILIKE pattern OR host(t.framed_ip) ILIKE pattern
          OR t.calling_station_id ILIKE pattern)
     AND {_MAY_READ.format(permission="sessions.read")}
$$;

REVOKE EXECUTE ON FUNCTION {PAYMENTS_MATCHING}, {SESSIONS_MATCHING} FROM PUBLIC;
GRANT EXECUTE ON FUNCTION {PAYMENTS_MATCHING}, {SESSIONS_MATCHING} TO {STAFF}, {SERVICE};
"""


def _trigram(name: str, table: str, column: str) -> None:
    op.create_index(
        name, table, [column], postgresql_using="gin", postgresql_ops={column: "gin_trgm_ops"}
    )


def upgrade() -> None:
    op.drop_index("ix_payments_tenant_id_created_at", table_name="payments")
    op.create_index(
        "ix_payments_tenant_id_created_at_id", "payments", ["tenant_id", "created_at", "id"]
    )
    op.create_index("ix_payments_tenant_id_amount_id", "payments", ["tenant_id", "amount", "id"])
    _trigram("ix_payments_transaction_id_trgm", "payments", "transaction_id")
    _trigram("ix_payments_phone_trgm", "payments", "phone")

    op.drop_index("ix_sessions_tenant_id_started_at", table_name="sessions")
    op.create_index(
        "ix_sessions_tenant_id_started_at_id", "sessions", ["tenant_id", "started_at", "id"]
    )
    op.create_index(
        "ix_sessions_tenant_id_username_id", "sessions", ["tenant_id", "username", "id"]
    )
    op.create_index(
        "ix_sessions_open_tenant_id_started_at_id",
        "sessions",
        ["tenant_id", "started_at", "id"],
        postgresql_where=OPEN,
    )
    op.create_index(
        "ix_sessions_open_tenant_id_username_id",
        "sessions",
        ["tenant_id", "username", "id"],
        postgresql_where=OPEN,
    )
    _trigram("ix_sessions_username_trgm", "sessions", "username")
    _trigram("ix_sessions_calling_station_id_trgm", "sessions", "calling_station_id")
    op.execute(
        "CREATE INDEX ix_sessions_framed_ip_host_trgm ON sessions "
        "USING gin (host(framed_ip) gin_trgm_ops)"
    )
    op.execute(FUNCTIONS)


def downgrade() -> None:
    op.execute(f"DROP FUNCTION {SESSIONS_MATCHING}")
    op.execute(f"DROP FUNCTION {PAYMENTS_MATCHING}")
    for name in (
        "ix_sessions_framed_ip_host_trgm",
        "ix_sessions_calling_station_id_trgm",
        "ix_sessions_username_trgm",
        "ix_sessions_open_tenant_id_username_id",
        "ix_sessions_open_tenant_id_started_at_id",
        "ix_sessions_tenant_id_username_id",
        "ix_sessions_tenant_id_started_at_id",
    ):
        op.drop_index(name, table_name="sessions")
    op.create_index("ix_sessions_tenant_id_started_at", "sessions", ["tenant_id", "started_at"])
    for name in (
        "ix_payments_phone_trgm",
        "ix_payments_transaction_id_trgm",
        "ix_payments_tenant_id_amount_id",
        "ix_payments_tenant_id_created_at_id",
    ):
        op.drop_index(name, table_name="payments")
    op.create_index("ix_payments_tenant_id_created_at", "payments", ["tenant_id", "created_at"])
