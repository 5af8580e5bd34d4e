"""Staff users (operators). Each maps to a PostgreSQL login role (Security issue)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, Index, String, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column

from easyisp_core.models.base import Base, TenantScoped, Timestamps, UUIDPk, pg_enum
from easyisp_core.models.enums import StaffRole, UserStatus


class User(TenantScoped, Timestamps, Base):
    __tablename__ = "users"
    __table_args__ = (
        # Staff usernames double as database login names, so they are unique per server.
        CheckConstraint("username ~ '^[a-z][a-z0-9_.-]{2,39}$'", name="username_format"),
        # The username is also a PostgreSQL role name: keep clear of system and group roles.
        CheckConstraint(
            "username !~ '^(pg_|easyisp_)' AND username NOT IN "
            "('postgres', 'public', 'none', 'current_user', 'session_user', 'current_role')",
            name="username_not_reserved",
        ),
        Index("ix_users_tenant_id_status", "tenant_id", "status"),
    )

    id: Mapped[UUIDPk]
    username: Mapped[str] = mapped_column(String(40), unique=True)
    full_name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(254))
    phone: Mapped[str | None] = mapped_column(String(20))
    role: Mapped[StaffRole] = mapped_column(pg_enum(StaffRole, "staff_role"))
    status: Mapped[UserStatus] = mapped_column(
        pg_enum(UserStatus, "user_status"), server_default=UserStatus.ACTIVE.value
    )
    # Per-user overrides of the role's default permissions (the seed's added/removedPermissions).
    added_permissions: Mapped[list[str]] = mapped_column(
        ARRAY(String(64)), server_default=text("'{}'::varchar[]")
    )
    removed_permissions: Mapped[list[str]] = mapped_column(
        ARRAY(String(64)), server_default=text("'{}'::varchar[]")
    )
    last_login_at: Mapped[datetime | None]
