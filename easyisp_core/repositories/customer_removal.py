"""Deleting a mistakenly registered customer: what they have on record, and the delete
itself. The database decides both (easyisp_customer_history, the customers_delete_guard
trigger and the customers.delete policy); this only asks."""

from __future__ import annotations

import uuid

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from easyisp_core.models import Customer


class CustomerRemovalRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def history(self, customer_id: uuid.UUID) -> list[str] | None:
        """What the customer has on record ("payments", "sessions", ...); None when the
        caller may not read this customer (or there is none)."""
        found = self.session.scalar(select(func.easyisp_customer_history(customer_id)))
        return None if found is None else [str(item) for item in found]

    def name(self, customer_id: uuid.UUID) -> str | None:
        return self.session.scalar(select(Customer.full_name).where(Customer.id == customer_id))

    def delete(self, customer_id: uuid.UUID) -> int:
        """How many rows went: 0 when row-level security hides the row from this caller."""
        result = self.session.execute(
            delete(Customer)
            .where(Customer.id == customer_id)
            .returning(Customer.id)
            .execution_options(synchronize_session=False)
        )
        return len(result.all())
