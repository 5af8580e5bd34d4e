"""Staff users. Writes go through SECURITY DEFINER functions that also manage each staff
member's PostgreSQL login role, so the database checks the caller's right to do them."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from easyisp_core.errors import NotFound
from easyisp_core.models import User
from easyisp_core.models.enums import StaffRole, UserStatus


class StaffRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def create(
        self,
        *,
        tenant_id: uuid.UUID,
        username: str,
        full_name: str,
        role: StaffRole,
        verifier: str,
        email: str | None,
        phone: str | None,
    ) -> uuid.UUID:
        new_id = self.session.execute(
            text(
                "SELECT easyisp_create_staff(:tenant, :username, :full_name, "
                "CAST(:role AS staff_role), :verifier, :email, :phone)"
            ),
            {
                "tenant": tenant_id,
                "username": username,
                "full_name": full_name,
                "role": role.value,
                "verifier": verifier,
                "email": email,
                "phone": phone,
            },
        ).scalar_one()
        return uuid.UUID(str(new_id))

    def set_status(self, user_id: uuid.UUID, status: UserStatus) -> None:
        self.session.execute(
            text("SELECT easyisp_set_staff_status(:id, CAST(:status AS user_status))"),
            {"id": user_id, "status": status.value},
        )

    def set_role(self, user_id: uuid.UUID, role: StaffRole) -> None:
        self.session.execute(
            text("SELECT easyisp_set_staff_role(:id, CAST(:role AS staff_role))"),
            {"id": user_id, "role": role.value},
        )

    def set_permissions(self, user_id: uuid.UUID, added: list[str], removed: list[str]) -> None:
        self.session.execute(
            text("SELECT easyisp_set_staff_permissions(:id, :added, :removed)"),
            {"id": user_id, "added": added, "removed": removed},
        )

    def set_password(self, user_id: uuid.UUID, verifier: str) -> None:
        self.session.execute(
            text("SELECT easyisp_set_staff_password(:id, :verifier)"),
            {"id": user_id, "verifier": verifier},
        )

    def get_by_username(self, username: str) -> User:
        user = self.session.scalar(select(User).where(User.username == username))
        if user is None:
            raise NotFound(f"No staff user {username!r}.")
        return user

    def list(self, tenant_id: uuid.UUID | None = None) -> Sequence[User]:
        query = select(User).order_by(User.username)
        if tenant_id is not None:
            query = query.where(User.tenant_id == tenant_id)
        return self.session.scalars(query).all()
