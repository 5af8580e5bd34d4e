"""FreeRADIUS-compatible views, and NOTIFY on subscriber changes for the RADIUS fast path.

FreeRADIUS views (schema `freeradius`, because our own routers table is already `nas`): an
ISP that runs FreeRADIUS 3 with rlm_sql (postgresql driver) points it at this database with
`search_path=freeradius` and the stock queries work: `radcheck`, `radreply`, `radusergroup`,
`radgroupcheck`, `radgroupreply`, `radacct` (read-only, over `sessions`) and `nas`.
They are SECURITY INVOKER views read through the group role `easyisp_freeradius` (all
tenants, SELECT only, and only the columns the views need: no `*_enc` column).

Passwords and shared secrets are AES-GCM encrypted with the site key, which never enters
the database and pgcrypto is not available, so no view can decrypt them. FreeRADIUS needs
Cleartext-Password for PAP/CHAP/MS-CHAP, so the views read two plain tables,
`freeradius.customer_passwords` and `freeradius.nas_secrets`, which are EMPTY unless the
operator fills them (the benchmark's script does, from the site key). Trade-off: whoever
fills them keeps cleartext credentials at rest in the database (readable by the owner and
easyisp_freeradius only, and stale until refilled); our own server never needs them.
Usernames are unique per tenant, not globally: the views carry `tenant_id` so a
multi-tenant FreeRADIUS can filter its queries per NAS; the stock queries cannot.

NOTIFY: every change to customers, packages, nas and vouchers sends `easyisp_subscribers`
a small JSON payload {"table", "tenant", "id"} so the site service's in-memory subscriber
cache is current within a second. A statement touching more than 100 rows (a bulk load)
sends one notification per tenant with "id": null, meaning "reload that tenant's table".
A session opening (an INSERT into `sessions` with no stop time) sends
{"table": "sessions", "tenant", "username"}: the cache's list of who may be online, so a
login asks the database for its open-session count only when the user may have one.

Revision ID: 20261125_0007
Revises: 20261125_0006
Create Date: 2026-11-25 14:30:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "20261125_0007"
down_revision: str | None = "20261125_0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FREERADIUS = "easyisp_freeradius"
CHANNEL = "easyisp_subscribers"
NOTIFIED_TABLES = ["customers", "packages", "nas", "vouchers"]
BULK_ROWS = 100

# Columns of our tables the views read, granted to FREERADIUS (nothing else is).
READ_COLUMNS = {
    "customers": "id, tenant_id, username, status, package_id, static_ip, expires_at",
    "packages": (
        "id, tenant_id, name, download_speed, upload_speed, burst_download, burst_upload, "
        "burst_threshold_download, burst_threshold_upload, burst_time, priority, shared_users, "
        "session_time, address_pool"
    ),
    "nas": "id, tenant_id, name, ip_address, description",
    "sessions": (
        "id, tenant_id, started_at, username, session_id, unique_session_id, nas_id, "
        "nas_port_id, service_type, framed_ip, calling_station_id, called_station_id, "
        "input_octets, output_octets, session_time, last_update_at, stopped_at, "
        "terminate_cause, class_value"
    ),
}

ROLE_SQL = f"""
DO $$ BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{FREERADIUS}') THEN
    CREATE ROLE {FREERADIUS} NOLOGIN;
  END IF;
END $$;
"""

# Mikrotik-Rate-Limit exactly as rules.rate_limit.build_rate_limit writes it: rx/tx from the
# router's side (upload/download), "M"/"k" only for whole multiples (RouterOS has no "1.5M").
RATE_FUNCTION_SQL = """
CREATE FUNCTION freeradius.rate(mbps numeric) RETURNS text
  LANGUAGE sql IMMUTABLE STRICT AS $$
  SELECT CASE WHEN b = 0 THEN '0'
              WHEN b % 1000000 = 0 THEN (b / 1000000)::text || 'M'
              WHEN b % 1000 = 0 THEN (b / 1000)::text || 'k'
              ELSE b::text END
    FROM (SELECT (mbps * 1000000)::bigint AS b) AS bits
