"""Tenant: the root of multi-tenancy (one ISP, or one brand of an ISP)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import CheckConstraint, String, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from easyisp_core.models.base import Base, Timestamps, UUIDPk, pg_enum
from easyisp_core.models.enums import TenantStatus


class Tenant(Timestamps, Base):
    __tablename__ = "tenants"
    __table_args__ = (
        CheckConstraint("name ~ '^[a-z0-9][a-z0-9-]{1,62}$'", name="name_slug"),
        CheckConstraint("jsonb_typeof(config) = 'object'", name="config_object"),
    )

    id: Mapped[UUIDPk]
    # The seed's "unique internal identifier": a lower-case slug.
    name: Mapped[str] = mapped_column(String(63), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    status: Mapped[TenantStatus] = mapped_column(
        pg_enum(TenantStatus, "tenant_status"), server_default=TenantStatus.TRIAL.value
    )
    # Typed in the app by schemas.tenant_config.TenantConfig.
    config: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default=text("'{}'::jsonb"))
