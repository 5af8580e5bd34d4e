"""The permission catalogue and each app role's default permissions (site-wide, no tenant)."""

from __future__ import annotations

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from easyisp_core.models.base import Base, pg_enum
from easyisp_core.models.enums import StaffRole


class Permission(Base):
    __tablename__ = "permissions"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    description: Mapped[str] = mapped_column(String(200))


class RolePermission(Base):
    __tablename__ = "role_permissions"

    role: Mapped[StaffRole] = mapped_column(pg_enum(StaffRole, "staff_role"), primary_key=True)
    permission: Mapped[str] = mapped_column(
        String(64), ForeignKey("permissions.name", ondelete="CASCADE"), primary_key=True
    )
