"""Database-side rules: wallet ledger, updated_at, command notifications, monthly partitions.

These live in the database rather than the app because every writer (console, site service,
psql) must obey them:
- the wallet ledger is append-only and customers.wallet_balance is only ever its running sum;
- updated_at is stamped on every UPDATE, however it is issued;
- a queued service command wakes the site service at once (NOTIFY);
- sessions and sms_logs get monthly partitions created ahead of time by
  easyisp_ensure_partitions(); a row outside them lands in the default partition, and the
  next maintenance run moves it into its own month (nothing is ever rejected or lost).

Revision ID: 20261125_0002
Revises: 20261125_0001
Create Date: 2026-11-25 12:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "20261125_0002"
down_revision: str | None = "20261125_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES_WITH_UPDATED_AT = [
    "tenants",
    "users",
    "router_groups",
    "nas",
    "vpn_peers",
    "packages",
    "customers",
    "voucher_batches",
    "vouchers",
    "payments",
    "invoices",
    "expenses",
    "chart_of_accounts",
    "pending_hotspot_payments",
    "payment_gateways",
    "sms_gateways",
]
PARTITIONED = {"sessions": "started_at", "sms_logs": "created_at"}

TOUCH_UPDATED_AT = """
CREATE FUNCTION easyisp_touch_updated_at() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  NEW.updated_at := now();
  RETURN NEW;
END $$
"""

WALLET = """
CREATE FUNCTION easyisp_wallet_apply() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE customers SET wallet_balance = wallet_balance + NEW.amount
   WHERE id = NEW.customer_id AND tenant_id = NEW.tenant_id
  RETURNING wallet_balance INTO NEW.balance_after;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'wallet entry for unknown customer %', NEW.customer_id
      USING ERRCODE = 'foreign_key_violation';
  END IF;
  RETURN NEW;
END $$;

CREATE FUNCTION easyisp_wallet_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'the wallet ledger is append-only: post a correcting entry instead'
    USING ERRCODE = 'integrity_constraint_violation';
END $$;

CREATE FUNCTION easyisp_customer_balance_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  -- Depth 1 is a direct write; the ledger trigger's own UPDATE runs at depth 2.
  IF TG_OP = 'INSERT' AND NEW.wallet_balance <> 0 THEN
    RAISE EXCEPTION 'a new customer starts with a zero wallet; credit it through wallet_transactions'
      USING ERRCODE = 'check_violation';
  ELSIF TG_OP = 'UPDATE' AND NEW.wallet_balance IS DISTINCT FROM OLD.wallet_balance
        AND pg_trigger_depth() < 2 THEN
    RAISE EXCEPTION 'wallet_balance changes only through wallet_transactions'
      USING ERRCODE = 'check_violation';
  END IF;
  RETURN NEW;
END $$;

CREATE TRIGGER wallet_transactions_apply BEFORE INSERT ON wallet_transactions
  FOR EACH ROW EXECUTE FUNCTION easyisp_wallet_apply();
CREATE TRIGGER wallet_transactions_append_only BEFORE UPDATE OR DELETE ON wallet_transactions
  FOR EACH ROW EXECUTE FUNCTION easyisp_wallet_append_only();
CREATE TRIGGER customers_balance_guard BEFORE INSERT OR UPDATE OF wallet_balance ON customers
  FOR EACH ROW EXECUTE FUNCTION easyisp_customer_balance_guard();
"""

SERVICE_COMMAND_NOTIFY = """
CREATE FUNCTION easyisp_notify_service_command() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('easyisp_service_commands', NEW.id::text);
  RETURN NULL;
END $$;
CREATE TRIGGER service_commands_notify AFTER INSERT ON service_commands
  FOR EACH ROW EXECUTE FUNCTION easyisp_notify_service_command();
"""

PARTITION_FUNCTIONS = """
CREATE FUNCTION easyisp_partition_column(parent regclass) RETURNS text
LANGUAGE sql STABLE AS $$
  SELECT a.attname::text
    FROM pg_partitioned_table p
    JOIN pg_attribute a ON a.attrelid = p.partrelid AND a.attnum = p.partattrs[0]
   WHERE p.partrelid = parent
$$;

-- Make sure monthly partitions exist from `first_month` for `months_ahead` months after the
-- current one. Rows of those months that already sit in the default partition are moved into
-- the new partition in the same transaction. Returns the partitions created.
CREATE FUNCTION easyisp_ensure_partitions(
  parent regclass, months_ahead integer DEFAULT 3, first_month date DEFAULT NULL
) RETURNS SETOF text LANGUAGE plpgsql AS $$
DECLARE
  parent_name text := parent::text;
  col text := easyisp_partition_column(parent);
  default_name text := parent_name || '_default';
  month_start date;
  last_month date := (date_trunc('month', now() AT TIME ZONE 'UTC') + make_interval(months => months_ahead))::date;
  part_name text;
  moved bigint;
