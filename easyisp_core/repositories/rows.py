"""Deleting one row by id, with row-level security's silent refusals made loud."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import delete
from sqlalchemy.orm import Session

from easyisp_core.errors import PermissionDenied


def delete_by_id(session: Session, model: Any, row_id: uuid.UUID) -> None:
    """Delete the row `row_id` of `model`'s table. A policy that refuses a DELETE hides the row
    instead of raising, so "nothing deleted" is reported as the refusal it is."""
    result: Any = session.execute(delete(model).where(model.id == row_id))
    if result.rowcount == 0:
        raise PermissionDenied(
            "You do not have permission to delete this, or someone else deleted it meanwhile."
        )
