"""Writes to one gateway row by id: its sealed credentials and whether it is in use.

Staff may not read `credentials_enc` (no column grant), so a replacement is a plain UPDATE
that never reads the old value back. Row-level security hides a row from an UPDATE without
an error; "nothing updated" is reported as the refusal it is."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import update
from sqlalchemy.orm import Session

from easyisp_core.errors import PermissionDenied
from easyisp_core.models import PaymentGateway, SmsGateway

Gateway = type[PaymentGateway] | type[SmsGateway]


def update_gateway(session: Session, model: Gateway, gateway_id: uuid.UUID, **values: Any) -> None:
    result: Any = session.execute(
        update(model)
        .where(model.id == gateway_id)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount == 0:
        raise PermissionDenied(
            "You do not have permission to change this gateway, or it was deleted meanwhile."
        )
