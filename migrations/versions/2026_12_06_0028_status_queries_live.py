"""Live M-Pesa checks: a Transaction Status question being asked or changing state NOTIFYs
`easyisp_live` (0009's function and payload: the customer it was asked for), so an open
customer workspace shows queued → sent → credited/review/timeout/failed as it happens.

Revision ID: 20261206_0028
Revises: 20261206_0027
Create Date: 2026-12-06 12:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "20261206_0028"
down_revision: str | None = "20261206_0027"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLE = "mpesa_status_queries"
# (trigger, events, condition)
TRIGGERS = (
    ("mpesa_status_queries_live_insert", "INSERT", None),
    (
        "mpesa_status_queries_live_state",
        "UPDATE OF state, result",
        "OLD.state IS DISTINCT FROM NEW.state OR OLD.result IS DISTINCT FROM NEW.result",
    ),
)


def upgrade() -> None:
    for name, events, condition in TRIGGERS:
        when = f" WHEN ({condition})" if condition else ""
        op.execute(
            f"CREATE TRIGGER {name} AFTER {events} ON {TABLE} FOR EACH ROW{when} "
            f"EXECUTE FUNCTION easyisp_notify_live_update('{TABLE}')"
        )


def downgrade() -> None:
    for name, _events, _condition in TRIGGERS:
        op.execute(f"DROP TRIGGER {name} ON {TABLE}")
