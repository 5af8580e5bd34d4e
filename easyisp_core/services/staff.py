"""Staff users (operators). Each one is a PostgreSQL login role; the database checks the
caller's right to create, suspend or re-permission them."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, EmailStr, Field
from sqlalchemy.orm import Session

from easyisp_core.errors import ValidationFailed
from easyisp_core.models.enums import StaffRole, UserStatus
from easyisp_core.passwords import password_problem, scram_verifier
from easyisp_core.repositories.integrity import translated_db_errors
from easyisp_core.repositories.staff import StaffRepository
from easyisp_core.repositories.tenants import TenantRepository
from easyisp_core.rules.permissions import effective_permissions, unknown_permissions
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


def _checked_verifier(password: str) -> str:
    problem = password_problem(password)
    if problem:
        raise ValidationFailed({"password": problem})
    return scram_verifier(password)


def create_staff(session: Session, data: NewStaff | dict[str, Any], password: str) -> StaffInfo:
    """Create the staff user and its login role (the password is sent only as a verifier)."""
    new = data if isinstance(data, NewStaff) else parse(NewStaff, data)
    verifier = _checked_verifier(password)
    tenant = TenantRepository(session).get_by_name(new.tenant)
    staff = StaffRepository(session)
    with translated_db_errors(session):
        staff.create(
            tenant_id=tenant.id,
            username=new.username,
            full_name=new.full_name,
            role=new.role,
            verifier=verifier,
            email=str(new.email) if new.email else None,
            phone=new.phone,
        )
    return StaffInfo.of(staff.get_by_username(new.username))


def set_status(session: Session, username: str, status: UserStatus) -> StaffInfo:
    """Suspend (login disabled, open connections cut), reactivate, or delete (login dropped;
    the row stays for the audit trail)."""
    staff = StaffRepository(session)
    user = staff.get_by_username(username)
    with translated_db_errors(session):
        staff.set_status(user.id, status)
    session.refresh(user)
    return StaffInfo.of(user)


def set_role(session: Session, username: str, role: StaffRole) -> StaffInfo:
    staff = StaffRepository(session)
    user = staff.get_by_username(username)
    with translated_db_errors(session):
        staff.set_role(user.id, role)
    session.refresh(user)
    return StaffInfo.of(user)


def set_permissions(
    session: Session, username: str, added: list[str], removed: list[str]
) -> StaffInfo:
    """Replace a user's overrides of their role's default permissions."""
    unknown = unknown_permissions([*added, *removed])
    if unknown:
        raise ValidationFailed({"permissions": f"unknown: {', '.join(unknown)}"})
    staff = StaffRepository(session)
    user = staff.get_by_username(username)
    with translated_db_errors(session):
        staff.set_permissions(user.id, sorted(set(added)), sorted(set(removed)))
    session.refresh(user)
    return StaffInfo.of(user)


@dataclass(frozen=True)
class StaffPermissions:
    """A user's role, their overrides of its defaults, and what they end up with."""

    username: str
    role: StaffRole
    added: tuple[str, ...]
    removed: tuple[str, ...]

    @property
    def effective(self) -> frozenset[str]:
        return effective_permissions(self.role, self.added, self.removed)


def permission_overrides(session: Session, username: str) -> StaffPermissions:
    user = StaffRepository(session).get_by_username(username)
    return StaffPermissions(
        user.username,
        StaffRole(user.role),
        tuple(user.added_permissions),
        tuple(user.removed_permissions),
    )


def change_password(session: Session, username: str, password: str) -> None:
    """A user changes their own password, or a manager resets someone else's."""
    verifier = _checked_verifier(password)
    staff = StaffRepository(session)
    user_id: uuid.UUID = staff.get_by_username(username).id
    with translated_db_errors(session):
        staff.set_password(user_id, verifier)
