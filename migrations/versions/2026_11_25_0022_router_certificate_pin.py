"""API-SSL certificate pinning, trust on first use.

nas.api_tls_fingerprint holds the SHA-256 of the certificate a router presented on its first
API-SSL connection; later connections that present another one are refused (someone may be
in the middle). Routers without a certificate (API-SSL then offers anonymous
Diffie-Hellman) have nothing to pin. Staff with nas.write may clear the pin after replacing a
router's certificate on purpose (audited, like every nas change); the site service records it.

Revision ID: 20261125_0022
Revises: 20261125_0021
Create Date: 2026-11-25 18:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "20261125_0022"
down_revision: str | None = "20261125_0021"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

STAFF = "easyisp_staff"


def upgrade() -> None:
    op.add_column("nas", sa.Column("api_tls_fingerprint", sa.String(64), nullable=True))
    op.create_check_constraint(
        op.f("ck_nas_api_tls_fingerprint_hex"), "nas", "api_tls_fingerprint ~ '^[0-9a-f]{64}$'"
    )
    # 0003 granted staff column lists; new columns need their own grants.
    op.execute(
        f"GRANT SELECT (api_tls_fingerprint), UPDATE (api_tls_fingerprint) ON nas TO {STAFF}"
    )


def downgrade() -> None:
    op.drop_column("nas", "api_tls_fingerprint")
