"""Cashiers find the gateway a Transaction Status question goes through.

Staff without `gateways.read` (cashiers, customer care) cannot see `payment_gateways` under
row-level security, so `ask_status` found no gateway for them and refused with "M-Pesa
payments are not set up" although they may queue the question (payments.create, 0027).
`easyisp_status_query_gateway` returns only the id of the tenant's active gateway for a
purpose (a dedicated one before one for ALL, then the oldest, as the service chooses) to a
caller with `payments.create` in that tenant; no column of the gateway is revealed.

Revision ID: 20261206_0029
Revises: 20261206_0028
Create Date: 2026-12-06 05:10:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "20261206_0029"
down_revision: str | None = "20261206_0028"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DEFINER = "SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp"
SIGNATURE = "easyisp_status_query_gateway(uuid, text)"

FUNCTION = f"""
-- Parameters are prefixed: in a SQL function a column of the same name would win.
CREATE FUNCTION easyisp_status_query_gateway(for_tenant uuid, for_purpose text)
RETURNS uuid
LANGUAGE sql STABLE {DEFINER} AS $$
  SELECT g.id FROM payment_gateways g
   WHERE g.tenant_id = for_tenant
     AND g.is_active
     AND g.purpose::text IN (for_purpose, 'ALL')
     AND ((SELECT easyisp_is_operator()) OR (SELECT easyisp_is_service())
          OR ((SELECT easyisp_has_permission('payments.create'))
              AND for_tenant = (SELECT easyisp_current_tenant())))
   ORDER BY (g.purpose::text = 'ALL'), g.created_at
   LIMIT 1
$$;

REVOKE EXECUTE ON FUNCTION {SIGNATURE} FROM PUBLIC;
GRANT EXECUTE ON FUNCTION {SIGNATURE} TO easyisp_staff, easyisp_service;
"""


def upgrade() -> None:
    op.execute(FUNCTION)


def downgrade() -> None:
    op.execute(f"DROP FUNCTION {SIGNATURE}")
