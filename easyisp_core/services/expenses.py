"""Expenses: what the ISP spends (power, bandwidth, rent), recorded and corrected by staff."""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from easyisp_core.errors import NotFound
from easyisp_core.models import Expense
from easyisp_core.repositories.integrity import translated_db_errors
from easyisp_core.repositories.rows import delete_by_id
from easyisp_core.repositories.tenants import TenantRepository
from easyisp_core.schemas.validation import parse


class ExpenseFields(BaseModel):
    model_config = ConfigDict(extra="forbid")

    category: str = Field(min_length=1, max_length=60)
    description: str = Field(min_length=1, max_length=300)
    amount: Decimal = Field(gt=0, max_digits=14, decimal_places=2)
    expense_date: date
    vendor: str | None = Field(default=None, max_length=200)
    reference: str | None = Field(default=None, max_length=100)


def _find(session: Session, expense_id: uuid.UUID) -> Expense:
    expense = session.get(Expense, expense_id)
    if expense is None:
        raise NotFound("No such expense (it may have been deleted).")
    return expense


def record_expense(session: Session, tenant_name: str, data: dict[str, Any]) -> uuid.UUID:
    new = parse(ExpenseFields, data)
    tenant = TenantRepository(session).get_by_name(tenant_name)
    expense = Expense(tenant_id=tenant.id, **new.model_dump())
    with translated_db_errors(session):
        session.add(expense)
    return expense.id


def expense_fields(session: Session, expense_id: uuid.UUID) -> ExpenseFields:
    expense = _find(session, expense_id)
    return ExpenseFields.model_validate(
        {name: getattr(expense, name) for name in ExpenseFields.model_fields}
    )


def update_expense(session: Session, expense_id: uuid.UUID, data: dict[str, Any]) -> None:
    changes = parse(ExpenseFields, data)
    expense = _find(session, expense_id)
    with translated_db_errors(session):
        for name, value in changes.model_dump().items():
            setattr(expense, name, value)


def delete_expense(session: Session, expense_id: uuid.UUID) -> None:
    _find(session, expense_id)
    with translated_db_errors(session):
        delete_by_id(session, Expense, expense_id)
