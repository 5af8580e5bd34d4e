"""Chart of accounts: the ledger's accounts (1001 Cash, 4001 Internet sales, …).

An account that has been used stays; it is deactivated instead of deleted (a parent or a
future ledger line refuses the delete in the database)."""

from __future__ import annotations

import uuid
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from easyisp_core.errors import NotFound
from easyisp_core.models import ChartOfAccount
from easyisp_core.models.enums import AccountType
from easyisp_core.repositories.integrity import translated_db_errors
from easyisp_core.repositories.rows import delete_by_id
from easyisp_core.repositories.tenants import TenantRepository
from easyisp_core.schemas.fields import AccountCode
from easyisp_core.schemas.validation import parse


class AccountFields(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: AccountCode
    name: str = Field(min_length=1, max_length=120)
    type: AccountType
    description: str | None = Field(default=None, max_length=300)
    is_active: bool = True


def _find(session: Session, account_id: uuid.UUID) -> ChartOfAccount:
    account = session.get(ChartOfAccount, account_id)
    if account is None:
        raise NotFound("No such account (it may have been deleted).")
    return account


def _checked(data: AccountFields | dict[str, Any]) -> AccountFields:
    return data if isinstance(data, AccountFields) else parse(AccountFields, data)


def create_account(
    session: Session, tenant_name: str, data: AccountFields | dict[str, Any]
) -> uuid.UUID:
    new = _checked(data)
    tenant = TenantRepository(session).get_by_name(tenant_name)
    account = ChartOfAccount(tenant_id=tenant.id, **new.model_dump())
    with translated_db_errors(session):
        session.add(account)
    return account.id


def account_fields(session: Session, account_id: uuid.UUID) -> AccountFields:
    account = _find(session, account_id)
    return AccountFields.model_validate(
        {name: getattr(account, name) for name in AccountFields.model_fields}
    )


def update_account(
    session: Session, account_id: uuid.UUID, data: AccountFields | dict[str, Any]
) -> None:
    changes = _checked(data)
    account = _find(session, account_id)
    with translated_db_errors(session):
        for name, value in changes.model_dump().items():
            setattr(account, name, value)


def delete_account(session: Session, account_id: uuid.UUID) -> None:
    _find(session, account_id)
    with translated_db_errors(session):
        delete_by_id(session, ChartOfAccount, account_id)
