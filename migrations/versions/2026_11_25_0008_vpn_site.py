"""The site's WireGuard identity, and the two functions router onboarding needs.

- `vpn_site` (one row): the site's public key, endpoint and address range. Staff read it (the
  console writes router scripts from it); only the site service writes it. The site's
  private key never reaches the database: it stays in a file in the service's data
  directory, readable only by the service's OS account, so neither a database dump nor a
  staff login with psql can impersonate the site.
- `easyisp_vpn_used_addresses()`: the addresses every tenant's routers hold. Addresses come
  from one site-wide range, but RLS hides other tenants' rows, so allocation needs this
  SECURITY DEFINER view of them (addresses only, nothing else of the other tenant).
- `easyisp_vpn_peer_private_key(peer)`: a router's WireGuard private key (ciphertext) for its
  onboarding script; needs `nas.secrets.read` and writes an audit row, like router secrets.

Revision ID: 20261125_0008
Revises: 20261125_0007
Create Date: 2026-11-25 14:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "20261125_0008"
down_revision: str | None = "20261125_0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

STAFF = "easyisp_staff"
SERVICE = "easyisp_service"
DEFINER = "SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp"

FUNCTIONS = f"""
CREATE FUNCTION easyisp_vpn_used_addresses() RETURNS SETOF inet
LANGUAGE plpgsql STABLE {DEFINER} AS $$
BEGIN
  PERFORM public.easyisp_require('vpn.write', public.easyisp_current_tenant(), true);
  RETURN QUERY
    SELECT assigned_ip FROM public.vpn_peers
    UNION
    SELECT vpn_ip FROM public.nas WHERE vpn_ip IS NOT NULL;
END $$;

CREATE FUNCTION easyisp_vpn_peer_private_key(peer uuid) RETURNS bytea
LANGUAGE plpgsql {DEFINER} AS $$
DECLARE p public.vpn_peers;
BEGIN
  SELECT * INTO p FROM public.vpn_peers WHERE id = peer;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'no such VPN peer' USING ERRCODE = 'no_data_found';
  END IF;
  PERFORM public.easyisp_require('nas.secrets.read', p.tenant_id, true);
  IF NOT public.easyisp_is_service() THEN
    INSERT INTO public.audit_logs (tenant_id, action, target_type, target_vpn_peer_id,
                                   target_label, details)
    VALUES (p.tenant_id, 'VPN_KEY_READ', 'VPN_PEER', p.id, p.name,
            'WireGuard private key read for an onboarding script');
  END IF;
  RETURN p.private_key_enc;
END $$;
"""


def upgrade() -> None:
    op.create_table(
        "vpn_site",
        sa.Column("id", sa.SmallInteger(), server_default=sa.text("1"), nullable=False),
        sa.Column("interface_name", sa.String(length=15), nullable=False),
        sa.Column("public_key", sa.String(length=44), nullable=False),
        sa.Column("endpoint_host", sa.String(length=255), nullable=False),
        sa.Column("endpoint_port", sa.Integer(), nullable=False),
        sa.Column("address_range", postgresql.CIDR(), nullable=False),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint("id = 1", name=op.f("ck_vpn_site_single_row")),
        sa.CheckConstraint(
            "endpoint_port BETWEEN 1 AND 65535", name=op.f("ck_vpn_site_endpoint_port_range")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_vpn_site")),
    )
    op.execute("REVOKE ALL ON vpn_site FROM PUBLIC")
    op.execute(f"GRANT SELECT ON vpn_site TO {STAFF}, {SERVICE}")
    op.execute(f"GRANT INSERT, UPDATE ON vpn_site TO {SERVICE}")
    op.execute(FUNCTIONS)
    for signature in ("easyisp_vpn_used_addresses()", "easyisp_vpn_peer_private_key(uuid)"):
        op.execute(f"REVOKE EXECUTE ON FUNCTION {signature} FROM PUBLIC")
        op.execute(f"GRANT EXECUTE ON FUNCTION {signature} TO {STAFF}, {SERVICE}")


def downgrade() -> None:
    op.execute("DROP FUNCTION easyisp_vpn_peer_private_key(uuid)")
    op.execute("DROP FUNCTION easyisp_vpn_used_addresses()")
    op.drop_table("vpn_site")
