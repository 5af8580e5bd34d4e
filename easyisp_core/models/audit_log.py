"""Audit log of staff and system actions.

The seed linked a log row to its target by a bare id. Here each kind of target has its own
nullable foreign key (ON DELETE SET NULL), so the database guarantees no row points at
something that no longer exists, while target_type and target_label keep the history readable.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Identity,
    Index,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.dialects.postgresql import INET, JSONB
from sqlalchemy.orm import Mapped, mapped_column

from easyisp_core.models.base import Base, TenantScoped, pg_enum
from easyisp_core.models.enums import AuditTargetType

# target_type value -> (column, referenced table)
AUDIT_TARGETS: dict[AuditTargetType, tuple[str, str]] = {
    AuditTargetType.TENANT: ("target_tenant_id", "tenants"),
    AuditTargetType.USER: ("target_user_id", "users"),
    AuditTargetType.CUSTOMER: ("target_customer_id", "customers"),
    AuditTargetType.PACKAGE: ("target_package_id", "packages"),
    AuditTargetType.NAS: ("target_nas_id", "nas"),
    AuditTargetType.VOUCHER: ("target_voucher_id", "vouchers"),
    AuditTargetType.PAYMENT: ("target_payment_id", "payments"),
    AuditTargetType.INVOICE: ("target_invoice_id", "invoices"),
    AuditTargetType.EXPENSE: ("target_expense_id", "expenses"),
    AuditTargetType.PAYMENT_GATEWAY: ("target_payment_gateway_id", "payment_gateways"),
    AuditTargetType.SMS_GATEWAY: ("target_sms_gateway_id", "sms_gateways"),
    AuditTargetType.VPN_PEER: ("target_vpn_peer_id", "vpn_peers"),
    AuditTargetType.ACCOUNT: ("target_account_id", "chart_of_accounts"),
}

_TARGET_COLUMNS = ", ".join(col for col, _ in AUDIT_TARGETS.values())
_TYPE_MATCH = " AND ".join(
    f"({col} IS NULL OR target_type = '{kind.value}')" for kind, (col, _) in AUDIT_TARGETS.items()
)


def _target_fk(table: str) -> Mapped[uuid.UUID | None]:
    return mapped_column(ForeignKey(f"{table}.id", ondelete="SET NULL"))


class AuditLog(TenantScoped, Base):
    __tablename__ = "audit_logs"
    __table_args__ = (
        CheckConstraint("action ~ '^[A-Z][A-Z0-9_]{2,63}$'", name="action_format"),
        CheckConstraint(f"num_nonnulls({_TARGET_COLUMNS}) <= 1", name="one_target"),
        CheckConstraint(_TYPE_MATCH, name="target_matches_type"),
        Index("ix_audit_logs_tenant_id_created_at", "tenant_id", "created_at"),
        Index("ix_audit_logs_target_customer_id", "target_customer_id"),
        Index("ix_audit_logs_tenant_id_action", "tenant_id", "action"),
        # The per-tenant hash chain: seq has no gaps, each row hashes the one before.
        UniqueConstraint("tenant_id", "seq"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(always=True), primary_key=True)
    # Who: the staff user (NULL for the site service or the system), and the database role used.
    # Staff are never hard-deleted (status DELETED), so the link to the actor is kept.
    user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    actor: Mapped[str] = mapped_column(String(63), server_default=func.current_user())
    action: Mapped[str] = mapped_column(String(64))
    target_type: Mapped[AuditTargetType | None] = mapped_column(
        pg_enum(AuditTargetType, "audit_target_type")
    )
    target_label: Mapped[str | None] = mapped_column(String(200))
    target_tenant_id: Mapped[uuid.UUID | None] = _target_fk("tenants")
    target_user_id: Mapped[uuid.UUID | None] = _target_fk("users")
    target_customer_id: Mapped[uuid.UUID | None] = _target_fk("customers")
    target_package_id: Mapped[uuid.UUID | None] = _target_fk("packages")
    target_nas_id: Mapped[uuid.UUID | None] = _target_fk("nas")
    target_voucher_id: Mapped[uuid.UUID | None] = _target_fk("vouchers")
    target_payment_id: Mapped[uuid.UUID | None] = _target_fk("payments")
    target_invoice_id: Mapped[uuid.UUID | None] = _target_fk("invoices")
    target_expense_id: Mapped[uuid.UUID | None] = _target_fk("expenses")
    target_payment_gateway_id: Mapped[uuid.UUID | None] = _target_fk("payment_gateways")
    target_sms_gateway_id: Mapped[uuid.UUID | None] = _target_fk("sms_gateways")
    target_vpn_peer_id: Mapped[uuid.UUID | None] = _target_fk("vpn_peers")
    target_account_id: Mapped[uuid.UUID | None] = _target_fk("chart_of_accounts")
    details: Mapped[str | None] = mapped_column(Text)
    before: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    client_addr: Mapped[str | None] = mapped_column(INET, server_default=func.inet_client_addr())
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    # Filled by the database (trigger easyisp_audit_chain); see `easyisp audit verify`.
    seq: Mapped[int | None] = mapped_column(BigInteger)
    prev_hash: Mapped[bytes | None] = mapped_column(LargeBinary)
    row_hash: Mapped[bytes | None] = mapped_column(LargeBinary)
