"""Transaction Status questions: one sender per question, and a customer's list by index.

- `sending_since`: set in the transaction that claims a QUEUED question (FOR UPDATE SKIP
  LOCKED), before Daraja is called, so a second site-service instance never sends the same
  question. A claim older than the sender's timeout is taken over (the sender died mid-send;
  asking again is a read, so a repeat is harmless). Cleared when the question is recorded
  SENT/FAILED or handed back after a rate limit.
- `ix_mpesa_status_queries_customer`: the console lists a customer's questions newest first.

Revision ID: 20261206_0032
Revises: 20261206_0031
Create Date: 2026-12-06 05:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "20261206_0032"
down_revision: str | None = "20261206_0031"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLE = "mpesa_status_queries"


def upgrade() -> None:
    op.add_column(TABLE, sa.Column("sending_since", sa.DateTime(timezone=True), nullable=True))
    op.create_index("ix_mpesa_status_queries_customer", TABLE, ["customer_id", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_mpesa_status_queries_customer", table_name=TABLE)
    op.drop_column(TABLE, "sending_since")
