"""The review list: stored callbacks that moved no money because something did not match."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from easyisp_core.errors import NotFound, ValidationFailed
from easyisp_core.models import MpesaCallback
from easyisp_core.repositories.integrity import translated_db_errors
from easyisp_core.repositories.mpesa_callbacks import MpesaCallbackRepository


@dataclass(frozen=True)
class ReviewEntry:
    id: int
    kind: str
    received_at: datetime
    source_address: str | None
    external_id: str | None
    reason: str | None
    body: dict[str, Any]

    @classmethod
    def of(cls, row: MpesaCallback) -> ReviewEntry:
        return cls(
            row.id,
            row.kind.value,
            row.received_at,
            None if row.source_address is None else str(row.source_address),
            row.external_id,
            row.review_reason,
            dict(row.body),
        )


def callbacks_for_review(
    session: Session, tenant_id: uuid.UUID | None, limit: int = 200
) -> list[ReviewEntry]:
    """Newest first. tenant_id None lists deliveries to unknown tokens (super admins only:
    row-level security hides tenant-less rows from everyone else)."""
    return [
        ReviewEntry.of(r) for r in MpesaCallbackRepository(session).for_review(tenant_id, limit)
    ]


def review_entry(session: Session, callback_id: int) -> ReviewEntry:
    """One stored callback with its raw body, as Daraja sent it."""
    row = MpesaCallbackRepository(session).get(callback_id)
    if row is None:
        raise NotFound("No such callback (or not one you may read).")
    return ReviewEntry.of(row)


def close_review(session: Session, callback_id: int, note: str) -> None:
    """Close a review entry that needs no action (a test payment, a duplicate already
    credited, a foreign paybill…), saying why. Moves no money: a callback that should credit
    someone goes through the suspense list or the statement reconciliation instead."""
    if len(note.strip()) < 3:
        raise ValidationFailed({"note": "Say why this callback needs no action."})
    with translated_db_errors(session):
        MpesaCallbackRepository(session).close_review(callback_id, note.strip())
