"""Security: the database is the boundary.

- Every staff user is a PostgreSQL login role (SCRAM password), a member of `easyisp_staff`
  and of the group role of its app role (`easyisp_role_admin`, ...). Staff are created,
  suspended, deleted and re-permissioned only through SECURITY DEFINER functions that check
  the caller's own permissions.
- Row-level security, forced for the owner too, on every table with a tenant_id. A staff
  member's tenant comes from easyisp_current_tenant(), a lookup of the *login* role
  (session_user) in users; no setting the client can change is consulted.
- Permissions: role defaults (role_permissions) plus the user's added/removed overrides,
  checked by RESTRICTIVE policies on every verb, evaluated on every statement.
- Payments and the wallet are written only through functions (record a payment, refund,
  adjust, renew) so a cashier can take money without being able to edit past payments.
- Secret columns (*_enc) are not readable by staff; reveal functions check a permission and
  write an audit row.
- Audit: triggers write audit_logs for every business write; rows form a per-tenant hash
  chain (seq, prev_hash, row_hash) and cannot be updated or deleted by anyone but the
  referential actions that null a deleted target.
- The site service has its own group role `easyisp_service`: all tenants, no staff data,
  no audit writes of its own.

Roles are cluster-wide and may already exist (another EasyISP database on the server), so
they are created only when missing and never dropped by the downgrade.

Revision ID: 20261125_0003
Revises: 20261125_0002
Create Date: 2026-11-25 12:30:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "20261125_0003"
down_revision: str | None = "20261125_0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

STAFF = "easyisp_staff"
SERVICE = "easyisp_service"
APP_ROLES = ["SUPER_ADMIN", "ADMIN", "STAFF", "CUSTOMER_CARE", "FIELD_TECH", "VIEWER"]
GROUPS = {role: f"easyisp_role_{role.lower()}" for role in APP_ROLES}

# A frozen copy of easyisp_core.rules.permissions at this revision (migrations never import
# app code that may change later); tests/db/test_security.py checks the two agree.
PERMISSIONS = {
    "tenants.manage": "create, suspend and configure tenants",
    "settings.write": "change the tenant's SMS, M-Pesa and branding settings",
    "staff.read": "see staff users",
    "staff.manage": "create, suspend and delete staff, change their permissions",
    "customers.read": "see customers",
    "customers.write": "register and edit customers, change packages, suspend",
    "customers.delete": "delete customers",
    "customers.password.reveal": "reveal a subscriber's PPPoE password (audited)",
    "packages.read": "see packages",
    "packages.write": "create and edit packages",
    "vouchers.read": "see vouchers",
    "vouchers.write": "generate and void vouchers",
    "payments.read": "see payments and wallets",
    "payments.create": "record cash, bank and card payments",
    "payments.refund": "refund a payment",
    "wallet.adjust": "post manual wallet adjustments",
    "invoices.read": "see invoices",
    "invoices.write": "create and edit invoices",
    "expenses.read": "see expenses",
    "expenses.write": "record and edit expenses",
    "accounts.read": "see the chart of accounts",
    "accounts.write": "edit the chart of accounts",
    "nas.read": "see routers",
    "nas.write": "add and edit routers",
    "nas.secrets.read": "read router RADIUS secrets and API passwords",
    "vpn.read": "see WireGuard peers",
    "vpn.write": "add, enable and disable WireGuard peers",
    "sessions.read": "see sessions and usage",
    "sessions.disconnect": "disconnect a subscriber (queued for the site service)",
    "gateways.read": "see payment and SMS gateways",
    "gateways.write": "configure payment and SMS gateways (credentials included)",
    "sms.read": "see the SMS log",
    "sms.send": "send SMS to customers",
    "audit.read": "see the audit log",
    "reports.finance": "see financial reports",
}
_READS = {p for p in PERMISSIONS if p.endswith(".read") and "secrets" not in p}
ROLE_DEFAULTS = {
    "SUPER_ADMIN": set(PERMISSIONS),
    "ADMIN": set(PERMISSIONS) - {"tenants.manage"},
    "STAFF": {
        "customers.read",
        "customers.write",
        "packages.read",
        "vouchers.read",
        "vouchers.write",
        "payments.read",
        "payments.create",
        "invoices.read",
        "invoices.write",
        "expenses.read",
        "expenses.write",
        "accounts.read",
        "nas.read",
        "sessions.read",
        "sessions.disconnect",
        "sms.read",
        "sms.send",
    },
    "CUSTOMER_CARE": {
        "customers.read",
        "customers.write",
        "customers.password.reveal",
        "packages.read",
        "vouchers.read",
        "payments.read",
        "payments.create",
        "invoices.read",
        "nas.read",
        "sessions.read",
        "sessions.disconnect",
        "sms.read",
        "sms.send",
    },
    "FIELD_TECH": {
        "customers.read",
        "packages.read",
        "nas.read",
        "nas.write",
        "nas.secrets.read",
        "vpn.read",
        "vpn.write",
        "sessions.read",
        "sessions.disconnect",
    },
    "VIEWER": _READS - {"staff.read", "audit.read", "gateways.read"},
}

# table -> permission needed to (select, insert, update, delete); None = no grant at all
# (the verb is only possible through a SECURITY DEFINER function, or not at all).
TABLE_PERMISSIONS: dict[str, tuple[str | None, str | None, str | None, str | None]] = {
    "router_groups": ("nas.read", "nas.write", "nas.write", "nas.write"),
    "nas": ("nas.read", "nas.write", "nas.write", "nas.write"),
    "vpn_peers": ("vpn.read", "vpn.write", "vpn.write", "vpn.write"),
    "packages": ("packages.read", "packages.write", "packages.write", "packages.write"),
    "customers": ("customers.read", "customers.write", "customers.write", "customers.delete"),
    "voucher_batches": ("vouchers.read", "vouchers.write", "vouchers.write", "vouchers.write"),
    "vouchers": ("vouchers.read", "vouchers.write", "vouchers.write", "vouchers.write"),
    "payments": ("payments.read", None, None, None),
    "wallet_transactions": ("payments.read", None, None, None),
    "invoices": ("invoices.read", "invoices.write", "invoices.write", "invoices.write"),
    "expenses": ("expenses.read", "expenses.write", "expenses.write", "expenses.write"),
    "chart_of_accounts": ("accounts.read", "accounts.write", "accounts.write", "accounts.write"),
    "audit_logs": ("audit.read", None, None, None),
    "sms_logs": ("sms.read", "sms.send", None, None),
    "sessions": ("sessions.read", None, None, None),
    "pending_hotspot_payments": ("payments.read", None, None, None),
    "payment_gateways": ("gateways.read", "gateways.write", "gateways.write", "gateways.write"),
    "sms_gateways": ("gateways.read", "gateways.write", "gateways.write", "gateways.write"),
    "service_commands": ("sessions.read", "sessions.disconnect", None, None),
}
# Tables with tenant_id that staff never touch directly (functions only).
FUNCTION_ONLY_TABLES = ["tenant_counters"]
# Columns no staff statement may change directly, even with the table's UPDATE permission.
NOT_UPDATABLE = {
    "id",
    "tenant_id",
    "created_at",
    "updated_at",
    "search",
    "wallet_balance",
    "account_number",
}

# What the site service may write (it reads every table but users and audit_logs).
SERVICE_WRITES = {
    "sessions": "INSERT, UPDATE",
    "sms_logs": "INSERT, UPDATE",
    "pending_hotspot_payments": "INSERT, UPDATE",
    "payments": "INSERT, UPDATE",
    "wallet_transactions": "INSERT",
    "customers": "UPDATE",
    "vouchers": "UPDATE",
    "nas": "UPDATE",
    "vpn_peers": "UPDATE",
    "service_commands": "INSERT, UPDATE",
    "service_heartbeats": "INSERT, UPDATE, DELETE",
    "sms_gateways": "UPDATE",
}

# table -> (entity, target_type, audit FK column, column holding the target id, ignored cols)
AUDITED: dict[str, tuple[str, str, str, str, list[str]]] = {
    "tenants": ("TENANT", "TENANT", "target_tenant_id", "id", ["updated_at"]),
    "users": ("STAFF", "USER", "target_user_id", "id", ["updated_at", "last_login_at"]),
    "router_groups": ("ROUTER_GROUP", "OTHER", "", "id", ["updated_at"]),
    "nas": (
        "NAS",
        "NAS",
        "target_nas_id",
        "id",
        ["updated_at", "status", "last_seen_at", "routeros_version"],
    ),
    "vpn_peers": (
        "VPN_PEER",
        "VPN_PEER",
        "target_vpn_peer_id",
        "id",
        ["updated_at", "last_handshake_at", "rx_bytes", "tx_bytes"],
    ),
    "packages": ("PACKAGE", "PACKAGE", "target_package_id", "id", ["updated_at"]),
    "customers": (
        "CUSTOMER",
        "CUSTOMER",
        "target_customer_id",
        "id",
        ["updated_at", "wallet_balance"],
    ),
    "voucher_batches": ("VOUCHER_BATCH", "OTHER", "", "id", ["updated_at"]),
    "vouchers": ("VOUCHER", "VOUCHER", "target_voucher_id", "id", ["updated_at"]),
    "payments": ("PAYMENT", "PAYMENT", "target_payment_id", "id", ["updated_at"]),
    "wallet_transactions": ("WALLET_ENTRY", "CUSTOMER", "target_customer_id", "customer_id", []),
    "invoices": ("INVOICE", "INVOICE", "target_invoice_id", "id", ["updated_at"]),
    "expenses": ("EXPENSE", "EXPENSE", "target_expense_id", "id", ["updated_at"]),
    "chart_of_accounts": ("ACCOUNT", "ACCOUNT", "target_account_id", "id", ["updated_at"]),
    "payment_gateways": (
        "PAYMENT_GATEWAY",
        "PAYMENT_GATEWAY",
        "target_payment_gateway_id",
        "id",
        ["updated_at"],
    ),
    "sms_gateways": ("SMS_GATEWAY", "SMS_GATEWAY", "target_sms_gateway_id", "id", ["updated_at"]),
    "service_commands": (
        "SERVICE_COMMAND",
        "OTHER",
        "",
        "id",
        ["status", "attempts", "result", "started_at", "finished_at"],
    ),
}
AUDIT_TARGET_COLUMNS = [
    "target_tenant_id",
    "target_user_id",
    "target_customer_id",
    "target_package_id",
    "target_nas_id",
    "target_voucher_id",
    "target_payment_id",
    "target_invoice_id",
    "target_expense_id",
    "target_payment_gateway_id",
    "target_sms_gateway_id",
    "target_vpn_peer_id",
    "target_account_id",
]

DEFINER = "SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp"

ROLES_SQL = f"""
DO $$
DECLARE r text;
BEGIN
  FOREACH r IN ARRAY ARRAY['{STAFF}', '{SERVICE}', {", ".join(f"'{g}'" for g in GROUPS.values())}]
  LOOP
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = r) THEN
      EXECUTE format('CREATE ROLE %I NOLOGIN', r);
    END IF;
  END LOOP;
