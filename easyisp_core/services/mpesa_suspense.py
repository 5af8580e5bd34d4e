"""The suspense list: paybill/till money that named no customer, until staff assign it."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy.orm import Session

from easyisp_core.errors import NotFound
from easyisp_core.models import MpesaSuspense
from easyisp_core.repositories.integrity import translated_db_errors
from easyisp_core.repositories.mpesa_payments import (
    ReauthorisationRepository,
    ReceiptRepository,
    SuspenseRepository,
)
from easyisp_core.services.mpesa_credit import renew_if_covered


@dataclass(frozen=True)
class SuspenseEntry:
    id: uuid.UUID
    receipt: str
    amount: Decimal
    account_reference: str | None
    payer_name: str | None
    msisdn: str | None
    paid_at: datetime | None
    reason: str

    @classmethod
    def of(cls, row: MpesaSuspense) -> SuspenseEntry:
        return cls(
            row.id,
            row.receipt,
            row.amount,
            row.account_reference,
            row.payer_name,
            row.msisdn,
            row.paid_at,
            row.reason,
        )


@dataclass(frozen=True)
class Resolution:
    payment_id: uuid.UUID
    renewed_until: datetime | None
    reauthorise_command: int | None


def open_suspense(session: Session, tenant_id: uuid.UUID, limit: int = 200) -> list[SuspenseEntry]:
    return [SuspenseEntry.of(r) for r in SuspenseRepository(session).open_entries(tenant_id, limit)]


def resolve_suspense(
    session: Session, suspense_id: uuid.UUID, customer_id: uuid.UUID, now: datetime
) -> Resolution:
    """Assign a suspense entry to a customer: the payment (receipt as transaction id) and
    its wallet credit are recorded by a database function that checks payments.create;
    then the package is bought when the wallet covers it. Refused when already resolved."""
    entries = SuspenseRepository(session)
    entry = entries.get(suspense_id)
    if entry is None:
        raise NotFound("No such suspense entry.")
    ReceiptRepository(session).lock(entry.receipt)
    with translated_db_errors(session):
        payment_id = entries.resolve(suspense_id, customer_id)
        renewed = renew_if_covered(session, customer_id, now)
        command = (
            ReauthorisationRepository(session).queue_disconnect_if_online(customer_id, "renewed")
            if renewed is not None
            else None
        )
    return Resolution(payment_id, renewed, command)
