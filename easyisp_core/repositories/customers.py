"""Customers: lookups and keyset-paginated lists."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import func, select, tuple_
from sqlalchemy.orm import Session

from easyisp_core.errors import NotFound
from easyisp_core.models import Customer


class CustomerRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, customer: Customer) -> Customer:
        self.session.add(customer)
        return customer

    def get(self, tenant_id: uuid.UUID, customer_id: uuid.UUID) -> Customer:
        customer = self.session.scalar(
            select(Customer).where(Customer.tenant_id == tenant_id, Customer.id == customer_id)
        )
        if customer is None:
            raise NotFound("No such customer.")
        return customer

    def get_by_username(self, tenant_id: uuid.UUID, username: str) -> Customer:
        customer = self.session.scalar(
            select(Customer).where(Customer.tenant_id == tenant_id, Customer.username == username)
        )
        if customer is None:
            raise NotFound(f"No customer {username!r} in this tenant.")
        return customer

    def lock(self, customer: Customer) -> Customer:
        """Re-read the row FOR UPDATE so concurrent payments/renewals serialise on it."""
        self.session.refresh(customer, with_for_update=True)
        return customer

    def page_by_name(
        self,
        tenant_id: uuid.UUID,
        *,
        after: tuple[str, uuid.UUID] | None = None,
        limit: int = 100,
    ) -> Sequence[Customer]:
        """One page ordered by (full_name, id); `after` is the last row of the previous page."""
        query = select(Customer).where(Customer.tenant_id == tenant_id)
        if after is not None:
            query = query.where(tuple_(Customer.full_name, Customer.id) > after)
        query = query.order_by(Customer.full_name, Customer.id).limit(limit)
        return self.session.scalars(query).all()

    def count(self, tenant_id: uuid.UUID) -> int:
        return int(
            self.session.scalar(
                select(func.count()).select_from(Customer).where(Customer.tenant_id == tenant_id)
            )
            or 0
        )