END $$;
"""

CATALOG_SQL = """
CREATE TABLE permissions (
  name varchar(64) PRIMARY KEY,
  description varchar(200) NOT NULL
);
CREATE TABLE role_permissions (
  role staff_role NOT NULL,
  permission varchar(64) NOT NULL REFERENCES permissions (name) ON DELETE CASCADE,
  CONSTRAINT pk_role_permissions PRIMARY KEY (role, permission)
);
"""

IDENTITY_SQL = f"""
-- Who is asking: the staff user behind the *login* role. SET ROLE cannot change session_user.
CREATE FUNCTION easyisp_current_user_id() RETURNS uuid
LANGUAGE sql STABLE {DEFINER} AS $$
  SELECT id FROM public.users WHERE username = session_user AND status = 'ACTIVE'
$$;

CREATE FUNCTION easyisp_current_tenant() RETURNS uuid
LANGUAGE sql STABLE {DEFINER} AS $$
  SELECT tenant_id FROM public.users WHERE username = session_user AND status = 'ACTIVE'
$$;

-- The database's own administrators (migrations, `easyisp` run by the site admin).
CREATE FUNCTION easyisp_is_operator() RETURNS boolean
LANGUAGE sql STABLE {DEFINER} AS $$
  SELECT coalesce((SELECT rolsuper FROM pg_roles WHERE rolname = session_user), false)
      OR session_user::name = (SELECT pg_get_userbyid(datdba) FROM pg_database
                                WHERE datname = current_database())
$$;

CREATE FUNCTION easyisp_is_service() RETURNS boolean
LANGUAGE sql STABLE {DEFINER} AS $$
  SELECT pg_has_role(session_user, '{SERVICE}', 'MEMBER')
$$;

CREATE FUNCTION easyisp_has_permission(wanted text) RETURNS boolean
LANGUAGE sql STABLE {DEFINER} AS $$
  SELECT EXISTS (
    SELECT 1 FROM public.users u
     WHERE u.username = session_user AND u.status = 'ACTIVE'
       AND NOT (wanted = ANY (u.removed_permissions))
       AND (wanted = ANY (u.added_permissions)
            OR EXISTS (SELECT 1 FROM public.role_permissions rp
                        WHERE rp.role = u.role AND rp.permission = wanted))
  )
$$;

CREATE FUNCTION easyisp_my_permissions() RETURNS text[]
LANGUAGE sql STABLE {DEFINER} AS $$
  SELECT coalesce(array_agg(p.name ORDER BY p.name), '{{}}')
    FROM public.permissions p
   WHERE public.easyisp_has_permission(p.name)
$$;

-- Raise insufficient_privilege unless the caller is an operator, the service (when allowed),
-- or a staff member holding the permission in the given tenant.
CREATE FUNCTION easyisp_require(wanted text, in_tenant uuid, service_ok boolean DEFAULT false)
RETURNS void LANGUAGE plpgsql STABLE {DEFINER} AS $$
BEGIN
  IF public.easyisp_is_operator() OR (service_ok AND public.easyisp_is_service()) THEN
    RETURN;
  END IF;
  IF NOT public.easyisp_has_permission(wanted) THEN
    RAISE EXCEPTION 'permission denied: % is required', wanted USING ERRCODE = 'insufficient_privilege';
  END IF;
  IF in_tenant IS DISTINCT FROM public.easyisp_current_tenant()
     AND NOT public.easyisp_has_permission('tenants.manage') THEN
    RAISE EXCEPTION 'permission denied: that record belongs to another tenant'
      USING ERRCODE = 'insufficient_privilege';
  END IF;
