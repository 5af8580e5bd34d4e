"""Packages (plans)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from easyisp_core.errors import NotFound
from easyisp_core.models import Package
from easyisp_core.repositories.rows import delete_by_id


class PackageRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, package: Package) -> Package:
        self.session.add(package)
        return package

    def get(self, tenant_id: uuid.UUID, package_id: uuid.UUID) -> Package:
        package = self.session.scalar(
            select(Package).where(Package.tenant_id == tenant_id, Package.id == package_id)
        )
        if package is None:
            raise NotFound("No such package.")
        return package

    def find(self, package_id: uuid.UUID) -> Package:
        """A package by id, in whichever tenant the connection may see."""
        package = self.session.get(Package, package_id)
        if package is None:
            raise NotFound("No such package (it may have been deleted).")
        return package

    def delete(self, row_id: uuid.UUID) -> None:
        delete_by_id(self.session, Package, row_id)

    def get_by_name(self, tenant_id: uuid.UUID, name: str) -> Package:
        package = self.session.scalar(
            select(Package).where(Package.tenant_id == tenant_id, Package.name == name)
        )
        if package is None:
            raise NotFound(f"No package named {name!r} in this tenant.")
        return package

    def list(self, tenant_id: uuid.UUID) -> Sequence[Package]:
        return self.session.scalars(
            select(Package).where(Package.tenant_id == tenant_id).order_by(Package.name)
        ).all()
