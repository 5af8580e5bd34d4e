"""Session identity: a unique key on sessions (nas_id, session_id, started_at).

Two accounting writers (two site-service processes, or a journal replay racing a live
write) must never create the same session twice. The accounting writer locks the identity
per (router, Acct-Session-Id) and inserts with ON CONFLICT on this key. sessions is
range-partitioned on started_at, and a unique index on a partitioned table must contain the
partition key, so started_at is part of it (the index is created on every partition).

Revision ID: 20261125_0011
Revises: 20261125_0010
Create Date: 2026-11-25 14:45:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "20261125_0011"
down_revision: str | None = "20261125_0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ux_sessions_identity",
        "sessions",
        ["nas_id", "session_id", "started_at"],
        unique=True,
    )


def downgrade() -> None:
    op.drop_index("ux_sessions_identity", table_name="sessions")
