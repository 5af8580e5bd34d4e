"""Revealing stored secrets: the database checks the permission and audits the read; the
site key (never in the database) turns the ciphertext back into text."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy.orm import Session

from easyisp_core.crypto import SecretBox
from easyisp_core.repositories.integrity import translated_db_errors
from easyisp_core.repositories.secrets import SecretRepository
from easyisp_core.services.customers import CUSTOMER_PASSWORD
from easyisp_core.services.nas import NAS_API_PASSWORD, NAS_SECRET


@dataclass(frozen=True)
class RouterSecrets:
    radius_secret: str
    api_password: str | None


def reveal_customer_password(
    session: Session, box: SecretBox, customer_id: uuid.UUID
) -> str | None:
    with translated_db_errors(session):
        sealed = SecretRepository(session).customer_password(customer_id)
    return None if sealed is None else box.decrypt(sealed, CUSTOMER_PASSWORD)


def read_router_secrets(session: Session, box: SecretBox, nas_id: uuid.UUID) -> RouterSecrets:
    with translated_db_errors(session):
        secret, api_password = SecretRepository(session).nas_secrets(nas_id)
    return RouterSecrets(
        box.decrypt(secret, NAS_SECRET),
        None if api_password is None else box.decrypt(api_password, NAS_API_PASSWORD),
    )