$$;
"""
_RATE = """
  freeradius.rate(p.upload_speed) || '/' || freeradius.rate(p.download_speed) ||
  CASE WHEN p.burst_download IS NOT NULL THEN
    ' ' || freeradius.rate(p.burst_upload) || '/' || freeradius.rate(p.burst_download) ||
    ' ' || freeradius.rate(p.burst_threshold_upload) || '/' ||
    freeradius.rate(p.burst_threshold_download) ||
    ' ' || p.burst_time || '/' || p.burst_time || ' ' || p.priority
  WHEN p.priority <> 8 THEN ' 0/0 0/0 0/0 ' || p.priority
  ELSE '' END
"""

# FreeRADIUS wants an integer id per row; a window function would number the whole table on
# every lookup, so the id is a hash of the row's key (stable, and the username index is used).
_ROW_ID = "(hashtextextended({key}, 0) & 9223372036854775807)"

# A package's FreeRADIUS group name must be unique across tenants.
_GROUP = "p.name || '@' || p.tenant_id"

VIEWS = {
    "radcheck": f"""
SELECT {_ROW_ID.format(key="c.id::text || x.attribute")} AS id, c.tenant_id,
       c.username, x.attribute, x.op, x.value
  FROM public.customers c
  LEFT JOIN freeradius.customer_passwords pw ON pw.customer_id = c.id
  CROSS JOIN LATERAL (VALUES
    ('Cleartext-Password', ':=', pw.password),
    ('Auth-Type', ':=', CASE WHEN c.status::text <> 'ACTIVE'
                               OR c.expires_at <= now() THEN 'Reject' END)
  ) AS x(attribute, op, value)
 WHERE x.value IS NOT NULL""",
    "radreply": f"""
SELECT {_ROW_ID.format(key="c.id::text")} AS id, c.tenant_id, c.username, 'Framed-IP-Address'::text AS attribute,
       ':='::text AS op, host(c.static_ip) AS value
  FROM public.customers c
 WHERE c.static_ip IS NOT NULL""",
    "radusergroup": f"""
SELECT c.tenant_id, c.username, {_GROUP} AS groupname, 1 AS priority
  FROM public.customers c JOIN public.packages p ON p.id = c.package_id""",
    "radgroupcheck": f"""
SELECT row_number() OVER (ORDER BY p.id)::bigint AS id, p.tenant_id, {_GROUP} AS groupname,
       'Simultaneous-Use'::text AS attribute, ':='::text AS op,
       p.shared_users::text AS value
  FROM public.packages p""",
    "radgroupreply": f"""
SELECT row_number() OVER (ORDER BY p.id, x.attribute)::bigint AS id, p.tenant_id,
       {_GROUP} AS groupname, x.attribute, x.op, x.value
  FROM public.packages p
  CROSS JOIN LATERAL (VALUES
    ('Mikrotik-Rate-Limit', ':=', {_RATE}),
    ('Session-Timeout', ':=', p.session_time::text),
    ('Framed-Pool', ':=', p.address_pool),
    ('Acct-Interim-Interval', ':=', '300')
  ) AS x(attribute, op, value)
 WHERE x.value IS NOT NULL""",
    "radacct": """
