"""The site service may delete pending hotspot payments (the purge of old dead STK pushes).

An STK push that was never paid is marked EXPIRED (or FAILED when the phone refused it) and
kept for a retention period (EASYISP_PENDING_PAYMENT_RETENTION_DAYS, 30 by default) so staff and
the portal can still see it; the payment upkeep job then deletes it. DELETE is granted on this
one table only: every other table the service writes keeps its history.

Revision ID: 20261206_0026
Revises: 20261206_0025
Create Date: 2026-12-06 04:10:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "20261206_0026"
down_revision: str | None = "20261206_0025"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # The site_service policy (FOR ALL, USING true) already covers DELETE; only the grant lacks.
    op.execute("GRANT DELETE ON pending_hotspot_payments TO easyisp_service")


def downgrade() -> None:
    op.execute("REVOKE DELETE ON pending_hotspot_payments FROM easyisp_service")
