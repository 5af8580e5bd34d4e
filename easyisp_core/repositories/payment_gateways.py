"""Reading and switching off a tenant's payment gateways by name (operator administration)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from easyisp_core.errors import NotFound
from easyisp_core.models import PaymentGateway


class PaymentGatewayRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def list(self, tenant_id: uuid.UUID) -> Sequence[PaymentGateway]:
        return self.session.scalars(
            select(PaymentGateway)
            .where(PaymentGateway.tenant_id == tenant_id)
            .order_by(PaymentGateway.name)
        ).all()

    def get_by_name(self, tenant_id: uuid.UUID, name: str) -> PaymentGateway:
        gateway = self.session.scalar(
            select(PaymentGateway).where(
                PaymentGateway.tenant_id == tenant_id, PaymentGateway.name == name
            )
        )
        if gateway is None:
            raise NotFound(f"No payment gateway named {name!r}. `easyisp gateway list` shows them.")
        return gateway

    def credentials(self, gateway_id: uuid.UUID) -> bytes | None:
        """The encrypted credentials (a deferred column, read only when needed)."""
        return self.session.scalar(
            select(PaymentGateway.credentials_enc).where(PaymentGateway.id == gateway_id)
        )

    def deactivate(self, gateway_id: uuid.UUID) -> None:
        self.session.execute(
            update(PaymentGateway).where(PaymentGateway.id == gateway_id).values(is_active=False)
        )
