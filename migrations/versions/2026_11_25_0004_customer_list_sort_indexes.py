"""Customer list sort indexes: the console pages customers by keyset on any sortable column.

Each sort column gets (tenant_id, column, id) so the first page, the next page and the last
page are index walks, not sorts of a million rows (bench/console_table.py). The seed's
(tenant_id, status) index becomes (tenant_id, status, id), which serves both.

Revision ID: 20261125_0004
Revises: 20261125_0003
Create Date: 2026-11-25 13:08:39
"""

from collections.abc import Sequence

from alembic import op

revision: str = "20261125_0004"
down_revision: str | None = "20261125_0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_index("ix_customers_tenant_id_expires_at", table_name="customers")
    op.drop_index("ix_customers_tenant_id_status", table_name="customers")
    op.create_index(
        "ix_customers_tenant_id_created_at_id", "customers", ["tenant_id", "created_at", "id"]
    )
    op.create_index(
        "ix_customers_tenant_id_expires_at_id", "customers", ["tenant_id", "expires_at", "id"]
    )
    op.create_index("ix_customers_tenant_id_status_id", "customers", ["tenant_id", "status", "id"])


def downgrade() -> None:
    op.drop_index("ix_customers_tenant_id_status_id", table_name="customers")
    op.drop_index("ix_customers_tenant_id_expires_at_id", table_name="customers")
    op.drop_index("ix_customers_tenant_id_created_at_id", table_name="customers")
    op.create_index("ix_customers_tenant_id_status", "customers", ["tenant_id", "status"])
    op.create_index("ix_customers_tenant_id_expires_at", "customers", ["tenant_id", "expires_at"])