END $$;

CREATE FUNCTION easyisp_next_number(in_tenant uuid, counter text, how_many integer DEFAULT 1)
RETURNS bigint LANGUAGE plpgsql {DEFINER} AS $$
DECLARE first_value bigint;
BEGIN
  IF NOT (public.easyisp_is_operator() OR public.easyisp_is_service()
          OR in_tenant = public.easyisp_current_tenant()
          OR public.easyisp_has_permission('tenants.manage')) THEN
    RAISE EXCEPTION 'permission denied: counters of another tenant'
      USING ERRCODE = 'insufficient_privilege';
  END IF;
  IF how_many < 1 THEN
    RAISE EXCEPTION 'how_many must be positive';
  END IF;
  INSERT INTO public.tenant_counters AS c (tenant_id, name, next_value)
  VALUES (in_tenant, counter, 1 + how_many)
  ON CONFLICT (tenant_id, name) DO UPDATE SET next_value = c.next_value + how_many
  RETURNING c.next_value - how_many INTO first_value;
  RETURN first_value;
END $$;
"""

STAFF_SQL = f"""
CREATE FUNCTION easyisp_group_for(app_role staff_role) RETURNS text
LANGUAGE sql IMMUTABLE AS $$ SELECT 'easyisp_role_' || lower(app_role::text) $$;

-- Managers act within their tenant; only a SUPER_ADMIN (or an operator) makes super admins.
CREATE FUNCTION easyisp_require_staff_manager(in_tenant uuid, target_role staff_role)
RETURNS void LANGUAGE plpgsql STABLE {DEFINER} AS $$
BEGIN
  PERFORM public.easyisp_require('staff.manage', in_tenant);
  IF target_role = 'SUPER_ADMIN' AND NOT public.easyisp_is_operator()
     AND NOT public.easyisp_has_permission('tenants.manage') THEN
    RAISE EXCEPTION 'permission denied: only a super admin can grant SUPER_ADMIN'
      USING ERRCODE = 'insufficient_privilege';
  END IF;
END $$;

CREATE FUNCTION easyisp_check_verifier(verifier text) RETURNS void
LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
  -- The console sends a SCRAM verifier, never the password itself (it would reach server logs).
  IF verifier IS NULL OR verifier !~ '^SCRAM-SHA-256\\$[0-9]+:[A-Za-z0-9+/=]+\\$[A-Za-z0-9+/=]+:[A-Za-z0-9+/=]+$' THEN
    RAISE EXCEPTION 'the password must be sent as a SCRAM-SHA-256 verifier'
      USING ERRCODE = 'invalid_parameter_value';
  END IF;
END $$;

CREATE FUNCTION easyisp_create_staff(
  in_tenant uuid, in_username text, in_full_name text, in_role staff_role, verifier text,
  in_email text DEFAULT NULL, in_phone text DEFAULT NULL
) RETURNS uuid LANGUAGE plpgsql {DEFINER} AS $$
DECLARE new_id uuid;
BEGIN
  PERFORM public.easyisp_require_staff_manager(in_tenant, in_role);
  PERFORM public.easyisp_check_verifier(verifier);
  INSERT INTO public.users (tenant_id, username, full_name, role, email, phone)
  VALUES (in_tenant, in_username, in_full_name, in_role, in_email, in_phone)
  RETURNING id INTO new_id;
  IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = in_username) THEN
    RAISE EXCEPTION 'a database role named % already exists on this server', in_username
      USING ERRCODE = 'duplicate_object';
  END IF;
  EXECUTE format('CREATE ROLE %I LOGIN PASSWORD %L IN ROLE {STAFF}, %I',
                 in_username, verifier, public.easyisp_group_for(in_role));
  RETURN new_id;
END $$;

CREATE FUNCTION easyisp_staff_target(target uuid) RETURNS public.users
LANGUAGE plpgsql STABLE {DEFINER} AS $$
DECLARE target_user public.users;
BEGIN
  SELECT * INTO target_user FROM public.users WHERE id = target AND status <> 'DELETED';
  IF NOT FOUND THEN
    RAISE EXCEPTION 'no such staff user' USING ERRCODE = 'no_data_found';
  END IF;
  IF target_user.username = session_user THEN
    RAISE EXCEPTION 'permission denied: staff cannot change their own role, permissions or status'
      USING ERRCODE = 'insufficient_privilege';
  END IF;
  PERFORM public.easyisp_require_staff_manager(target_user.tenant_id, target_user.role);
  RETURN target_user;
END $$;

CREATE FUNCTION easyisp_set_staff_status(target uuid, new_status user_status)
RETURNS void LANGUAGE plpgsql {DEFINER} AS $$
DECLARE staff public.users := public.easyisp_staff_target(target);
BEGIN
  UPDATE public.users SET status = new_status WHERE id = target;
  IF new_status = 'ACTIVE' THEN
    EXECUTE format('ALTER ROLE %I LOGIN', staff.username);
  ELSE
    -- Cut existing connections too: a suspended cashier must not keep an open console.
    PERFORM pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = staff.username;
    IF new_status = 'DELETED' THEN
      EXECUTE format('DROP ROLE IF EXISTS %I', staff.username);
    ELSE
      EXECUTE format('ALTER ROLE %I NOLOGIN', staff.username);
    END IF;
  END IF;
END $$;

CREATE FUNCTION easyisp_set_staff_role(target uuid, new_role staff_role)
RETURNS void LANGUAGE plpgsql {DEFINER} AS $$
DECLARE staff public.users := public.easyisp_staff_target(target);
BEGIN
  PERFORM public.easyisp_require_staff_manager(staff.tenant_id, new_role);
  UPDATE public.users SET role = new_role WHERE id = target;
  EXECUTE format('REVOKE %I FROM %I', public.easyisp_group_for(staff.role), staff.username);
  EXECUTE format('GRANT %I TO %I', public.easyisp_group_for(new_role), staff.username);
END $$;

CREATE FUNCTION easyisp_set_staff_permissions(target uuid, added text[], removed text[])
RETURNS void LANGUAGE plpgsql {DEFINER} AS $$
DECLARE
  staff public.users := public.easyisp_staff_target(target);
  unknown text;
BEGIN
  SELECT string_agg(p, ', ') INTO unknown
    FROM unnest(coalesce(added, '{{}}') || coalesce(removed, '{{}}')) AS p
   WHERE p NOT IN (SELECT name FROM public.permissions);
  IF unknown IS NOT NULL THEN
    RAISE EXCEPTION 'unknown permission(s): %', unknown USING ERRCODE = 'invalid_parameter_value';
  END IF;
  IF 'tenants.manage' = ANY (added) AND NOT public.easyisp_is_operator()
     AND NOT public.easyisp_has_permission('tenants.manage') THEN
    RAISE EXCEPTION 'permission denied: only a super admin can grant tenants.manage'
      USING ERRCODE = 'insufficient_privilege';
  END IF;
  UPDATE public.users
     SET added_permissions = coalesce(added, '{{}}'), removed_permissions = coalesce(removed, '{{}}')
   WHERE id = staff.id;
END $$;

