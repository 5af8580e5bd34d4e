"""What the customer workspace reads about one customer: profile, ledger, payments, sessions,
invoices and audit trail. Every read runs as the staff member, so RLS and grants apply."""

from __future__ import annotations

import enum
import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Row, column, select, table, update
from sqlalchemy.orm import Session

from easyisp_core.errors import NotFound
from easyisp_core.models import (
    AuditLog,
    Customer,
    Invoice,
    Package,
    Payment,
    Tenant,
    WalletTransaction,
)
from easyisp_core.models import Session as RadiusSession


class CustomerWorkspaceRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def profile(self, customer_id: uuid.UUID) -> Row[Any]:
        row = self.session.execute(
            select(
                Customer,
                Package.name.label("package_name"),
                Package.price.label("package_price"),
                Tenant.display_name.label("tenant_display_name"),
                Tenant.config.label("tenant_config"),
            )
            .join(Package, Package.id == Customer.package_id, isouter=True)
            .join(Tenant, Tenant.id == Customer.tenant_id, isouter=True)
            .where(Customer.id == customer_id)
        ).one_or_none()
        if row is None:
            raise NotFound("No such customer (or it is not visible to you).")
        return row

    def ledger(self, customer_id: uuid.UUID, limit: int) -> Sequence[WalletTransaction]:
        return self.session.scalars(
            select(WalletTransaction)
            .where(WalletTransaction.customer_id == customer_id)
            .order_by(WalletTransaction.id.desc())
            .limit(limit)
        ).all()

    def payments(self, customer_id: uuid.UUID, limit: int) -> Sequence[Payment]:
        return self.session.scalars(
            select(Payment)
            .where(Payment.customer_id == customer_id)
            .order_by(Payment.created_at.desc(), Payment.id)
            .limit(limit)
        ).all()

    def sessions(self, customer_id: uuid.UUID, limit: int) -> Sequence[RadiusSession]:
        return self.session.scalars(
            select(RadiusSession)
            .where(RadiusSession.customer_id == customer_id)
            .order_by(RadiusSession.started_at.desc(), RadiusSession.id.desc())
            .limit(limit)
        ).all()

    def open_session_nas(self, customer_id: uuid.UUID) -> uuid.UUID | None:
        """The router of the customer's newest open session (where a disconnect must go)."""
        return self.session.scalar(
            select(RadiusSession.nas_id)
            .where(RadiusSession.customer_id == customer_id, RadiusSession.stopped_at.is_(None))
            .order_by(RadiusSession.started_at.desc())
            .limit(1)
        )

    def invoices(self, customer_id: uuid.UUID, limit: int) -> Sequence[Invoice]:
        return self.session.scalars(
            select(Invoice)
            .where(Invoice.customer_id == customer_id)
            .order_by(Invoice.issued_at.desc())
            .limit(limit)
        ).all()

    def audit_trail(self, customer_id: uuid.UUID, limit: int) -> Sequence[AuditLog]:
        return self.session.scalars(
            select(AuditLog)
            .where(AuditLog.target_customer_id == customer_id)
            .order_by(AuditLog.id.desc())
            .limit(limit)
        ).all()

    def packages(self, tenant_id: uuid.UUID) -> Sequence[Package]:
        return self.session.scalars(
            select(Package).where(Package.tenant_id == tenant_id).order_by(Package.name)
        ).all()

    def update(self, customer_id: uuid.UUID, values: dict[str, Any]) -> int:
        """Change some columns of one customer; 0 rows when RLS hides it."""
        # A lightweight table, not the mapped one: the mapping would add updated_at = now(),
        # a column staff may not write (the database trigger keeps it).
        customers = table("customers", column("id"), *(column(name) for name in values))
        result = self.session.execute(
            update(customers)
            .where(customers.c.id == customer_id)
            .values({name: _plain(value) for name, value in values.items()})
        )
        return int(getattr(result, "rowcount", 0) or 0)


def _plain(value: Any) -> Any:
    # Enum members go as their text; the server casts it to the column's enum type.
    return value.value if isinstance(value, enum.Enum) else value