SELECT s.id AS radacctid, s.tenant_id, s.session_id::text AS acctsessionid,
       coalesce(s.unique_session_id, s.session_id)::text AS acctuniqueid,
       s.username::text AS username, NULL::text AS realm, host(n.ip_address) AS nasipaddress,
       s.nas_port_id::text AS nasportid, s.service_type::text AS nasporttype,
       s.started_at AS acctstarttime, s.last_update_at AS acctupdatetime,
       s.stopped_at AS acctstoptime, s.session_time::bigint AS acctsessiontime,
       NULL::text AS acctauthentic, NULL::text AS connectinfo_start,
       NULL::text AS connectinfo_stop, s.input_octets AS acctinputoctets,
       s.output_octets AS acctoutputoctets, s.called_station_id::text AS calledstationid,
       s.calling_station_id::text AS callingstationid,
       s.terminate_cause::text AS acctterminatecause, NULL::text AS servicetype,
       NULL::text AS framedprotocol, s.framed_ip AS framedipaddress, s.class_value AS class
  FROM public.sessions s LEFT JOIN public.nas n ON n.id = s.nas_id""",
    "nas": """
SELECT row_number() OVER (ORDER BY n.id)::bigint AS id, n.tenant_id,
       host(n.ip_address) AS nasname, n.name::text AS shortname, 'other'::text AS type,
       NULL::integer AS ports, s.secret, NULL::text AS server, NULL::text AS community,
       coalesce(n.description, n.name)::text AS description
  FROM public.nas n JOIN freeradius.nas_secrets s ON s.nas_id = n.id""",
}

TABLES_SQL = f"""
CREATE SCHEMA freeradius;
CREATE TABLE freeradius.customer_passwords (
  customer_id uuid PRIMARY KEY REFERENCES public.customers (id) ON DELETE CASCADE,
  tenant_id uuid NOT NULL REFERENCES public.tenants (id) ON DELETE CASCADE,
  password text NOT NULL
);
CREATE TABLE freeradius.nas_secrets (
  nas_id uuid PRIMARY KEY REFERENCES public.nas (id) ON DELETE CASCADE,
  tenant_id uuid NOT NULL REFERENCES public.tenants (id) ON DELETE CASCADE,
  secret text NOT NULL
);
REVOKE ALL ON SCHEMA freeradius FROM PUBLIC;
GRANT USAGE ON SCHEMA freeradius TO {FREERADIUS};
"""

NOTIFY_SQL = f"""
CREATE FUNCTION easyisp_notify_subscribers() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  changed bigint;
  r record;
BEGIN
  IF TG_OP = 'DELETE' THEN
    SELECT count(*) INTO changed FROM old_rows;
  ELSE
    SELECT count(*) INTO changed FROM new_rows;
  END IF;
  IF changed > {BULK_ROWS} THEN
    -- A bulk load: one "reload this tenant's table" per tenant, not a flood.
    FOR r IN EXECUTE format('SELECT DISTINCT tenant_id FROM %I',
                            CASE WHEN TG_OP = 'DELETE' THEN 'old_rows' ELSE 'new_rows' END)
    LOOP
      PERFORM pg_notify('{CHANNEL}', json_build_object(
        'table', TG_TABLE_NAME, 'tenant', r.tenant_id, 'id', NULL)::text);
    END LOOP;
    RETURN NULL;
  END IF;
  IF TG_OP = 'DELETE' THEN
    FOR r IN SELECT tenant_id, id FROM old_rows LOOP
      PERFORM pg_notify('{CHANNEL}', json_build_object(
        'table', TG_TABLE_NAME, 'tenant', r.tenant_id, 'id', r.id)::text);
    END LOOP;
  ELSE
    FOR r IN SELECT tenant_id, id FROM new_rows LOOP
      PERFORM pg_notify('{CHANNEL}', json_build_object(
        'table', TG_TABLE_NAME, 'tenant', r.tenant_id, 'id', r.id)::text);
    END LOOP;
  END IF;
  RETURN NULL;
END $$;
"""

SESSIONS_NOTIFY_SQL = f"""
CREATE FUNCTION easyisp_notify_sessions_opened() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  changed bigint;
  r record;
