"""Staff users (operators)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, EmailStr, Field
from sqlalchemy.orm import Session

from easyisp_core.models import User
from easyisp_core.models.enums import StaffRole
from easyisp_core.repositories.integrity import translated_integrity_errors
from easyisp_core.repositories.tenants import TenantRepository
from easyisp_core.schemas.fields import StaffUsername
from easyisp_core.schemas.validation import parse
from easyisp_core.services.results import StaffInfo


class NewStaff(BaseModel):
    model_config = ConfigDict(extra="forbid")

    tenant: str = Field(description="tenant name (slug)")
    username: StaffUsername
    full_name: str = Field(min_length=1, max_length=200)
    role: StaffRole
    email: EmailStr | None = None
    phone: str | None = Field(default=None, max_length=20)


def create_staff(session: Session, data: NewStaff | dict[str, Any]) -> StaffInfo:
    new = data if isinstance(data, NewStaff) else parse(NewStaff, data)
    tenant = TenantRepository(session).get_by_name(new.tenant)
    user = User(
        tenant_id=tenant.id,
        username=new.username,
        full_name=new.full_name,
        role=new.role,
        email=str(new.email) if new.email else None,
        phone=new.phone,
    )
    with translated_integrity_errors(session):
        session.add(user)
    return StaffInfo.of(user)
