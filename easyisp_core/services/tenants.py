"""Create and configure tenants."""

from __future__ import annotations

import uuid
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from easyisp_core.models import Tenant
from easyisp_core.models.enums import TenantStatus
from easyisp_core.repositories.integrity import translated_db_errors
from easyisp_core.repositories.tenants import TenantRepository
from easyisp_core.schemas.fields import TenantName
from easyisp_core.schemas.tenant_config import TenantConfig
from easyisp_core.schemas.validation import parse
from easyisp_core.services.results import TenantInfo


class NewTenant(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: TenantName
    display_name: str = Field(min_length=1, max_length=200)
    status: TenantStatus = TenantStatus.ACTIVE
    config: dict[str, Any] = Field(default_factory=dict)


def create_tenant(session: Session, data: NewTenant | dict[str, Any]) -> TenantInfo:
    new = data if isinstance(data, NewTenant) else parse(NewTenant, data)
    config = parse(TenantConfig, new.config, field="config")
    tenant = Tenant(
        name=new.name,
        display_name=new.display_name,
        status=new.status,
        config=config.model_dump(mode="json"),
    )
    with translated_db_errors(session):
        TenantRepository(session).add(tenant)
    return TenantInfo.of(tenant)


def update_config(session: Session, tenant_name: str, config: dict[str, Any]) -> TenantConfig:
    """Replace a tenant's configuration after validating it as a whole."""
    typed = parse(TenantConfig, config, field="config")
    tenant = TenantRepository(session).get_by_name(tenant_name)
    with translated_db_errors(session):
        tenant.config = typed.model_dump(mode="json")
    return typed


def read_config(session: Session, tenant_name: str) -> TenantConfig:
    """The tenant's configuration, typed (defaults filled in for keys it does not set)."""
    return tenant_config(TenantRepository(session).get_by_name(tenant_name))


def tenant_config(tenant: Tenant) -> TenantConfig:
    return TenantConfig.model_validate(tenant.config)


class TenantNames(BaseModel):
    """What a super admin edits on an existing tenant (the slug `name` never changes: it is
    in staff logins, portal URLs and the audit trail)."""

    model_config = ConfigDict(extra="forbid")

    display_name: str = Field(min_length=1, max_length=200)


def rename_tenant(
    session: Session, tenant_id: uuid.UUID, data: TenantNames | dict[str, Any]
) -> TenantInfo:
    names = data if isinstance(data, TenantNames) else parse(TenantNames, data)
    tenant = TenantRepository(session).get(tenant_id)
    with translated_db_errors(session):
        tenant.display_name = names.display_name
    return TenantInfo.of(tenant)


def set_tenant_status(session: Session, tenant_id: uuid.UUID, status: TenantStatus) -> TenantInfo:
    """Suspend or reactivate an ISP; the database lets only tenants.manage change a status."""
    tenant = TenantRepository(session).get(tenant_id)
    with translated_db_errors(session):
        tenant.status = status
    return TenantInfo.of(tenant)
