"""Service command steps: what the site service did for a command, for the customer's history.

`steps` holds one JSON object per step (sent Disconnect-Request, router answered NAK 503,
waiting for the Accounting-Stop, retry scheduled...); `next_attempt_at` is when a command
that is being retried becomes due again. Both change on every step, so the audit trigger
ignores them like status/attempts/result (the command's creation is what is audited), and
staff may read them (0003 granted SELECT column by column).

Revision ID: 20261125_0006
Revises: 20261125_0005
Create Date: 2026-11-25 14:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "20261125_0006"
down_revision: str | None = "20261125_0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_AUDIT_ARGS = "'SERVICE_COMMAND', 'OTHER', '', 'id', 'status', 'attempts', 'result', " + (
    "'started_at', 'finished_at'"
)


def _audit_trigger(extra_ignored: str) -> None:
    op.execute("DROP TRIGGER service_commands_audit ON service_commands")
    op.execute(
        "CREATE TRIGGER service_commands_audit AFTER INSERT OR UPDATE OR DELETE "
        f"ON service_commands FOR EACH ROW EXECUTE FUNCTION "
        f"easyisp_audit_row({_AUDIT_ARGS}{extra_ignored})"
    )


def upgrade() -> None:
    op.add_column(
        "service_commands",
        sa.Column(
            "steps",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'[]'::jsonb"),
            nullable=False,
        ),
    )
    op.add_column(
        "service_commands",
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True),
    )
    _audit_trigger(", 'steps', 'next_attempt_at'")
    # Staff read service_commands column by column (0003 granted the columns of its day);
    # the console shows the steps in the customer's history. The service reads whole tables.
    op.execute("GRANT SELECT (steps, next_attempt_at) ON service_commands TO easyisp_staff")


def downgrade() -> None:
    _audit_trigger("")
    op.drop_column("service_commands", "next_attempt_at")
    op.drop_column("service_commands", "steps")