CREATE FUNCTION easyisp_set_staff_password(target uuid, verifier text)
RETURNS void LANGUAGE plpgsql {DEFINER} AS $$
DECLARE staff public.users;
BEGIN
  PERFORM public.easyisp_check_verifier(verifier);
  SELECT * INTO staff FROM public.users WHERE id = target AND status <> 'DELETED';
  IF NOT FOUND THEN
    RAISE EXCEPTION 'no such staff user' USING ERRCODE = 'no_data_found';
  END IF;
  IF staff.username <> session_user THEN
    PERFORM public.easyisp_require_staff_manager(staff.tenant_id, staff.role);
  END IF;
  EXECUTE format('ALTER ROLE %I PASSWORD %L', staff.username, verifier);
END $$;
"""

MONEY_SQL = f"""
CREATE FUNCTION easyisp_record_payment(
  customer uuid, in_amount numeric, in_method payment_method, reference text DEFAULT NULL,
  note text DEFAULT NULL
) RETURNS uuid LANGUAGE plpgsql {DEFINER} AS $$
DECLARE
  c public.customers;
  new_id uuid;
BEGIN
  SELECT * INTO c FROM public.customers WHERE id = customer;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'no such customer' USING ERRCODE = 'no_data_found';
  END IF;
  PERFORM public.easyisp_require('payments.create', c.tenant_id, true);
  INSERT INTO public.payments (tenant_id, customer_id, amount, method, status, transaction_id,
                               phone, account_reference, description, recorded_by, paid_at)
  VALUES (c.tenant_id, c.id, in_amount, in_method, 'COMPLETED', reference, c.phone,
          c.account_number, note, public.easyisp_current_user_id(), now())
  RETURNING id INTO new_id;
  INSERT INTO public.wallet_transactions (tenant_id, customer_id, amount, kind, payment_id,
                                          description, created_by)
  VALUES (c.tenant_id, c.id, in_amount, 'TOPUP', new_id, in_method::text || ' payment',
          public.easyisp_current_user_id());
  RETURN new_id;
END $$;

CREATE FUNCTION easyisp_refund_payment(payment uuid, reason text)
RETURNS void LANGUAGE plpgsql {DEFINER} AS $$
DECLARE p public.payments;
BEGIN
  SELECT * INTO p FROM public.payments WHERE id = payment FOR UPDATE;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'no such payment' USING ERRCODE = 'no_data_found';
  END IF;
  PERFORM public.easyisp_require('payments.refund', p.tenant_id);
  IF p.status <> 'COMPLETED' THEN
    RAISE EXCEPTION 'only a completed payment can be refunded (this one is %)', p.status
      USING ERRCODE = 'check_violation';
  END IF;
  IF coalesce(length(trim(reason)), 0) = 0 THEN
    RAISE EXCEPTION 'a refund needs a reason' USING ERRCODE = 'check_violation';
  END IF;
  UPDATE public.payments SET status = 'REFUNDED',
         description = coalesce(description || ' / ', '') || 'refunded: ' || reason
   WHERE id = payment;
  IF p.customer_id IS NOT NULL THEN
    -- Takes the money back out of the wallet; refused when it was already spent.
    INSERT INTO public.wallet_transactions (tenant_id, customer_id, amount, kind, payment_id,
                                            description, created_by)
    VALUES (p.tenant_id, p.customer_id, -p.amount, 'REFUND', p.id, 'Refund: ' || reason,
            public.easyisp_current_user_id());
  END IF;
END $$;

CREATE FUNCTION easyisp_adjust_wallet(customer uuid, in_amount numeric, reason text)
RETURNS numeric LANGUAGE plpgsql {DEFINER} AS $$
DECLARE
  c public.customers;
  new_balance numeric;
BEGIN
  SELECT * INTO c FROM public.customers WHERE id = customer;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'no such customer' USING ERRCODE = 'no_data_found';
  END IF;
  PERFORM public.easyisp_require('wallet.adjust', c.tenant_id);
  IF coalesce(length(trim(reason)), 0) = 0 THEN
    RAISE EXCEPTION 'an adjustment needs a reason' USING ERRCODE = 'check_violation';
  END IF;
  INSERT INTO public.wallet_transactions (tenant_id, customer_id, amount, kind, description,
                                          created_by)
  VALUES (c.tenant_id, c.id, in_amount, 'ADJUSTMENT', reason, public.easyisp_current_user_id())
  RETURNING balance_after INTO new_balance;
  RETURN new_balance;
END $$;

-- Charge the current package to the wallet and extend the expiry from the later of now and
-- the current expiry, in the tenant's time zone (calendar months clamp to the month's end).
CREATE FUNCTION easyisp_renew_from_wallet(customer uuid, at_time timestamptz DEFAULT now())
RETURNS timestamptz LANGUAGE plpgsql {DEFINER} AS $$
DECLARE
  c public.customers;
  pkg public.packages;
  tz text;
  start_at timestamptz;
  step interval;
  new_expiry timestamptz;
BEGIN
  SELECT * INTO c FROM public.customers WHERE id = customer FOR UPDATE;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'no such customer' USING ERRCODE = 'no_data_found';
  END IF;
  IF NOT (public.easyisp_is_operator() OR public.easyisp_is_service()
          OR public.easyisp_has_permission('payments.create')) THEN
    PERFORM public.easyisp_require('customers.write', c.tenant_id);
  END IF;
  PERFORM public.easyisp_require('customers.read', c.tenant_id, true);
  IF c.package_id IS NULL THEN
    RAISE EXCEPTION 'the customer has no package to renew' USING ERRCODE = 'check_violation';
  END IF;
  SELECT * INTO pkg FROM public.packages WHERE id = c.package_id;
  IF c.wallet_balance < pkg.price THEN
    RAISE EXCEPTION 'wallet balance % is less than the package price %', c.wallet_balance, pkg.price
      USING ERRCODE = 'check_violation', HINT = 'wallet_short';
  END IF;
  IF pkg.price > 0 THEN
    INSERT INTO public.wallet_transactions (tenant_id, customer_id, amount, kind, description,
                                            created_by)
    VALUES (c.tenant_id, c.id, -pkg.price, 'PACKAGE_PURCHASE', 'Renewal: ' || pkg.name,
            public.easyisp_current_user_id());
  END IF;
  SELECT coalesce(config->>'timezone', 'Africa/Nairobi') INTO tz
    FROM public.tenants WHERE id = c.tenant_id;
  start_at := greatest(at_time, coalesce(c.expires_at, at_time));
  step := CASE pkg.validity_unit
            WHEN 'MINUTES' THEN make_interval(mins => pkg.validity_value)
            WHEN 'HOURS' THEN make_interval(hours => pkg.validity_value)
            WHEN 'DAYS' THEN make_interval(days => pkg.validity_value)
            WHEN 'WEEKS' THEN make_interval(weeks => pkg.validity_value)
            ELSE make_interval(months => pkg.validity_value) END;
  IF pkg.validity_unit IN ('MINUTES', 'HOURS') THEN
    new_expiry := start_at + step;  -- exact durations, independent of the zone
  ELSE
    new_expiry := ((start_at AT TIME ZONE tz) + step) AT TIME ZONE tz;
  END IF;
  UPDATE public.customers
     SET expires_at = new_expiry,
         status = CASE WHEN status = 'EXPIRED' THEN 'ACTIVE'::customer_status ELSE status END
   WHERE id = c.id;
  RETURN new_expiry;
