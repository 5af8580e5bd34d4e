"""Internet packages (plans)."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator
from sqlalchemy.orm import Session

from easyisp_core.models import Package
from easyisp_core.models.enums import PackageType, ValidityUnit
from easyisp_core.repositories.integrity import translated_db_errors
from easyisp_core.repositories.packages import PackageRepository
from easyisp_core.repositories.tenants import TenantRepository
from easyisp_core.schemas.validation import parse
from easyisp_core.services.results import PackageInfo

Speed = Field(gt=0, max_digits=10, decimal_places=3)


class PackageFields(BaseModel):
    """Everything about a package an operator edits (NewPackage adds the tenant)."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=100)
    type: PackageType
    price: Decimal = Field(ge=0, max_digits=14, decimal_places=2)
    download_speed: Decimal = Speed
    upload_speed: Decimal = Speed
    validity_value: int = Field(gt=0)
    validity_unit: ValidityUnit
    burst_download: Decimal | None = Field(default=None, gt=0, max_digits=10, decimal_places=3)
    burst_upload: Decimal | None = Field(default=None, gt=0, max_digits=10, decimal_places=3)
    burst_threshold_download: Decimal | None = Field(default=None, gt=0, decimal_places=3)
    burst_threshold_upload: Decimal | None = Field(default=None, gt=0, decimal_places=3)
    burst_time: int | None = Field(default=None, gt=0, le=3600)
    priority: int = Field(default=8, ge=1, le=8)
    session_time: int | None = Field(default=None, gt=0)
    data_cap_bytes: int | None = Field(default=None, gt=0)
    shared_users: int = Field(default=1, ge=1, le=100)
    address_pool: str | None = Field(default=None, max_length=64)
    description: str | None = Field(default=None, max_length=500)

    @model_validator(mode="after")
    def _burst_is_complete(self) -> Self:
        burst = (
            self.burst_download,
            self.burst_upload,
            self.burst_threshold_download,
            self.burst_threshold_upload,
            self.burst_time,
        )
        if any(v is not None for v in burst) and any(v is None for v in burst):
            raise ValueError("burst needs all of: burst download/upload, thresholds and burst time")
        if self.burst_download is not None and (
            self.burst_download < self.download_speed
            or (self.burst_upload or 0) < self.upload_speed
        ):
            raise ValueError("burst rates must be at least the normal rates")
        return self


class NewPackage(PackageFields):
    tenant: str


def create_package(session: Session, data: NewPackage | dict[str, Any]) -> PackageInfo:
    new = data if isinstance(data, NewPackage) else parse(NewPackage, data)
    tenant = TenantRepository(session).get_by_name(new.tenant)
    package = Package(tenant_id=tenant.id, **new.model_dump(exclude={"tenant"}))
    with translated_db_errors(session):
        session.add(package)
    return PackageInfo.of(package)


def package_fields(session: Session, package_id: uuid.UUID) -> PackageFields:
    """A package's current values, to fill the edit form."""
    package = PackageRepository(session).find(package_id)
    names = PackageFields.model_fields.keys()
    return PackageFields.model_validate({name: getattr(package, name) for name in names})


def update_package(
    session: Session, package_id: uuid.UUID, data: PackageFields | dict[str, Any]
) -> PackageInfo:
    """Replace an existing package's values (the whole form is validated together)."""
    changes = data if isinstance(data, PackageFields) else parse(PackageFields, data)
    package = PackageRepository(session).find(package_id)
    with translated_db_errors(session):
        for name, value in changes.model_dump().items():
            setattr(package, name, value)
    return PackageInfo.of(package)


def delete_package(session: Session, package_id: uuid.UUID) -> None:
    """Remove a package nobody uses (customers keep none; vouchers for it refuse the delete)."""
    repository = PackageRepository(session)
    repository.find(package_id)
    with translated_db_errors(session):
        repository.delete(package_id)


def package_choices(session: Session, tenant_id: uuid.UUID) -> list[tuple[str, str]]:
    """(id, "name — KES price") of the tenant's active packages, for a pick list."""
    return [
        (str(p.id), f"{p.name} — KES {p.price:,.2f}")
        for p in PackageRepository(session).list(tenant_id)
        if p.is_active
    ]
