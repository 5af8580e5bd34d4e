"""Staff users."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from easyisp_core.errors import NotFound
from easyisp_core.models import User


class StaffRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, user: User) -> User:
        self.session.add(user)
        return user

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
