"""Reading and voiding hotspot vouchers (row-level security decides what the caller sees
and may change; the vouchers_void_guard trigger refuses voiding a used one)."""

from __future__ import annotations

import uuid

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from easyisp_core.models import Voucher, VoucherBatch
from easyisp_core.models.enums import VoucherStatus


class VoucherRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, tenant_id: uuid.UUID, voucher_id: uuid.UUID) -> Voucher | None:
        return self.session.scalar(
            select(Voucher).where(Voucher.tenant_id == tenant_id, Voucher.id == voucher_id)
        )

    def batch(self, tenant_id: uuid.UUID, batch_id: uuid.UUID) -> VoucherBatch | None:
        return self.session.scalar(
            select(VoucherBatch).where(
                VoucherBatch.tenant_id == tenant_id, VoucherBatch.id == batch_id
            )
        )

    def unused_in_batch(self, tenant_id: uuid.UUID, batch_id: uuid.UUID) -> int:
        return int(
            self.session.scalar(
                select(func.count())
                .select_from(Voucher)
                .where(
                    Voucher.tenant_id == tenant_id,
                    Voucher.batch_id == batch_id,
                    Voucher.status == VoucherStatus.AVAILABLE,
                )
            )
            or 0
        )

    def void_unused_in_batch(self, tenant_id: uuid.UUID, batch_id: uuid.UUID) -> int:
        """AVAILABLE -> VOIDED for the batch's unused codes; how many changed (0 as well
        when row-level security lets the caller read but not change them)."""
        result = self.session.execute(
            update(Voucher)
            .where(
                Voucher.tenant_id == tenant_id,
                Voucher.batch_id == batch_id,
                Voucher.status == VoucherStatus.AVAILABLE,
            )
            .values(status=VoucherStatus.VOIDED)
            .returning(Voucher.id)
            .execution_options(synchronize_session=False)
        )
        return len(result.all())
