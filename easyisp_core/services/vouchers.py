"""Hotspot vouchers: generating a printed batch of codes for one package, and voiding
unused codes when printed cards are lost or stolen."""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from easyisp_core.errors import NotFound, PermissionDenied, ValidationFailed
from easyisp_core.models import Voucher, VoucherBatch
from easyisp_core.models.enums import VoucherStatus
from easyisp_core.repositories.integrity import translated_db_errors
from easyisp_core.repositories.packages import PackageRepository
from easyisp_core.repositories.tenants import TenantRepository
from easyisp_core.repositories.vouchers import VoucherRepository
from easyisp_core.schemas.validation import parse

# No 0/O or 1/I/L: codes are read off paper and typed on a phone.
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
CODE_LENGTH = 8
MAX_BATCH = 1_000


class NewVoucherBatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    tenant: str
    name: str = Field(min_length=1, max_length=100)
    package_id: uuid.UUID
    quantity: int = Field(gt=0, le=MAX_BATCH)
    prefix: str | None = Field(default=None, pattern=r"^[A-Za-z0-9]{1,6}$")
    valid_until: datetime | None = None


@dataclass(frozen=True)
class VoucherBatchInfo:
    id: uuid.UUID
    name: str
    codes: tuple[str, ...]


def voucher_code(prefix: str | None = None) -> str:
    body = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
    return f"{prefix.upper()}-{body}" if prefix else body


def generate_batch(session: Session, data: NewVoucherBatch | dict[str, Any]) -> VoucherBatchInfo:
    """A batch of `quantity` unused vouchers priced as the package is today."""
    new = data if isinstance(data, NewVoucherBatch) else parse(NewVoucherBatch, data)
    tenant = TenantRepository(session).get_by_name(new.tenant)
    package = PackageRepository(session).get(tenant.id, new.package_id)
    codes = tuple(dict.fromkeys(voucher_code(new.prefix) for _ in range(new.quantity)))
    batch = VoucherBatch(
        tenant_id=tenant.id,
        name=new.name,
        package_id=package.id,
        quantity=len(codes),
        prefix=new.prefix,
    )
    with translated_db_errors(session):
        session.add(batch)
        session.flush()
        session.add_all(
            Voucher(
                tenant_id=tenant.id,
                code=code,
                package_id=package.id,
                batch_id=batch.id,
                price=package.price,
                valid_until=new.valid_until,
            )
            for code in codes
        )
    return VoucherBatchInfo(batch.id, batch.name, codes)


def void_voucher(session: Session, tenant_id: uuid.UUID, voucher_id: uuid.UUID) -> str:
    """Cancel one unused voucher (RADIUS then refuses it); its code. A used voucher was
    sold and spent, so it cannot be voided (the database refuses it too)."""
    voucher = VoucherRepository(session).get(tenant_id, voucher_id)
    if voucher is None:
        raise NotFound("This voucher no longer exists.")
    if voucher.status is VoucherStatus.VOIDED:
        return voucher.code
    if voucher.status is not VoucherStatus.AVAILABLE:
        raise ValidationFailed(
            {"status": f"the voucher is {voucher.status.value.lower()}"},
            f"Voucher {voucher.code} is {voucher.status.value.lower()}; "
            "only an unused voucher can be voided.",
        )
    with translated_db_errors(session):
        voucher.status = VoucherStatus.VOIDED
    return voucher.code


def void_batch(session: Session, tenant_id: uuid.UUID, batch_id: uuid.UUID) -> int:
    """Cancel every still-unused voucher of a batch; how many were voided (used ones keep
    their history)."""
    vouchers = VoucherRepository(session)
    batch = vouchers.batch(tenant_id, batch_id)
    if batch is None:
        raise NotFound("This voucher batch no longer exists.")
    unused = vouchers.unused_in_batch(tenant_id, batch_id)
    if unused == 0:
        raise ValidationFailed(
            {"batch": "no unused vouchers"},
            f"Batch {batch.name} has no unused vouchers left to void.",
        )
    with translated_db_errors(session):
        voided = vouchers.void_unused_in_batch(tenant_id, batch_id)
    if voided == 0:
        # Row-level security let the caller read the codes but not change them.
        raise PermissionDenied("You do not have permission to do this: void vouchers.")
    return voided
