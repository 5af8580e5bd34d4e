"""The console's M-Pesa lists: paybill money waiting in suspense, callbacks kept for review.

Row-level security lets staff with payments.read read both tables; the raw callback body
is not selected here (the review page reads one body when asked, see mpesa_review)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, select

from easyisp_core.models import MpesaCallback, MpesaSuspense
from easyisp_core.models.enums import MpesaCallbackOutcome, SuspenseStatus
from easyisp_core.repositories.keyset import Listing


@dataclass(frozen=True)
class SuspenseRow:
    id: uuid.UUID
    receipt: str
    paid_at: datetime | None
    created_at: datetime
    amount: Decimal
    msisdn: str | None
    account_reference: str | None
    payer_name: str | None
    status: str
    reason: str


def _status(value: Any) -> ColumnElement[bool]:
    return MpesaSuspense.status == SuspenseStatus(value)


SUSPENSE: Listing[SuspenseRow] = Listing(
    row_type=SuspenseRow,
    base=select(
        MpesaSuspense.id,
        MpesaSuspense.receipt,
        MpesaSuspense.paid_at,
        MpesaSuspense.created_at,
        MpesaSuspense.amount,
        MpesaSuspense.msisdn,
        MpesaSuspense.account_reference,
        MpesaSuspense.payer_name,
        MpesaSuspense.status,
        MpesaSuspense.reason,
    ),
    id_column=MpesaSuspense.id,
    tenant_column=MpesaSuspense.tenant_id,
    sorts={
        "paid_at": MpesaSuspense.paid_at,
        "created_at": MpesaSuspense.created_at,
        "amount": MpesaSuspense.amount,
        "receipt": MpesaSuspense.receipt,
    },
    searched=[
        MpesaSuspense.receipt,
        MpesaSuspense.account_reference,
        MpesaSuspense.payer_name,
        MpesaSuspense.msisdn,
        MpesaSuspense.amount,
    ],
    nullable_sorts=frozenset({"paid_at"}),
    options={"status": _status},
)


@dataclass(frozen=True)
class ReviewRow:
    id: int
    kind: str
    external_id: str | None
    received_at: datetime
    source_address: str | None
    review_reason: str | None


REVIEW: Listing[ReviewRow] = Listing(
    row_type=ReviewRow,
    base=select(
        MpesaCallback.id,
        MpesaCallback.kind,
        MpesaCallback.external_id,
        MpesaCallback.received_at,
        MpesaCallback.source_address,
        MpesaCallback.review_reason,
    ).where(MpesaCallback.outcome == MpesaCallbackOutcome.REVIEW),
    id_column=MpesaCallback.id,
    tenant_column=MpesaCallback.tenant_id,
    sorts={"received_at": MpesaCallback.received_at},
    searched=[
        MpesaCallback.external_id,
        MpesaCallback.review_reason,
        MpesaCallback.kind,
        MpesaCallback.source_address,
    ],
)