BEGIN
  SELECT count(*) INTO changed FROM new_rows WHERE stopped_at IS NULL;
  IF changed > {BULK_ROWS} THEN
    FOR r IN SELECT DISTINCT tenant_id FROM new_rows WHERE stopped_at IS NULL LOOP
      PERFORM pg_notify('{CHANNEL}', json_build_object(
        'table', 'sessions', 'tenant', r.tenant_id, 'username', NULL)::text);
    END LOOP;
  ELSIF changed > 0 THEN
    FOR r IN SELECT DISTINCT tenant_id, username FROM new_rows WHERE stopped_at IS NULL LOOP
      PERFORM pg_notify('{CHANNEL}', json_build_object(
        'table', 'sessions', 'tenant', r.tenant_id, 'username', r.username)::text);
    END LOOP;
  END IF;
  RETURN NULL;
END $$;
CREATE TRIGGER sessions_notify_insert AFTER INSERT ON sessions
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT
  EXECUTE FUNCTION easyisp_notify_sessions_opened();
"""

_EVENTS = {"insert": "NEW TABLE AS new_rows", "update": "NEW TABLE AS new_rows",
           "delete": "OLD TABLE AS old_rows"}  # fmt: skip


def upgrade() -> None:
    op.execute(ROLE_SQL)
    op.execute(TABLES_SQL)
    op.execute(RATE_FUNCTION_SQL)
    op.execute(f"GRANT EXECUTE ON FUNCTION freeradius.rate(numeric) TO {FREERADIUS}")
    for name, body in VIEWS.items():
        op.execute(
            f"CREATE VIEW freeradius.{name} WITH (security_invoker = true) AS {body.strip()}"
        )
        op.execute(f"GRANT SELECT ON freeradius.{name} TO {FREERADIUS}")
    for table in ("customer_passwords", "nas_secrets"):
        op.execute(f"ALTER TABLE freeradius.{table} ENABLE ROW LEVEL SECURITY")
        op.execute(f"ALTER TABLE freeradius.{table} FORCE ROW LEVEL SECURITY")
        op.execute(
            f"CREATE POLICY freeradius_read ON freeradius.{table} FOR SELECT TO {FREERADIUS} "
            "USING (true)"
        )
        op.execute(f"GRANT SELECT ON freeradius.{table} TO {FREERADIUS}")
    op.execute(f"GRANT USAGE ON SCHEMA public TO {FREERADIUS}")
    for table, columns in READ_COLUMNS.items():
        op.execute(f"GRANT SELECT ({columns}) ON public.{table} TO {FREERADIUS}")
        op.execute(
            f"CREATE POLICY freeradius_read ON public.{table} FOR SELECT TO {FREERADIUS} "
            "USING (true)"
        )
    op.execute(NOTIFY_SQL)
    op.execute(SESSIONS_NOTIFY_SQL)
    for table in NOTIFIED_TABLES:
        for event, transition in _EVENTS.items():
            op.execute(
                f"CREATE TRIGGER {table}_notify_{event} AFTER {event.upper()} ON {table} "
                f"REFERENCING {transition} FOR EACH STATEMENT "
                "EXECUTE FUNCTION easyisp_notify_subscribers()"
            )


def downgrade() -> None:
    op.execute("DROP TRIGGER IF EXISTS sessions_notify_insert ON sessions")
    op.execute("DROP FUNCTION IF EXISTS easyisp_notify_sessions_opened()")
    for table in NOTIFIED_TABLES:
        for event in _EVENTS:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_notify_{event} ON {table}")
    op.execute("DROP FUNCTION IF EXISTS easyisp_notify_subscribers()")
    for table, columns in READ_COLUMNS.items():
        op.execute(f"DROP POLICY IF EXISTS freeradius_read ON public.{table}")
        op.execute(f"REVOKE SELECT ({columns}) ON public.{table} FROM {FREERADIUS}")
    op.execute(f"REVOKE USAGE ON SCHEMA public FROM {FREERADIUS}")
    op.execute("DROP SCHEMA IF EXISTS freeradius CASCADE")
    # The role is cluster-wide (another EasyISP database may use it): it stays.
