"""M-Pesa callbacks stored raw, and the suspense list of unmatched paybill/till money.

- mpesa_callbacks: every delivery to a callback URL, stored before anything is decided. The
  first trusted delivery of a CheckoutRequestID/TransID (per gateway, kind and result code)
  is unique; copies and untrusted deliveries are stored beside it. Rows whose path token
  named no gateway have no tenant (only a super admin sees them).
- mpesa_suspense: C2B money that names no customer. Staff with payments.create assign it to
  a customer through easyisp_resolve_suspense(), which records the payment (and its wallet
  credit) with the receipt as transaction id, so the same receipt never credits twice.
- Staff read both with payments.read and write neither directly; the site service reads
  and writes both (it stores and processes callbacks for every tenant).

Revision ID: 20261125_0005
Revises: 20261125_0004
Create Date: 2026-11-25 14:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "20261125_0005"
down_revision: str | None = "20261125_0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

STAFF = "easyisp_staff"
SERVICE = "easyisp_service"
DEFINER = "SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp"
TABLES = ["mpesa_callbacks", "mpesa_suspense"]
TENANT_SCOPE = (
    "(tenant_id = (SELECT easyisp_current_tenant()) OR "
    "(SELECT easyisp_has_permission('tenants.manage')))"
)

RESOLVE_SQL = f"""
CREATE FUNCTION easyisp_resolve_suspense(suspense uuid, customer uuid)
RETURNS uuid LANGUAGE plpgsql {DEFINER} AS $$
DECLARE
  s public.mpesa_suspense;
  c public.customers;
  new_id uuid;
BEGIN
  SELECT * INTO s FROM public.mpesa_suspense WHERE id = suspense FOR UPDATE;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'no such suspense entry' USING ERRCODE = 'no_data_found';
  END IF;
  PERFORM public.easyisp_require('payments.create', s.tenant_id, true);
  IF s.status <> 'OPEN' THEN
    RAISE EXCEPTION 'this suspense entry was already resolved' USING ERRCODE = 'check_violation';
  END IF;
  -- Locked before the payment's foreign key takes a weaker lock (no upgrade deadlock with a
  -- concurrent credit or renewal of the same customer).
  SELECT * INTO c FROM public.customers WHERE id = customer FOR UPDATE;
  IF NOT FOUND OR c.tenant_id <> s.tenant_id THEN
    RAISE EXCEPTION 'no such customer' USING ERRCODE = 'no_data_found';
  END IF;
  new_id := public.easyisp_record_payment(
    customer, s.amount, 'MPESA', s.receipt, 'M-Pesa ' || s.receipt || ' assigned from suspense');
  UPDATE public.mpesa_suspense
     SET status = 'RESOLVED', customer_id = customer, payment_id = new_id,
         resolved_by = public.easyisp_current_user_id(), resolved_at = now()
   WHERE id = suspense;
  RETURN new_id;
