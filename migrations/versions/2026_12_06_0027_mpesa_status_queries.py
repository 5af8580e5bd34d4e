"""Transaction Status for reconciliation: receipts reported to us that we do not hold.

- mpesa_status_queries: one question per receipt reported (staff's "credit missing receipt",
  the portal's "I have already paid"), queued by staff (payments.create, own tenant) or by the
  site service, sent by the site service, and answered at the gateway's ResultURL
  (/pay/<token>/status/result) or QueueTimeOutURL (/pay/<token>/status/timeout). The answer
  names the question by its OriginatorConversationID (unique).
- mpesa_callback_kind gains STATUS_RESULT and STATUS_TIMEOUT: the answers are stored raw
  first like every callback, unique per gateway on that id, then processed once.
- Staff read the questions with payments.read; they may insert only the question itself
  (state, ids and results are the service's to write).

Revision ID: 20261206_0027
Revises: 20261206_0026
Create Date: 2026-12-06 04:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "20261206_0027"
down_revision: str | None = "20261206_0026"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

STAFF = "easyisp_staff"
SERVICE = "easyisp_service"
TENANT_SCOPE = (
    "(tenant_id = (SELECT easyisp_current_tenant()) OR "
    "(SELECT easyisp_has_permission('tenants.manage')))"
)
STATES = ("QUEUED", "SENT", "CREDITED", "REVIEW", "NOT_FOUND", "TIMEOUT", "FAILED")


def upgrade() -> None:
    # PostgreSQL 12+ allows ADD VALUE in a transaction; the values are not used here.
    op.execute("ALTER TYPE mpesa_callback_kind ADD VALUE IF NOT EXISTS 'STATUS_RESULT'")
    op.execute("ALTER TYPE mpesa_callback_kind ADD VALUE IF NOT EXISTS 'STATUS_TIMEOUT'")
    op.create_table(
        "mpesa_status_queries",
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("gateway_id", sa.UUID(), nullable=False),
        sa.Column("receipt", sa.String(length=64), nullable=False),
        sa.Column("customer_id", sa.UUID(), nullable=False),
        sa.Column("origin", sa.String(length=20), nullable=False),
        sa.Column(
            "requested_by",
            sa.UUID(),
            server_default=sa.text("easyisp_current_user_id()"),
            nullable=True,
        ),
        sa.Column(
            "state",
            sa.Enum(*STATES, name="mpesa_status_query_state"),
            server_default="QUEUED",
            nullable=False,
        ),
        sa.Column("originator_conversation_id", sa.String(length=100), nullable=True),
        sa.Column("conversation_id", sa.String(length=100), nullable=True),
        sa.Column("result", sa.String(length=500), nullable=True),
        sa.Column("amount", sa.Numeric(precision=14, scale=2), nullable=True),
        sa.Column("payment_id", sa.UUID(), nullable=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
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
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_mpesa_status_queries_customer_id_customers"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["gateway_id"],
            ["payment_gateways.id"],
            name=op.f("fk_mpesa_status_queries_gateway_id_payment_gateways"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["payment_id"],
            ["payments.id"],
            name=op.f("fk_mpesa_status_queries_payment_id_payments"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["requested_by"],
            ["users.id"],
            name=op.f("fk_mpesa_status_queries_requested_by_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_mpesa_status_queries_tenant_id_tenants"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mpesa_status_queries")),
    )
    op.create_index(
        "uq_mpesa_status_queries_originator",
        "mpesa_status_queries",
        ["originator_conversation_id"],
        unique=True,
        postgresql_where=sa.text("originator_conversation_id IS NOT NULL"),
    )
    op.create_index(
        "ix_mpesa_status_queries_queued",
        "mpesa_status_queries",
        ["created_at"],
        postgresql_where=sa.text("state = 'QUEUED'"),
    )
    op.create_index("ix_mpesa_status_queries_receipt", "mpesa_status_queries", ["receipt"])
    op.create_index(
        op.f("ix_mpesa_status_queries_tenant_id"), "mpesa_status_queries", ["tenant_id"]
    )
    table = "mpesa_status_queries"
    for statement in (
        f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY",
        f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY",
        f"CREATE POLICY staff_tenant ON {table} AS PERMISSIVE FOR ALL TO {STAFF} "
        f"USING {TENANT_SCOPE} WITH CHECK {TENANT_SCOPE}",
        f"CREATE POLICY site_service ON {table} AS PERMISSIVE FOR ALL TO {SERVICE} "
        "USING (true) WITH CHECK (true)",
        f"GRANT SELECT ON {table} TO {STAFF}",
        f"CREATE POLICY staff_select ON {table} AS RESTRICTIVE FOR SELECT TO {STAFF} "
        "USING ((SELECT easyisp_has_permission('payments.read')))",
        # Only the question; what M-Pesa answered is written by the service alone.
        f"GRANT INSERT (tenant_id, gateway_id, receipt, customer_id, origin) ON {table} TO {STAFF}",
        f"CREATE POLICY staff_insert ON {table} AS RESTRICTIVE FOR INSERT TO {STAFF} "
        "WITH CHECK ((SELECT easyisp_has_permission('payments.create')) "
        "AND origin = 'console' AND state = 'QUEUED')",
        f"GRANT SELECT, INSERT, UPDATE ON {table} TO {SERVICE}",
        f"CREATE TRIGGER {table}_touch_updated_at BEFORE UPDATE ON {table} "
        "FOR EACH ROW EXECUTE FUNCTION easyisp_touch_updated_at()",
    ):
        op.execute(statement)


def downgrade() -> None:
    op.drop_table("mpesa_status_queries")
    op.execute("DROP TYPE mpesa_status_query_state")
    # PostgreSQL cannot drop an enum value; rows of the new kinds go first, the values stay.
    op.execute("DELETE FROM mpesa_callbacks WHERE kind IN ('STATUS_RESULT', 'STATUS_TIMEOUT')")
