"""Deleting a customer registered by mistake. A professional ISP never deletes a subscriber
with money or usage history; that one is suspended instead. The database enforces the rule
for every client (migration 0031); this service says it first, in the operator's words."""

from __future__ import annotations

import uuid

from sqlalchemy.orm import Session

from easyisp_core.errors import NotFound, PermissionDenied, ValidationFailed
from easyisp_core.repositories.customer_removal import CustomerRemovalRepository
from easyisp_core.repositories.integrity import translated_db_errors


def customer_history(session: Session, customer_id: uuid.UUID) -> list[str]:
    """What keeps the customer from being deleted ([] when nothing does)."""
    history = CustomerRemovalRepository(session).history(customer_id)
    if history is None:
        raise NotFound("No such customer (or it is not visible to you).")
    return history


def why_not_deletable(name: str, history: list[str]) -> str:
    return (
        f"{name} has {_words(history)} on record, so they cannot be deleted; suspend them instead."
    )


def delete_customer(session: Session, customer_id: uuid.UUID) -> str:
    """Delete a customer with no payments, wallet entries, invoices or sessions; their name.
    The audit trail keeps the CUSTOMER_DELETE row with everything they had."""
    history = customer_history(session, customer_id)  # NotFound for a hidden or absent one
    removal = CustomerRemovalRepository(session)
    name = removal.name(customer_id) or ""
    if history:
        message = why_not_deletable(name, history)
        raise ValidationFailed({"customer": message}, message)
    with translated_db_errors(session):
        deleted = removal.delete(customer_id)
    if deleted == 0:
        raise PermissionDenied("You do not have permission to do this: delete customers.")
    return name


def _words(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]