END $$;
REVOKE EXECUTE ON FUNCTION easyisp_resolve_suspense(uuid, uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION easyisp_resolve_suspense(uuid, uuid) TO {STAFF}, {SERVICE};
"""


def _create_tables() -> None:
    op.create_table(
        "mpesa_callbacks",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=True), nullable=False),
        sa.Column("tenant_id", sa.UUID(), nullable=True),
        sa.Column("gateway_id", sa.UUID(), nullable=True),
        sa.Column(
            "kind",
            sa.Enum("STK", "C2B_VALIDATION", "C2B_CONFIRMATION", name="mpesa_callback_kind"),
            nullable=False,
        ),
        sa.Column("external_id", sa.String(length=64), nullable=True),
        sa.Column("result_code", sa.Integer(), server_default="0", nullable=False),
        sa.Column("trusted", sa.Boolean(), nullable=False),
        sa.Column("duplicate_of", sa.BigInteger(), nullable=True),
        sa.Column("source_address", postgresql.INET(), nullable=True),
        sa.Column("body", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column(
            "received_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "outcome",
            sa.Enum(
                "PENDING", "APPLIED", "REVIEW", "IGNORED", "SUSPENSE", name="mpesa_callback_outcome"
            ),
            server_default="PENDING",
            nullable=False,
        ),
        sa.Column("review_reason", sa.String(length=300), nullable=True),
        sa.Column("payment_id", sa.UUID(), nullable=True),
        sa.Column("processed_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["duplicate_of"],
            ["mpesa_callbacks.id"],
            name=op.f("fk_mpesa_callbacks_duplicate_of_mpesa_callbacks"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["gateway_id"],
            ["payment_gateways.id"],
            name=op.f("fk_mpesa_callbacks_gateway_id_payment_gateways"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["payment_id"],
            ["payments.id"],
            name=op.f("fk_mpesa_callbacks_payment_id_payments"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_mpesa_callbacks_tenant_id_tenants"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mpesa_callbacks")),
    )
    op.create_index(
        "uq_mpesa_callbacks_first_delivery",
        "mpesa_callbacks",
        ["gateway_id", "kind", "external_id", "result_code"],
        unique=True,
        postgresql_where=sa.text("trusted AND duplicate_of IS NULL"),
    )
    op.create_index(
        "ix_mpesa_callbacks_tenant_id_outcome_received_at",
        "mpesa_callbacks",
        ["tenant_id", "outcome", "received_at"],
    )
    op.create_index(
        "ix_mpesa_callbacks_pending",
        "mpesa_callbacks",
        ["received_at"],
        postgresql_where=sa.text("outcome = 'PENDING'"),
    )
    op.create_index("ix_mpesa_callbacks_external_id", "mpesa_callbacks", ["external_id"])

    op.create_table(
        "mpesa_suspense",
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("receipt", sa.String(length=64), nullable=False),
        sa.Column("amount", sa.Numeric(precision=14, scale=2), nullable=False),
        sa.Column("callback_id", sa.BigInteger(), nullable=True),
        sa.Column("msisdn", sa.String(length=64), nullable=True),
        sa.Column("account_reference", sa.String(length=40), nullable=True),
        sa.Column("payer_name", sa.String(length=200), nullable=True),
        sa.Column("paid_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reason", sa.String(length=300), nullable=False),
        sa.Column(
            "status",
            sa.Enum("OPEN", "RESOLVED", name="mpesa_suspense_status"),
            server_default="OPEN",
            nullable=False,
        ),
        sa.Column("customer_id", sa.UUID(), nullable=True),
        sa.Column("payment_id", sa.UUID(), nullable=True),
        sa.Column("resolved_by", sa.UUID(), nullable=True),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint("amount > 0", name=op.f("ck_mpesa_suspense_amount_positive")),
        sa.CheckConstraint(
            "status <> 'RESOLVED' OR (customer_id IS NOT NULL AND payment_id IS NOT NULL)",
            name=op.f("ck_mpesa_suspense_resolved_has_payment"),
        ),
        sa.ForeignKeyConstraint(
            ["callback_id"],
            ["mpesa_callbacks.id"],
            name=op.f("fk_mpesa_suspense_callback_id_mpesa_callbacks"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_mpesa_suspense_customer_id_customers"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["payment_id"],
            ["payments.id"],
            name=op.f("fk_mpesa_suspense_payment_id_payments"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["resolved_by"],
            ["users.id"],
            name=op.f("fk_mpesa_suspense_resolved_by_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_mpesa_suspense_tenant_id_tenants"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mpesa_suspense")),
        sa.UniqueConstraint("receipt", name=op.f("uq_mpesa_suspense_receipt")),
    )
    op.create_index(
        "ix_mpesa_suspense_tenant_id_status_created_at",
        "mpesa_suspense",
        ["tenant_id", "status", "created_at"],
    )
    op.create_index(op.f("ix_mpesa_suspense_tenant_id"), "mpesa_suspense", ["tenant_id"])


def _security() -> list[str]:
    sql: list[str] = []
    for table in TABLES:
        sql += [
            f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY",
            f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY",
            f"CREATE POLICY staff_tenant ON {table} AS PERMISSIVE FOR ALL TO {STAFF} "
            f"USING {TENANT_SCOPE} WITH CHECK {TENANT_SCOPE}",
            f"CREATE POLICY site_service ON {table} AS PERMISSIVE FOR ALL TO {SERVICE} "
            "USING (true) WITH CHECK (true)",
            f"GRANT SELECT ON {table} TO {STAFF}",
            f"CREATE POLICY staff_select ON {table} AS RESTRICTIVE FOR SELECT TO {STAFF} "
            "USING ((SELECT easyisp_has_permission('payments.read')))",
            # Staff never write these directly: resolving goes through the function.
            f"GRANT SELECT, INSERT, UPDATE ON {table} TO {SERVICE}",
        ]
    sql.append(f"GRANT USAGE ON SEQUENCE mpesa_callbacks_id_seq TO {STAFF}, {SERVICE}")
    sql.append(
        "CREATE TRIGGER mpesa_suspense_touch_updated_at BEFORE UPDATE ON mpesa_suspense "
        "FOR EACH ROW EXECUTE FUNCTION easyisp_touch_updated_at()"
    )
    # Resolving a suspense entry is a money decision: audited like payments.
    sql.append(
        "CREATE TRIGGER mpesa_suspense_audit AFTER INSERT OR UPDATE OR DELETE ON mpesa_suspense "
        "FOR EACH ROW EXECUTE FUNCTION "
        "easyisp_audit_row('MPESA_SUSPENSE', 'OTHER', '', 'id', 'updated_at')"
    )
    return sql


def upgrade() -> None:
    _create_tables()
    for statement in _security():
        op.execute(statement)
    op.execute(RESOLVE_SQL)


def downgrade() -> None:
    op.execute("DROP FUNCTION easyisp_resolve_suspense(uuid, uuid)")
    op.drop_table("mpesa_suspense")
    op.drop_table("mpesa_callbacks")
    for enum_type in ("mpesa_suspense_status", "mpesa_callback_outcome", "mpesa_callback_kind"):
        op.execute(f"DROP TYPE {enum_type}")