END $$;
"""

SECRETS_SQL = f"""
CREATE FUNCTION easyisp_reveal_customer_password(customer uuid) RETURNS bytea
LANGUAGE plpgsql {DEFINER} AS $$
DECLARE c public.customers;
BEGIN
  SELECT * INTO c FROM public.customers WHERE id = customer;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'no such customer' USING ERRCODE = 'no_data_found';
  END IF;
  PERFORM public.easyisp_require('customers.password.reveal', c.tenant_id, true);
  IF NOT public.easyisp_is_service() THEN
    INSERT INTO public.audit_logs (tenant_id, action, target_type, target_customer_id,
                                   target_label, details)
    VALUES (c.tenant_id, 'CUSTOMER_PASSWORD_REVEAL', 'CUSTOMER', c.id, c.username,
            'PPPoE password revealed');
  END IF;
  RETURN c.password_enc;
END $$;

CREATE FUNCTION easyisp_nas_secrets(router uuid, OUT secret_enc bytea, OUT api_password_enc bytea)
LANGUAGE plpgsql {DEFINER} AS $$
DECLARE n public.nas;
BEGIN
  SELECT * INTO n FROM public.nas WHERE id = router;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'no such router' USING ERRCODE = 'no_data_found';
  END IF;
  PERFORM public.easyisp_require('nas.secrets.read', n.tenant_id, true);
  IF NOT public.easyisp_is_service() THEN
    INSERT INTO public.audit_logs (tenant_id, action, target_type, target_nas_id, target_label,
                                   details)
    VALUES (n.tenant_id, 'NAS_SECRET_READ', 'NAS', n.id, n.name, 'router secrets read');
  END IF;
  secret_enc := n.secret_enc;
  api_password_enc := n.api_password_enc;
END $$;

CREATE FUNCTION easyisp_gateway_credentials(gateway_table text, gateway uuid) RETURNS bytea
LANGUAGE plpgsql {DEFINER} AS $$
DECLARE
  owner_tenant uuid;
  sealed bytea;
  label text;
BEGIN
  IF gateway_table NOT IN ('payment_gateways', 'sms_gateways') THEN
    RAISE EXCEPTION 'unknown gateway table %', gateway_table;
  END IF;
  EXECUTE format('SELECT tenant_id, credentials_enc, name FROM public.%I WHERE id = $1',
                 gateway_table)
     INTO owner_tenant, sealed, label USING gateway;
  IF owner_tenant IS NULL THEN
    RAISE EXCEPTION 'no such gateway' USING ERRCODE = 'no_data_found';
  END IF;
  PERFORM public.easyisp_require('gateways.write', owner_tenant, true);
  IF NOT public.easyisp_is_service() THEN
    INSERT INTO public.audit_logs (tenant_id, action, target_type, target_label, details)
    VALUES (owner_tenant, 'GATEWAY_CREDENTIALS_READ',
            CASE gateway_table WHEN 'payment_gateways' THEN 'PAYMENT_GATEWAY'
                               ELSE 'SMS_GATEWAY' END::audit_target_type,
            label, 'gateway credentials read');
  END IF;
  RETURN sealed;
END $$;
"""

AUDIT_SQL = f"""
ALTER TABLE audit_logs ADD COLUMN seq bigint;
ALTER TABLE audit_logs ADD COLUMN prev_hash bytea;
ALTER TABLE audit_logs ADD COLUMN row_hash bytea;
ALTER TABLE audit_logs ADD CONSTRAINT uq_audit_logs_tenant_id_seq UNIQUE (tenant_id, seq);
ALTER TABLE audit_logs DROP CONSTRAINT fk_audit_logs_user_id_users;
-- Staff are never hard-deleted (status DELETED), so the actor link is kept for good.
ALTER TABLE audit_logs ADD CONSTRAINT fk_audit_logs_user_id_users FOREIGN KEY (user_id)
  REFERENCES users (id) ON DELETE RESTRICT;

