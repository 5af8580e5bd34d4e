"""The customers filter through the trigram index for staff logins too.

Row-level security hides the trigram index on customers.search from staff logins: LIKE is
not a leakproof operator, so under RLS PostgreSQL tests it only after the policies, row by
row (bench/README.md: 1.4 s per keystroke as the ADMIN of an 800,000-customer tenant, 83 ms
as the superuser). `easyisp_customers_matching` finds the matching ids through the index
with the owner's rights, limited to what the policies let the caller read (as 0016 did for
payments and sessions); the list query itself still runs under RLS and tests every row.

It takes every typed term (all must occur; the caller passes the most selective first, the
one the index looks up), an optional tenant and an optional cap (the list's capped count).

Revision ID: 20261206_0025
Revises: 20261206_0024
Create Date: 2026-12-06 03:30:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "20261206_0025"
down_revision: str | None = "20261206_0024"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DEFINER = "SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp"
STAFF = "easyisp_staff"
SERVICE = "easyisp_service"
CUSTOMERS_MATCHING = "easyisp_customers_matching(text[], uuid, integer)"

FUNCTION = f"""
-- Ids of the customers the caller may read whose search column (lower-case name, username,
-- account number, phone) matches every LIKE pattern in `patterns` (patterns[1] is looked up
-- in the trigram index), in `tenant` when given, at most `cap` of them when given.
-- EXECUTE plans each call with the actual patterns: a rare word goes through the trigram
-- index, a one- or two-letter prefix (no trigram to look up) through a plain scan that stops
-- at `cap`. A plan made once for any pattern would have to pick one of the two for both.
CREATE FUNCTION easyisp_customers_matching(patterns text[], tenant uuid, cap integer)
RETURNS SETOF uuid
LANGUAGE plpgsql STABLE {DEFINER} ROWS 1000 AS $$
BEGIN
  RETURN QUERY EXECUTE
    'SELECT t.id FROM customers t
      WHERE t.search LIKE $1[1]
        AND t.search LIKE ALL ($1)
        AND ($2 IS NULL OR t.tenant_id = $2)
        AND ((SELECT easyisp_is_operator()) OR (SELECT easyisp_is_service())
             OR ((SELECT easyisp_has_permission(''customers.read''))
                 AND (t.tenant_id = (SELECT easyisp_current_tenant())
                      OR (SELECT easyisp_has_permission(''tenants.manage'')))))
      LIMIT $3'
    USING patterns, tenant, cap;
END $$;

REVOKE EXECUTE ON FUNCTION {CUSTOMERS_MATCHING} FROM PUBLIC;
GRANT EXECUTE ON FUNCTION {CUSTOMERS_MATCHING} TO {STAFF}, {SERVICE};
"""


def upgrade() -> None:
    op.execute(FUNCTION)


def downgrade() -> None:
    op.execute(f"DROP FUNCTION {CUSTOMERS_MATCHING}")
