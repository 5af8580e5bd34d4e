"""Hotspot self sign-up: the site service creates the hotspot account of a new device.

Most hotspot buyers are phones the ISP has never seen. The site service (easyisp_service)
has no INSERT on customers (0003), so without this a new device's payment went to suspense.
`easyisp_hotspot_self_signup` is the one narrow door: a SECURITY DEFINER function only the
service may execute, that creates exactly one kind of row (an ACTIVE HOTSPOT customer bound
to the device's MAC, with no package and no time until a payment renews it) and refuses
when the tenant turned self sign-up off (tenants.config hotspot.self_signup) or when the
paying phone already has `hotspot.max_accounts_per_phone` hotspot accounts. It is
idempotent per (tenant, MAC): a transaction-scoped advisory lock serialises two pushes from
one device, and a device that already has an account gets that account back (one account
per MAC is the cap). The insert is audited by the customers audit trigger
(CUSTOMER_CREATE) and, like the other definer functions of 0003, the function writes its
own audit row saying why the account exists.

The password arrives already sealed by the caller (SecretBox purpose "customer.password"):
pgcrypto is not available, and the database never sees it in clear.

Revision ID: 20261125_0015
Revises: 20261125_0012
Create Date: 2026-11-25 15:40:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "20261125_0015"
down_revision: str | None = "20261125_0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SERVICE = "easyisp_service"
SIGNATURE = "easyisp_hotspot_self_signup(uuid, macaddr, text, bytea)"
DEFINER = "SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp"

FUNCTION_SQL = f"""
CREATE FUNCTION easyisp_hotspot_self_signup(
  in_tenant uuid, in_mac macaddr, in_phone text, in_password_enc bytea
) RETURNS uuid LANGUAGE plpgsql {DEFINER} AS $$
DECLARE
  t public.tenants;
  existing public.customers;
  max_per_phone integer;
  base text;
  candidate text;
  suffix integer := 1;
  seq text;
  new_id uuid;
BEGIN
  -- EXECUTE is granted to the service only; this also stops a future GRANT by mistake.
  IF NOT (public.easyisp_is_service() OR public.easyisp_is_operator()) THEN
    RAISE EXCEPTION 'permission denied: only the site service signs up hotspot devices'
      USING ERRCODE = 'insufficient_privilege';
  END IF;
  IF in_mac IS NULL OR in_password_enc IS NULL OR in_phone IS NULL THEN
    RAISE EXCEPTION 'a self sign-up needs the device MAC, the phone and a sealed password'
      USING ERRCODE = 'check_violation';
  END IF;
  SELECT * INTO t FROM public.tenants WHERE id = in_tenant AND status IN ('ACTIVE', 'TRIAL');
  IF NOT FOUND THEN
    RAISE EXCEPTION 'no such tenant' USING ERRCODE = 'no_data_found';
  END IF;
  IF NOT coalesce((t.config->'hotspot'->>'self_signup')::boolean, true) THEN
    RAISE EXCEPTION 'self sign-up is turned off for this network'
      USING ERRCODE = 'insufficient_privilege';
  END IF;
  max_per_phone := coalesce((t.config->'hotspot'->>'max_accounts_per_phone')::integer, 3);
  -- Phone first, then device: every caller takes the two locks in the same order.
  PERFORM pg_advisory_xact_lock(hashtextextended('easyisp.signup.phone:' || in_tenant::text
                                                 || ':' || in_phone, 0));
  PERFORM pg_advisory_xact_lock(hashtextextended('easyisp.signup.mac:' || in_tenant::text
                                                 || ':' || in_mac::text, 0));
  SELECT * INTO existing FROM public.customers
   WHERE tenant_id = in_tenant AND mac_address = in_mac
   ORDER BY (connection_type = 'HOTSPOT') DESC, created_at LIMIT 1;
  IF FOUND THEN
    IF existing.connection_type <> 'HOTSPOT' THEN
      RAISE EXCEPTION 'this device is bound to another kind of account'
        USING ERRCODE = 'unique_violation';
    END IF;
    RETURN existing.id;  -- one account per device: the second push gets the first's
  END IF;
  IF (SELECT count(*) FROM public.customers
       WHERE tenant_id = in_tenant AND phone = in_phone
         AND connection_type = 'HOTSPOT') >= max_per_phone THEN
    RAISE EXCEPTION 'this phone already has % hotspot accounts', max_per_phone
      USING ERRCODE = 'check_violation';
  END IF;
  base := 'hs' || replace(in_mac::text, ':', '');
  candidate := base;
  WHILE EXISTS (SELECT 1 FROM public.customers
                 WHERE tenant_id = in_tenant AND username = candidate) LOOP
    suffix := suffix + 1;
    candidate := base || '-' || suffix;
  END LOOP;
  seq := public.easyisp_next_number(in_tenant, 'account_number')::text;
  INSERT INTO public.customers (tenant_id, account_number, username, password_enc, full_name,
                                phone, connection_type, status, expires_at, mac_address,
                                notes)
  VALUES (in_tenant, 'ACC' || lpad(seq, greatest(6, length(seq)), '0'), candidate,
          in_password_enc, 'Hotspot ' || upper(in_mac::text), in_phone, 'HOTSPOT', 'ACTIVE',
          now(), in_mac, 'signed up at the hotspot portal')
  RETURNING id INTO new_id;
  INSERT INTO public.audit_logs (tenant_id, action, target_type, target_customer_id,
                                 target_label, details)
  VALUES (in_tenant, 'CUSTOMER_SELF_SIGNUP', 'CUSTOMER', new_id, candidate,
          'hotspot account created by the site service for device ' || in_mac::text
          || ' paying from ' || in_phone);
  RETURN new_id;
END $$;
"""


def upgrade() -> None:
    op.execute(FUNCTION_SQL)
    op.execute(f"REVOKE EXECUTE ON FUNCTION {SIGNATURE} FROM PUBLIC")
    op.execute(f"GRANT EXECUTE ON FUNCTION {SIGNATURE} TO {SERVICE}")


def downgrade() -> None:
    op.execute(f"DROP FUNCTION {SIGNATURE}")
