"""A customer with money or usage history is never deleted, whoever asks.

Deleting a customer is for a mistaken registration only. Payments, wallet entries and
invoices already refuse it through RESTRICT foreign keys, but with a bare "violates foreign
key constraint", and sessions would silently lose their customer (SET NULL). A BEFORE DELETE
trigger now refuses any customer with payments, wallet entries, invoices or sessions, naming
what is on record and pointing to Suspend; it is SECURITY DEFINER so a caller who may not read
payments still cannot slip past it. `easyisp_customer_history(customer)` tells a client the
same list beforehand (so the console can say why and offer Suspend instead), for customers
the caller may read (NULL otherwise). Who may delete stays the customers.delete policy; the
audit trigger records CUSTOMER_DELETE.

Revision ID: 20261206_0031
Revises: 20261206_0030
Create Date: 2026-12-06 05:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "20261206_0031"
down_revision: str | None = "20261206_0030"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DEFINER = "SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp"
STAFF = "easyisp_staff"
SERVICE = "easyisp_service"

UPGRADE_SQL = f"""
-- What the customer has on record, in words (empty: nothing; safe to delete).
CREATE FUNCTION easyisp_customer_history_of(customer uuid) RETURNS text[]
LANGUAGE sql STABLE {DEFINER} AS $$
  SELECT array_remove(ARRAY[
    CASE WHEN EXISTS (SELECT 1 FROM payments WHERE customer_id = customer) THEN 'payments' END,
    CASE WHEN EXISTS (SELECT 1 FROM wallet_transactions WHERE customer_id = customer)
         THEN 'wallet entries' END,
    CASE WHEN EXISTS (SELECT 1 FROM invoices WHERE customer_id = customer) THEN 'invoices' END,
    CASE WHEN EXISTS (SELECT 1 FROM sessions WHERE customer_id = customer) THEN 'sessions' END
  ], NULL)
$$;
REVOKE EXECUTE ON FUNCTION easyisp_customer_history_of(uuid) FROM PUBLIC;

-- The same, for a client: NULL unless the caller may read this customer.
CREATE FUNCTION easyisp_customer_history(customer uuid) RETURNS text[]
LANGUAGE sql STABLE {DEFINER} AS $$
  SELECT easyisp_customer_history_of(t.id) FROM customers t
   WHERE t.id = customer
     AND ((SELECT easyisp_is_operator()) OR (SELECT easyisp_is_service())
          OR ((SELECT easyisp_has_permission('customers.read'))
              AND (t.tenant_id = (SELECT easyisp_current_tenant())
                   OR (SELECT easyisp_has_permission('tenants.manage')))))
$$;
REVOKE EXECUTE ON FUNCTION easyisp_customer_history(uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION easyisp_customer_history(uuid) TO {STAFF}, {SERVICE};

CREATE FUNCTION easyisp_customer_delete_guard() RETURNS trigger
LANGUAGE plpgsql {DEFINER} AS $$
DECLARE
  history text[] := easyisp_customer_history_of(OLD.id);
BEGIN
  IF cardinality(history) > 0 THEN
    RAISE EXCEPTION '% has % on record, so they cannot be deleted; suspend them instead',
      OLD.full_name, array_to_string(history, ', ')
      USING ERRCODE = 'check_violation';
  END IF;
  RETURN OLD;
END $$;

CREATE TRIGGER customers_delete_guard BEFORE DELETE ON customers
  FOR EACH ROW EXECUTE FUNCTION easyisp_customer_delete_guard();
"""

DOWNGRADE_SQL = """
DROP TRIGGER customers_delete_guard ON customers;
DROP FUNCTION easyisp_customer_delete_guard();
DROP FUNCTION easyisp_customer_history(uuid);
DROP FUNCTION easyisp_customer_history_of(uuid);
"""


def upgrade() -> None:
    op.execute(UPGRADE_SQL)


def downgrade() -> None:
    op.execute(DOWNGRADE_SQL)
