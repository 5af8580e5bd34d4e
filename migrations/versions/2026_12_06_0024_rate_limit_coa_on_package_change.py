"""A package change reaches online subscribers: queue CHANGE_RATE_LIMIT (CoA) for them.

Issue 6 asks the site service to "change the rate limit when the package changes". The
command worker could send the CoA (radius_service/commands/worker.py) but nothing queued it:
a customer moved to another package, or a package whose speeds were edited, kept the old
Mikrotik-Rate-Limit until the next login. Triggers cover every way a change is written (the
console's forms, the workspace, the CLI, SQL) in the same transaction as the change:

- customers.package_id changes → that customer, if online;
- a package's speed, burst or priority changes → every online customer on it.

Only ACTIVE, unexpired customers: a suspended or expired subscriber online in the expired
pool keeps the pool's rate limit (a CoA with the package's would let them browse at full
speed). One command per customer and session router; none when a QUEUED one without an
explicit rate limit is already waiting (the worker reads the package when it runs, so that
one will send the newest speeds). The queueing function is SECURITY DEFINER (staff who may
change a package need not hold sessions.disconnect) and not executable by PUBLIC.

Revision ID: 20261206_0024
Revises: 20261206_0023
Create Date: 2026-12-06 03:40:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "20261206_0024"
down_revision: str | None = "20261206_0023"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DEFINER = "SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp"
# What rules/rate_limit.py builds Mikrotik-Rate-Limit from (services/radius_auth.package_view).
RATE_COLUMNS = (
    "download_speed",
    "upload_speed",
    "burst_download",
    "burst_upload",
    "burst_threshold_download",
    "burst_threshold_upload",
    "burst_time",
    "priority",
)
RATE_CHANGED = " OR ".join(f"OLD.{c} IS DISTINCT FROM NEW.{c}" for c in RATE_COLUMNS)

UPGRADE_SQL = f"""
CREATE FUNCTION easyisp_queue_rate_limit_changes(customer_ids uuid[], reason text)
RETURNS integer LANGUAGE sql {DEFINER} AS $$
  WITH due AS (
    SELECT c.tenant_id, c.id AS customer_id, s.nas_id
    FROM public.customers c
    CROSS JOIN LATERAL (
      SELECT DISTINCT o.nas_id FROM public.sessions o
      WHERE o.customer_id = c.id AND o.stopped_at IS NULL AND o.nas_id IS NOT NULL
    ) s
    WHERE c.id = ANY (customer_ids)
      AND c.package_id IS NOT NULL
      AND c.status = 'ACTIVE'
      AND (c.expires_at IS NULL OR c.expires_at > now())
      AND NOT EXISTS (
        SELECT 1 FROM public.service_commands q
        WHERE q.customer_id = c.id AND q.kind = 'CHANGE_RATE_LIMIT' AND q.status = 'QUEUED'
          AND NOT q.payload ? 'rate_limit'
      )
  ), queued AS (
    INSERT INTO public.service_commands (tenant_id, kind, customer_id, nas_id, payload)
    SELECT tenant_id, 'CHANGE_RATE_LIMIT', customer_id, nas_id,
           jsonb_build_object('reason', reason)
    FROM due
    RETURNING 1
  )
  SELECT count(*)::integer FROM queued
$$;
REVOKE EXECUTE ON FUNCTION easyisp_queue_rate_limit_changes(uuid[], text) FROM PUBLIC;

CREATE FUNCTION easyisp_customer_package_changed() RETURNS trigger
LANGUAGE plpgsql {DEFINER} AS $$
BEGIN
  PERFORM public.easyisp_queue_rate_limit_changes(ARRAY[NEW.id], 'package changed');
  RETURN NULL;
END $$;
REVOKE EXECUTE ON FUNCTION easyisp_customer_package_changed() FROM PUBLIC;

CREATE TRIGGER customers_package_rate_limit AFTER UPDATE OF package_id ON customers
  FOR EACH ROW WHEN (OLD.package_id IS DISTINCT FROM NEW.package_id)
  EXECUTE FUNCTION easyisp_customer_package_changed();

CREATE FUNCTION easyisp_package_rate_changed() RETURNS trigger
LANGUAGE plpgsql {DEFINER} AS $$
BEGIN
  PERFORM public.easyisp_queue_rate_limit_changes(
    ARRAY(SELECT id FROM public.customers WHERE package_id = NEW.id),
    'package speed changed');
  RETURN NULL;
END $$;
REVOKE EXECUTE ON FUNCTION easyisp_package_rate_changed() FROM PUBLIC;

CREATE TRIGGER packages_rate_limit AFTER UPDATE ON packages
  FOR EACH ROW WHEN ({RATE_CHANGED})
  EXECUTE FUNCTION easyisp_package_rate_changed();
"""

DOWNGRADE_SQL = """
DROP TRIGGER packages_rate_limit ON packages;
DROP FUNCTION easyisp_package_rate_changed();
DROP TRIGGER customers_package_rate_limit ON customers;
DROP FUNCTION easyisp_customer_package_changed();
DROP FUNCTION easyisp_queue_rate_limit_changes(uuid[], text);
"""


def upgrade() -> None:
    op.execute(UPGRADE_SQL)


def downgrade() -> None:
    op.execute(DOWNGRADE_SQL)
