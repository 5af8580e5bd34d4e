"""Router groups: sites or areas that routers belong to (for filtering and bulk sync)."""

from __future__ import annotations

from sqlalchemy import String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from easyisp_core.models.base import Base, TenantScoped, Timestamps, UUIDPk


class RouterGroup(TenantScoped, Timestamps, Base):
    __tablename__ = "router_groups"
    __table_args__ = (UniqueConstraint("tenant_id", "name"),)

    id: Mapped[UUIDPk]
    name: Mapped[str] = mapped_column(String(100))
    description: Mapped[str | None] = mapped_column(String(500))