BEGIN
  IF col IS NULL THEN
    RAISE EXCEPTION '% is not a partitioned table', parent_name;
  END IF;
  month_start := date_trunc('month', coalesce(first_month, (now() AT TIME ZONE 'UTC')::date))::date;
  -- Also cover any month that rows in the default partition belong to.
  EXECUTE format('SELECT least($1, min(date_trunc(''month'', %I AT TIME ZONE ''UTC''))::date) FROM %I',
                 col, default_name) INTO month_start USING month_start;
  month_start := coalesce(month_start, date_trunc('month', now() AT TIME ZONE 'UTC')::date);
  -- ...and forward to the latest such month, within three years (a router with a wild clock
  -- must not make the maintenance job create hundreds of partitions).
  EXECUTE format('SELECT greatest($1, max(date_trunc(''month'', %I AT TIME ZONE ''UTC''))::date) '
                 'FROM %I WHERE %I < now() + interval ''36 months''', col, default_name, col)
    INTO last_month USING last_month;

  WHILE month_start <= last_month LOOP
    part_name := parent_name || '_p' || to_char(month_start, 'YYYYMM');
    IF to_regclass(part_name) IS NULL THEN
      EXECUTE format('CREATE TABLE %I (LIKE %I INCLUDING DEFAULTS INCLUDING CONSTRAINTS)',
                     part_name, parent_name);
      EXECUTE format(
        'WITH moved AS (DELETE FROM %I WHERE %I >= %L::timestamptz AND %I < %L::timestamptz RETURNING *) '
        'INSERT INTO %I OVERRIDING SYSTEM VALUE SELECT * FROM moved',
        default_name, col, month_start::text || ' 00:00:00+00', col,
        (month_start + interval '1 month')::date::text || ' 00:00:00+00', part_name);
      GET DIAGNOSTICS moved = ROW_COUNT;
      EXECUTE format('ALTER TABLE %I ATTACH PARTITION %I FOR VALUES FROM (%L) TO (%L)',
                     parent_name, part_name,
                     month_start::text || ' 00:00:00+00',
                     (month_start + interval '1 month')::date::text || ' 00:00:00+00');
      IF moved > 0 THEN
        RAISE NOTICE 'moved % rows from % into %', moved, default_name, part_name;
      END IF;
      RETURN NEXT part_name;
    END IF;
    month_start := (month_start + interval '1 month')::date;
  END LOOP;
END $$;

-- Detach (not drop) monthly partitions that end on or before `before`; returns their names.
-- The caller archives and drops them.
CREATE FUNCTION easyisp_detach_partitions_before(parent regclass, before date)
RETURNS SETOF text LANGUAGE plpgsql AS $$
DECLARE
  part record;
  part_month date;
BEGIN
  FOR part IN
    SELECT c.relname::text AS name
      FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
     WHERE i.inhparent = parent AND c.relname ~ '_p[0-9]{6}$'
     ORDER BY c.relname
  LOOP
    part_month := to_date(right(part.name, 6), 'YYYYMM');
    IF (part_month + interval '1 month')::date <= before THEN
      EXECUTE format('ALTER TABLE %I DETACH PARTITION %I', parent::text, part.name);
      RETURN NEXT part.name;
    END IF;
  END LOOP;
END $$;
"""


def upgrade() -> None:
    op.execute(TOUCH_UPDATED_AT)
    for table in TABLES_WITH_UPDATED_AT:
        op.execute(
            f"CREATE TRIGGER {table}_touch_updated_at BEFORE UPDATE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION easyisp_touch_updated_at()"
        )
    op.execute(WALLET)
    op.execute(SERVICE_COMMAND_NOTIFY)
    op.execute(PARTITION_FUNCTIONS)
    for table in PARTITIONED:
        op.execute(f"CREATE TABLE {table}_default PARTITION OF {table} DEFAULT")
        # Twelve months back (for imports and the demo's history) to three months ahead.
        op.execute(
            f"SELECT easyisp_ensure_partitions('{table}', 3, "
            "(date_trunc('month', now()) - interval '12 months')::date)"
        )


def downgrade() -> None:
    for table in PARTITIONED:
        op.execute(
            f"""DO $$ DECLARE part text; BEGIN
              -- Attached partitions and detached ones not yet archived.
              FOR part IN SELECT c.relname FROM pg_class c
                           WHERE c.relkind = 'r' AND c.relnamespace = current_schema()::regnamespace
                             AND c.relname ~ '^{table}_(p[0-9]{{6}}|default)$' LOOP
                EXECUTE format('DROP TABLE %I', part);
              END LOOP; END $$"""
        )
    op.execute("DROP FUNCTION easyisp_detach_partitions_before(regclass, date)")
    op.execute("DROP FUNCTION easyisp_ensure_partitions(regclass, integer, date)")
    op.execute("DROP FUNCTION easyisp_partition_column(regclass)")
    op.execute("DROP TRIGGER service_commands_notify ON service_commands")
    op.execute("DROP FUNCTION easyisp_notify_service_command()")
    op.execute("DROP TRIGGER customers_balance_guard ON customers")
    op.execute("DROP TRIGGER wallet_transactions_append_only ON wallet_transactions")
    op.execute("DROP TRIGGER wallet_transactions_apply ON wallet_transactions")
    op.execute("DROP FUNCTION easyisp_customer_balance_guard()")
    op.execute("DROP FUNCTION easyisp_wallet_append_only()")
    op.execute("DROP FUNCTION easyisp_wallet_apply()")
    for table in TABLES_WITH_UPDATED_AT:
        op.execute(f"DROP TRIGGER {table}_touch_updated_at ON {table}")
    op.execute("DROP FUNCTION easyisp_touch_updated_at()")
