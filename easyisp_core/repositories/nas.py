"""Routers (NAS)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from easyisp_core.errors import NotFound
from easyisp_core.models import Nas
from easyisp_core.repositories.rows import delete_by_id


class NasRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, nas: Nas) -> Nas:
        self.session.add(nas)
        return nas

    def get(self, nas_id: uuid.UUID) -> Nas:
        nas = self.session.get(Nas, nas_id)
        if nas is None:
            raise NotFound("No such router.")
        return nas

    def delete(self, row_id: uuid.UUID) -> None:
        delete_by_id(self.session, Nas, row_id)

    def get_by_name(self, tenant_id: uuid.UUID, name: str) -> Nas:
        nas = self.session.scalar(select(Nas).where(Nas.tenant_id == tenant_id, Nas.name == name))
        if nas is None:
            raise NotFound(f"No router named {name!r} in this tenant.")
        return nas

    def list(self, tenant_id: uuid.UUID) -> Sequence[Nas]:
        return self.session.scalars(
            select(Nas).where(Nas.tenant_id == tenant_id).order_by(Nas.name)
        ).all()