-- The text that each row's hash covers. Target foreign keys are left out on purpose: the
-- database nulls them when a target is deleted; target_type and target_label stay.
CREATE FUNCTION easyisp_audit_digest_input(a public.audit_logs) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
  SELECT concat_ws(E'\\x1f', a.tenant_id::text, a.seq::text, encode(a.prev_hash, 'hex'),
                   coalesce(a.user_id::text, ''), a.actor, a.action,
                   coalesce(a.target_type::text, ''), coalesce(a.target_label, ''),
                   coalesce(a.details, ''), coalesce(a.before::text, ''),
                   coalesce(a.after::text, ''), coalesce(host(a.client_addr), ''),
                   to_char(a.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US'))
$$;

CREATE FUNCTION easyisp_audit_chain() RETURNS trigger LANGUAGE plpgsql {DEFINER} AS $$
DECLARE last record;
BEGIN
  -- One writer per tenant at a time, so seq has no gaps and each row links to the one before.
  PERFORM pg_advisory_xact_lock(735560, hashtext(NEW.tenant_id::text));
  SELECT seq, row_hash INTO last FROM public.audit_logs
   WHERE tenant_id = NEW.tenant_id ORDER BY seq DESC LIMIT 1;
  NEW.seq := coalesce(last.seq, 0) + 1;
  NEW.prev_hash := coalesce(last.row_hash, ''::bytea);
  -- Who and from where are facts of the connection, not values the writer may choose.
  NEW.user_id := public.easyisp_current_user_id();
  NEW.actor := session_user;
  NEW.client_addr := inet_client_addr();
  NEW.created_at := now();
  NEW.row_hash := sha256(convert_to(public.easyisp_audit_digest_input(NEW), 'UTF8'));
  RETURN NEW;
END $$;

CREATE FUNCTION easyisp_audit_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  -- The one change allowed: a referential action nulling the link to a deleted target.
  IF TG_OP = 'UPDATE' AND (to_jsonb(NEW) - ARRAY[{", ".join(f"'{c}'" for c in AUDIT_TARGET_COLUMNS)}])
                        = (to_jsonb(OLD) - ARRAY[{", ".join(f"'{c}'" for c in AUDIT_TARGET_COLUMNS)}])
     AND pg_trigger_depth() > 1 THEN
    RETURN NEW;
  END IF;
  RAISE EXCEPTION 'audit rows cannot be changed or deleted' USING ERRCODE = 'insufficient_privilege';
END $$;

CREATE TRIGGER audit_logs_chain BEFORE INSERT ON audit_logs
  FOR EACH ROW EXECUTE FUNCTION easyisp_audit_chain();
CREATE TRIGGER audit_logs_immutable BEFORE UPDATE OR DELETE ON audit_logs
  FOR EACH ROW EXECUTE FUNCTION easyisp_audit_immutable();
CREATE TRIGGER audit_logs_no_truncate BEFORE TRUNCATE ON audit_logs
  FOR EACH STATEMENT EXECUTE FUNCTION easyisp_audit_immutable();

CREATE FUNCTION easyisp_audit_action(entity text, op text, old_values jsonb, new_values jsonb)
RETURNS text LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
  IF op = 'INSERT' THEN RETURN entity || '_CREATE'; END IF;
  IF op = 'DELETE' THEN RETURN entity || '_DELETE'; END IF;
  IF entity = 'CUSTOMER' THEN
    IF new_values ? 'status' AND new_values->>'status' = 'SUSPENDED' THEN RETURN 'CUSTOMER_SUSPEND'; END IF;
    IF new_values ? 'status' AND old_values->>'status' = 'SUSPENDED' THEN RETURN 'CUSTOMER_REACTIVATE'; END IF;
    IF new_values ? 'package_id' THEN RETURN 'CUSTOMER_PACKAGE_CHANGE'; END IF;
    IF new_values ? 'mac_address' AND new_values->>'mac_address' IS NULL THEN RETURN 'CUSTOMER_MAC_RESET'; END IF;
    IF new_values ? 'expires_at' AND (SELECT count(*) FROM jsonb_object_keys(new_values)) <= 2 THEN
      RETURN 'CUSTOMER_RENEW';
    END IF;
  ELSIF entity = 'PAYMENT' AND new_values->>'status' = 'REFUNDED' THEN
    RETURN 'PAYMENT_REFUND';
  ELSIF entity = 'STAFF' THEN
    IF new_values ? 'added_permissions' OR new_values ? 'removed_permissions' THEN
      RETURN 'STAFF_PERMISSION_CHANGE';
    END IF;
    IF new_values ? 'role' THEN RETURN 'STAFF_ROLE_CHANGE'; END IF;
    IF new_values->>'status' = 'SUSPENDED' THEN RETURN 'STAFF_SUSPEND'; END IF;
    IF new_values->>'status' = 'DELETED' THEN RETURN 'STAFF_DELETE'; END IF;
    IF new_values->>'status' = 'ACTIVE' THEN RETURN 'STAFF_REACTIVATE'; END IF;
  ELSIF entity = 'TENANT' THEN
    IF new_values ? 'config' THEN RETURN 'TENANT_SETTINGS_CHANGE'; END IF;
    IF new_values ? 'status' THEN RETURN 'TENANT_STATUS_CHANGE'; END IF;
  END IF;
  RETURN entity || '_UPDATE';
END $$;

-- AFTER ROW trigger on every business table: args are entity, target_type, audit FK column
-- ('' for none), the row's column holding the target id, then columns whose changes alone
-- are operational noise (heartbeats, counters) and not audited.
CREATE FUNCTION easyisp_audit_row() RETURNS trigger LANGUAGE plpgsql {DEFINER} AS $$
DECLARE
  entity text := TG_ARGV[0];
  target_type text := TG_ARGV[1];
  fk_column text := TG_ARGV[2];
  id_column text := TG_ARGV[3];
  ignored text[] := '{{}}';
  old_row jsonb;
  new_row jsonb;
  v_before jsonb;
  v_after jsonb;
  changed text[];
  tenant uuid;
  target text;
  label text;
  i integer;
BEGIN
  -- Bulk loads by the database superuser (the demo) write one summary row instead.
  IF current_setting('easyisp.bulk_load', true) = 'on'
     AND (SELECT rolsuper FROM pg_roles WHERE rolname = session_user) THEN
    RETURN NULL;
  END IF;
  FOR i IN 4 .. TG_NARGS - 1 LOOP
    ignored := ignored || TG_ARGV[i];
  END LOOP;
  IF TG_OP <> 'INSERT' THEN
    old_row := to_jsonb(OLD) - 'search';
  END IF;
  IF TG_OP <> 'DELETE' THEN
    new_row := to_jsonb(NEW) - 'search';
  END IF;
  IF TG_OP = 'UPDATE' THEN
    SELECT array_agg(key) INTO changed FROM jsonb_each(new_row) AS n(key, value)
     WHERE n.value IS DISTINCT FROM old_row->n.key AND NOT n.key = ANY (ignored);
    IF changed IS NULL THEN
      RETURN NULL;
    END IF;
    SELECT jsonb_object_agg(key, old_row->key), jsonb_object_agg(key, new_row->key)
      INTO v_before, v_after FROM unnest(changed) AS key;
  ELSE
    v_before := old_row;
    v_after := new_row;
  END IF;
  -- Secrets are never copied into the audit trail; only the fact that they changed.
  SELECT jsonb_object_agg(key, CASE WHEN key ~ '_enc$' AND value <> 'null' THEN '"[secret]"'::jsonb
                                    ELSE value END)
    INTO v_before FROM jsonb_each(v_before);
  SELECT jsonb_object_agg(key, CASE WHEN key ~ '_enc$' AND value <> 'null' THEN '"[secret]"'::jsonb
                                    ELSE value END)
    INTO v_after FROM jsonb_each(v_after);
  tenant := coalesce(new_row->>'tenant_id', old_row->>'tenant_id')::uuid;
  IF TG_TABLE_NAME = 'tenants' THEN
    tenant := coalesce(new_row->>'id', old_row->>'id')::uuid;
  END IF;
  target := coalesce(new_row->>id_column, old_row->>id_column);
  label := left(coalesce(new_row->>'username', new_row->>'name', new_row->>'code',
                         new_row->>'invoice_no', new_row->>'transaction_id',
                         new_row->>'description', old_row->>'username', old_row->>'name',
                         old_row->>'code', old_row->>'invoice_no', old_row->>'description',
                         target), 200);
  IF TG_TABLE_NAME = 'wallet_transactions' THEN
    label := (SELECT username FROM public.customers WHERE id = target::uuid);
  END IF;
  -- A deleted row cannot be pointed at; the label and the before-image keep the history.
  IF TG_OP = 'DELETE' AND id_column = 'id' THEN
    fk_column := '';
  END IF;
  IF fk_column = '' THEN
    INSERT INTO public.audit_logs (tenant_id, action, target_type, target_label, before, after)
    VALUES (tenant, public.easyisp_audit_action(entity, TG_OP, v_before, v_after),
            target_type::audit_target_type, label, v_before, v_after);
  ELSE
    EXECUTE format('INSERT INTO public.audit_logs (tenant_id, action, target_type, target_label, '
                   'before, after, %I) VALUES ($1, $2, $3::audit_target_type, $4, $5, $6, $7)',
                   fk_column)
      USING tenant, public.easyisp_audit_action(entity, TG_OP, v_before, v_after), target_type,
            label, v_before, v_after, target::uuid;
  END IF;
  RETURN NULL;
END $$;
"""

TENANT_GUARD_SQL = f"""
CREATE FUNCTION easyisp_tenant_status_guard() RETURNS trigger LANGUAGE plpgsql {DEFINER} AS $$
BEGIN
  IF NEW.status IS DISTINCT FROM OLD.status AND NOT public.easyisp_is_operator()
     AND NOT public.easyisp_has_permission('tenants.manage') THEN
    RAISE EXCEPTION 'permission denied: only a super admin changes a tenant''s status'
      USING ERRCODE = 'insufficient_privilege';
  END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER tenants_status_guard BEFORE UPDATE OF status ON tenants
  FOR EACH ROW EXECUTE FUNCTION easyisp_tenant_status_guard();
"""


def _has(permission: str) -> str:
    return f"(SELECT easyisp_has_permission('{permission}'))"


TENANT_SCOPE = (
    "(tenant_id = (SELECT easyisp_current_tenant()) OR "
    "(SELECT easyisp_has_permission('tenants.manage')))"
)


def _grant_columns(table: str, privilege: str, role: str, exclude_regex: str) -> str:
    return f"""
DO $$ DECLARE cols text; BEGIN
  SELECT string_agg(quote_ident(column_name), ', ' ORDER BY ordinal_position) INTO cols
    FROM information_schema.columns
   WHERE table_schema = current_schema() AND table_name = '{table}'
     AND column_name !~ '{exclude_regex}';
  EXECUTE format('GRANT {privilege} (%s) ON {table} TO {role}', cols);
END $$;"""


def _policies_and_grants() -> list[str]:
    sql: list[str] = [
        "REVOKE ALL ON ALL TABLES IN SCHEMA public FROM PUBLIC",
        # PostgreSQL 14 still lets everyone create objects in public; staff must not.
        "REVOKE CREATE ON SCHEMA public FROM PUBLIC",
        f"GRANT USAGE ON SCHEMA public TO {STAFF}, {SERVICE}",
        f"GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO {STAFF}, {SERVICE}",
        f"GRANT SELECT ON permissions, role_permissions, service_heartbeats TO {STAFF}, {SERVICE}",
        # Both apps refuse to run against a schema revision they do not know.
        f"GRANT SELECT ON alembic_version TO {STAFF}, {SERVICE}",
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON service_heartbeats TO {SERVICE}",
    ]
    not_updatable = "|".join(sorted(NOT_UPDATABLE))
    for table, (read, insert, update, delete) in TABLE_PERMISSIONS.items():
        sql.append(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
        sql.append(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
        sql.append(
            f"CREATE POLICY staff_tenant ON {table} AS PERMISSIVE FOR ALL TO {STAFF} "
            f"USING {TENANT_SCOPE} WITH CHECK {TENANT_SCOPE}"
        )
        sql.append(
            f"CREATE POLICY site_service ON {table} AS PERMISSIVE FOR ALL TO {SERVICE} "
            "USING (true) WITH CHECK (true)"
        )
        # Secret columns (*_enc) are never selectable by staff: reveal functions only.
        sql.append(_grant_columns(table, "SELECT", STAFF, "_enc$"))
        sql.append(
            f"CREATE POLICY staff_select ON {table} AS RESTRICTIVE FOR SELECT TO {STAFF} "
            f"USING ({_has(read or '')})"  # every table has a read permission
        )
        if insert:
            sql.append(f"GRANT INSERT ON {table} TO {STAFF}")
            sql.append(
                f"CREATE POLICY staff_insert ON {table} AS RESTRICTIVE FOR INSERT TO {STAFF} "
                f"WITH CHECK ({_has(insert)})"
            )
        if update:
            sql.append(_grant_columns(table, "UPDATE", STAFF, f"^({not_updatable})$"))
            sql.append(
                f"CREATE POLICY staff_update ON {table} AS RESTRICTIVE FOR UPDATE TO {STAFF} "
                f"USING ({_has(update)}) WITH CHECK ({_has(update)})"
            )
        if delete:
            sql.append(f"GRANT DELETE ON {table} TO {STAFF}")
            sql.append(
                f"CREATE POLICY staff_delete ON {table} AS RESTRICTIVE FOR DELETE TO {STAFF} "
                f"USING ({_has(delete)})"
            )
    for table in [*FUNCTION_ONLY_TABLES, "users", "tenants"]:
        sql.append(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
        sql.append(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
    # Staff see their own tenant's staff with staff.read, and always their own row.
    sql.append(f"GRANT SELECT ON users TO {STAFF}")
    sql.append(
        f"CREATE POLICY staff_select ON users FOR SELECT TO {STAFF} USING ("
        f"username = session_user OR ({TENANT_SCOPE} AND {_has('staff.read')}))"
    )
    # Tenants: one's own; super admins manage them all. Never deleted (their audit trail
    # refers to them): a tenant is SUSPENDED instead.
    sql.append(f"GRANT SELECT, INSERT ON tenants TO {STAFF}")
    sql.append(f"GRANT UPDATE (display_name, status, config) ON tenants TO {STAFF}")
    sql.append(
        f"CREATE POLICY staff_select ON tenants FOR SELECT TO {STAFF} USING ("
        f"id = (SELECT easyisp_current_tenant()) OR {_has('tenants.manage')})"
    )
    sql.append(
        f"CREATE POLICY staff_insert ON tenants FOR INSERT TO {STAFF} "
        f"WITH CHECK ({_has('tenants.manage')})"
    )
    own_settings = f"(id = (SELECT easyisp_current_tenant()) AND {_has('settings.write')})"
    sql.append(
        f"CREATE POLICY staff_update ON tenants FOR UPDATE TO {STAFF} "
        f"USING ({own_settings} OR {_has('tenants.manage')}) "
        f"WITH CHECK ({own_settings} OR {_has('tenants.manage')})"
    )
    sql.append(f"GRANT SELECT ON tenants TO {SERVICE}")
    sql.append(f"CREATE POLICY site_service ON tenants FOR SELECT TO {SERVICE} USING (true)")
    # The site service: every tenant, but no staff data and no audit rows of its own.
    for table in TABLE_PERMISSIONS:
        if table != "audit_logs":
            sql.append(f"GRANT SELECT ON {table} TO {SERVICE}")
    for table, verbs in SERVICE_WRITES.items():
        sql.append(f"GRANT {verbs} ON {table} TO {SERVICE}")
    return sql


FUNCTION_GRANTS = [
    f"REVOKE EXECUTE ON FUNCTION {name} FROM PUBLIC"
    for name in [
        "easyisp_current_user_id()",
        "easyisp_current_tenant()",
        "easyisp_is_operator()",
        "easyisp_is_service()",
        "easyisp_has_permission(text)",
        "easyisp_my_permissions()",
        "easyisp_require(text, uuid, boolean)",
        "easyisp_next_number(uuid, text, integer)",
        "easyisp_require_staff_manager(uuid, staff_role)",
        "easyisp_create_staff(uuid, text, text, staff_role, text, text, text)",
        "easyisp_staff_target(uuid)",
        "easyisp_set_staff_status(uuid, user_status)",
        "easyisp_set_staff_role(uuid, staff_role)",
        "easyisp_set_staff_permissions(uuid, text[], text[])",
        "easyisp_set_staff_password(uuid, text)",
        "easyisp_record_payment(uuid, numeric, payment_method, text, text)",
        "easyisp_refund_payment(uuid, text)",
        "easyisp_adjust_wallet(uuid, numeric, text)",
        "easyisp_renew_from_wallet(uuid, timestamptz)",
        "easyisp_reveal_customer_password(uuid)",
        "easyisp_nas_secrets(uuid)",
        "easyisp_gateway_credentials(text, uuid)",
        "easyisp_ensure_partitions(regclass, integer, date)",
        "easyisp_detach_partitions_before(regclass, date)",
    ]
] + [
    # Policies call these as the querying role, so both roles need them.
    f"GRANT EXECUTE ON FUNCTION easyisp_current_user_id(), easyisp_current_tenant(), "
    f"easyisp_is_operator(), easyisp_is_service(), easyisp_has_permission(text), "
    f"easyisp_my_permissions(), easyisp_next_number(uuid, text, integer), "
    f"easyisp_reveal_customer_password(uuid), easyisp_nas_secrets(uuid), "
    f"easyisp_gateway_credentials(text, uuid), "
    f"easyisp_record_payment(uuid, numeric, payment_method, text, text), "
    f"easyisp_renew_from_wallet(uuid, timestamptz) TO {STAFF}, {SERVICE}",
    f"GRANT EXECUTE ON FUNCTION "
    f"easyisp_create_staff(uuid, text, text, staff_role, text, text, text), "
    f"easyisp_set_staff_status(uuid, user_status), easyisp_set_staff_role(uuid, staff_role), "
    f"easyisp_set_staff_permissions(uuid, text[], text[]), "
    f"easyisp_set_staff_password(uuid, text), easyisp_refund_payment(uuid, text), "
    f"easyisp_adjust_wallet(uuid, numeric, text) TO {STAFF}",
    f"GRANT EXECUTE ON FUNCTION easyisp_ensure_partitions(regclass, integer, date) TO {SERVICE}",
]

# Existing functions that must run with the owner's rights once RLS and grants are in place.
DEFINER_UPGRADES = [
    "easyisp_wallet_apply()",
    "easyisp_ensure_partitions(regclass, integer, date)",
    "easyisp_detach_partitions_before(regclass, date)",
]


def upgrade() -> None:
    op.execute(ROLES_SQL)
    op.execute(CATALOG_SQL)
    op.execute(
        "INSERT INTO permissions (name, description) VALUES "
        + ", ".join(f"('{n}', '{d.replace(chr(39), chr(39) * 2)}')" for n, d in PERMISSIONS.items())
    )
    op.execute(
        "INSERT INTO role_permissions (role, permission) VALUES "
        + ", ".join(
            f"('{role}', '{perm}')"
            for role, perms in ROLE_DEFAULTS.items()
            for perm in sorted(perms)
        )
    )
    op.execute(
        "ALTER TABLE users ADD CONSTRAINT ck_users_username_not_reserved CHECK ("
        "username !~ '^(pg_|easyisp_)' AND username NOT IN "
        "('postgres', 'public', 'none', 'current_user', 'session_user', 'current_role'))"
    )
    op.execute(IDENTITY_SQL)
    op.execute(STAFF_SQL)
    op.execute(MONEY_SQL)
    op.execute(AUDIT_SQL)
    op.execute(SECRETS_SQL)
    op.execute(TENANT_GUARD_SQL)
    for table, (entity, target_type, fk, id_col, ignored) in AUDITED.items():
        args = ", ".join(f"'{a}'" for a in [entity, target_type, fk, id_col, *ignored])
        op.execute(
            f"CREATE TRIGGER {table}_audit AFTER INSERT OR UPDATE OR DELETE ON {table} "
            f"FOR EACH ROW EXECUTE FUNCTION easyisp_audit_row({args})"
        )
    for function in DEFINER_UPGRADES:
        op.execute(
            # public first: these create and name tables without a schema. Nobody but the
            # owner can create objects in public, so nothing can shadow pg_catalog there.
            f"ALTER FUNCTION {function} SECURITY DEFINER "
            "SET search_path = public, pg_catalog, pg_temp"
        )
    for statement in _policies_and_grants():
        op.execute(statement)
    for statement in FUNCTION_GRANTS:
        op.execute(statement)


def downgrade() -> None:
    for function in DEFINER_UPGRADES:
        op.execute(f"ALTER FUNCTION {function} SECURITY INVOKER RESET search_path")
    tables = [*TABLE_PERMISSIONS, *FUNCTION_ONLY_TABLES, "users", "tenants"]
    for table in tables:
        op.execute(f"ALTER TABLE {table} NO FORCE ROW LEVEL SECURITY")
        op.execute(f"ALTER TABLE {table} DISABLE ROW LEVEL SECURITY")
        for policy in (
            "staff_tenant",
            "site_service",
            "staff_select",
            "staff_insert",
            "staff_update",
            "staff_delete",
        ):
            op.execute(f"DROP POLICY IF EXISTS {policy} ON {table}")
    for role in [STAFF, SERVICE]:
        op.execute(
            f"DO $$ BEGIN IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{role}') THEN "
            f"EXECUTE 'REVOKE ALL ON ALL TABLES IN SCHEMA public FROM {role}'; "
            f"EXECUTE 'REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM {role}'; "
            f"EXECUTE 'REVOKE ALL ON ALL FUNCTIONS IN SCHEMA public FROM {role}'; "
            f"EXECUTE 'REVOKE USAGE ON SCHEMA public FROM {role}'; END IF; END $$"
        )
    for table in AUDITED:
        op.execute(f"DROP TRIGGER {table}_audit ON {table}")
    op.execute("DROP TRIGGER tenants_status_guard ON tenants")
    op.execute("DROP TRIGGER audit_logs_chain ON audit_logs")
    op.execute("DROP TRIGGER audit_logs_immutable ON audit_logs")
    op.execute("DROP TRIGGER audit_logs_no_truncate ON audit_logs")
    for function in [
        "easyisp_tenant_status_guard()",
        "easyisp_audit_row()",
        "easyisp_audit_action(text, text, jsonb, jsonb)",
        "easyisp_audit_immutable()",
        "easyisp_audit_chain()",
        "easyisp_audit_digest_input(audit_logs)",
        "easyisp_gateway_credentials(text, uuid)",
        "easyisp_nas_secrets(uuid)",
        "easyisp_reveal_customer_password(uuid)",
        "easyisp_renew_from_wallet(uuid, timestamptz)",
        "easyisp_adjust_wallet(uuid, numeric, text)",
        "easyisp_refund_payment(uuid, text)",
        "easyisp_record_payment(uuid, numeric, payment_method, text, text)",
        "easyisp_set_staff_password(uuid, text)",
        "easyisp_set_staff_permissions(uuid, text[], text[])",
        "easyisp_set_staff_role(uuid, staff_role)",
        "easyisp_set_staff_status(uuid, user_status)",
        "easyisp_staff_target(uuid)",
        "easyisp_create_staff(uuid, text, text, staff_role, text, text, text)",
        "easyisp_check_verifier(text)",
        "easyisp_require_staff_manager(uuid, staff_role)",
        "easyisp_group_for(staff_role)",
        "easyisp_next_number(uuid, text, integer)",
        "easyisp_require(text, uuid, boolean)",
        "easyisp_my_permissions()",
        "easyisp_has_permission(text)",
        "easyisp_is_service()",
        "easyisp_is_operator()",
        "easyisp_current_tenant()",
        "easyisp_current_user_id()",
    ]:
        op.execute(f"DROP FUNCTION {function}")
    op.execute("ALTER TABLE audit_logs DROP CONSTRAINT fk_audit_logs_user_id_users")
    op.execute(
        "ALTER TABLE audit_logs ADD CONSTRAINT fk_audit_logs_user_id_users FOREIGN KEY (user_id) "
        "REFERENCES users (id) ON DELETE SET NULL"
    )
    op.execute("ALTER TABLE audit_logs DROP CONSTRAINT uq_audit_logs_tenant_id_seq")
    for column in ("seq", "prev_hash", "row_hash"):
        op.execute(f"ALTER TABLE audit_logs DROP COLUMN {column}")
    op.execute("ALTER TABLE users DROP CONSTRAINT ck_users_username_not_reserved")
    op.execute("DROP TABLE role_permissions")
    op.execute("DROP TABLE permissions")
