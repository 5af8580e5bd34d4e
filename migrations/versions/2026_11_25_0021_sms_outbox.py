"""SMS outbox: sms_logs is the queue the site service sends from; payments queue receipts.

- sms_gateways gains callback_token (the unguessable path of its delivery-report URL,
  /sms/<token>/dlr), filled for existing rows.
- sms_logs gains attempts, next_attempt_at (retry backoff), sending_since (claimed by a sender:
  set and committed before the gateway is called, so a crash between sending and recording
  leaves a mark and the row is never sent again), kind and dedupe_key (what queued it, e.g.
  "expiry:<customer>:<expires_at>", so a reminder is queued once per expiry period).
- A deferred trigger on payments queues a receipt SMS when a payment becomes COMPLETED and the
  tenant has SMS on with "send payment receipts". Deferred to commit so the text can show the
  expiry the same transaction's renewal set. It covers every way a payment completes (M-Pesa
  callbacks, the console's record payment, reconciliation) in one place.

Revision ID: 20261125_0021
Revises: 20261125_0020
Create Date: 2026-11-25 18:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "20261125_0021"
down_revision: str | None = "20261125_0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DEFINER = "SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp"
RANDOM_PATH_SEGMENT = (
    "replace(gen_random_uuid()::text, '-', '') || replace(gen_random_uuid()::text, '-', '')"
)

UPGRADE_SQL = f"""
ALTER TABLE sms_gateways
  ADD COLUMN callback_token varchar(64) NOT NULL DEFAULT ({RANDOM_PATH_SEGMENT}),
  ADD CONSTRAINT uq_sms_gateways_callback_token UNIQUE (callback_token),
  ADD CONSTRAINT ck_sms_gateways_callback_token_long CHECK (length(callback_token) >= 32);

ALTER TABLE sms_logs
  ADD COLUMN attempts smallint NOT NULL DEFAULT 0,
  ADD COLUMN next_attempt_at timestamptz NOT NULL DEFAULT now(),
  ADD COLUMN sending_since timestamptz,
  ADD COLUMN kind varchar(20),
  ADD COLUMN dedupe_key varchar(120);
-- 0003 granted staff column lists; new columns need their own grants. Staff read the
-- delivery-report token (its URL goes into the provider's dashboard) and the outbox state.
GRANT SELECT (callback_token) ON sms_gateways TO easyisp_staff;
GRANT SELECT (attempts, next_attempt_at, sending_since, kind, dedupe_key) ON sms_logs
  TO easyisp_staff;
CREATE INDEX ix_sms_logs_due ON sms_logs (next_attempt_at) WHERE status = 'QUEUED';
CREATE INDEX ix_sms_logs_tenant_id_dedupe_key ON sms_logs (tenant_id, dedupe_key)
  WHERE dedupe_key IS NOT NULL;

-- The receipt text, one SMS segment (160 GSM-7 characters) for any sane brand and amount.
CREATE FUNCTION easyisp_sms_payment_receipt() RETURNS trigger
LANGUAGE plpgsql {DEFINER} AS $$
DECLARE
  t public.tenants;
  c public.customers;
  sms jsonb;
  phone text;
  brand text;
  support text;
  zone text;
  body text;
BEGIN
  IF NEW.status <> 'COMPLETED' OR NEW.customer_id IS NULL THEN
    RETURN NULL;
  END IF;
  -- Bulk loads of history (the demo) say so: old payments get no receipt.
  IF current_setting('easyisp.sms_receipts', true) = 'off' THEN
    RETURN NULL;
  END IF;
  IF TG_OP = 'UPDATE' AND OLD.status = 'COMPLETED' THEN
    RETURN NULL;
  END IF;
  SELECT * INTO t FROM public.tenants WHERE id = NEW.tenant_id;
  sms := coalesce(t.config -> 'sms', '{{}}'::jsonb);
  IF NOT coalesce((sms ->> 'enabled')::boolean, false)
     OR NOT coalesce((sms ->> 'send_payment_receipts')::boolean, true) THEN
    RETURN NULL;
  END IF;
  SELECT * INTO c FROM public.customers WHERE id = NEW.customer_id;
  phone := coalesce(c.phone, NEW.phone);
  IF phone IS NULL OR phone !~ '^254[17][0-9]{{8}}$' THEN
    RETURN NULL;
  END IF;
  brand := left(coalesce(nullif(btrim(t.config #>> '{{branding,display_name}}'), ''),
                         t.display_name), 30);
  support := left(nullif(btrim(t.config #>> '{{branding,support_phone}}'), ''), 20);
  zone := coalesce(t.config ->> 'timezone', 'Africa/Nairobi');
  body := brand || ': ' || coalesce(t.config ->> 'currency', 'KES') || ' '
          || to_char(NEW.amount, 'FM999,999,990.00') || ' received'
          || coalesce(', ref ' || NEW.transaction_id, '')
          || ', acc ' || c.account_number || '.';
  IF c.expires_at > now() THEN
    body := body || ' Active until '
            || to_char(c.expires_at AT TIME ZONE zone, 'DD Mon HH24:MI') || '.';
  END IF;
  body := body || ' Thank you!' || coalesce(' Help: ' || support, '');
  INSERT INTO public.sms_logs (tenant_id, customer_id, phone, message, kind, dedupe_key)
  VALUES (NEW.tenant_id, NEW.customer_id, '+' || phone, body, 'PAYMENT_RECEIPT',
          'receipt:' || NEW.id);
  RETURN NULL;
END $$;
REVOKE EXECUTE ON FUNCTION easyisp_sms_payment_receipt() FROM PUBLIC;

CREATE CONSTRAINT TRIGGER payments_sms_receipt AFTER INSERT OR UPDATE OF status ON payments
  DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION easyisp_sms_payment_receipt();
"""

DOWNGRADE_SQL = """
DROP TRIGGER payments_sms_receipt ON payments;
DROP FUNCTION easyisp_sms_payment_receipt();
DROP INDEX ix_sms_logs_tenant_id_dedupe_key;
DROP INDEX ix_sms_logs_due;
ALTER TABLE sms_logs
  DROP COLUMN dedupe_key, DROP COLUMN kind, DROP COLUMN sending_since,
  DROP COLUMN next_attempt_at, DROP COLUMN attempts;
ALTER TABLE sms_gateways
  DROP CONSTRAINT ck_sms_gateways_callback_token_long,
  DROP CONSTRAINT uq_sms_gateways_callback_token,
  DROP COLUMN callback_token;
"""


def upgrade() -> None:
    op.execute(UPGRADE_SQL)


def downgrade() -> None:
    op.execute(DOWNGRADE_SQL)
