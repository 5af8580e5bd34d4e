"""Queries for `easyisp simulate site`: which subscribers a simulated router logs in."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from easyisp_core.models import Customer, PaymentGateway
from easyisp_core.models import Session as RadiusSession
from easyisp_core.models.enums import ConnectionType, CustomerStatus


class DemoSiteRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def active_pppoe_customers(
        self, nas_id: uuid.UUID, limit: int
    ) -> Sequence[tuple[uuid.UUID, str, str | None]]:
        """(id, username, MAC) of up to `limit` ACTIVE PPPoE customers on this router that
        have a password and no open session (the demo's history leaves some open, and the
        service refuses a second one), by username."""
        open_session = exists().where(
            RadiusSession.customer_id == Customer.id, RadiusSession.stopped_at.is_(None)
        )
        rows = self.session.execute(
            select(Customer.id, Customer.username, Customer.mac_address)
            .where(
                Customer.nas_id == nas_id,
                Customer.status == CustomerStatus.ACTIVE,
                Customer.connection_type == ConnectionType.PPPOE,
                Customer.password_enc.is_not(None),
                ~open_session,
            )
            .order_by(Customer.username)
            .limit(limit)
        ).all()
        return [
            (row.id, row.username, None if row.mac_address is None else str(row.mac_address))
            for row in rows
        ]

    def active_payment_gateways(self, tenant_id: uuid.UUID) -> Sequence[PaymentGateway]:
        return self.session.scalars(
            select(PaymentGateway)
            .where(PaymentGateway.tenant_id == tenant_id, PaymentGateway.is_active)
            .order_by(PaymentGateway.created_at)
        ).all()
