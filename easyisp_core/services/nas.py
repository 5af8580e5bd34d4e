"""Routers (NAS): registration with encrypted secrets."""

from __future__ import annotations

import secrets
import uuid
from ipaddress import IPv4Address, IPv6Address, ip_address
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from easyisp_core.crypto import SecretBox
from easyisp_core.errors import ValidationFailed
from easyisp_core.models import Nas
from easyisp_core.repositories.integrity import translated_db_errors
from easyisp_core.repositories.nas import NasRepository
from easyisp_core.repositories.tenants import TenantRepository
from easyisp_core.schemas.validation import parse
from easyisp_core.services.results import NasInfo

# Purposes bind each ciphertext to its column (see crypto.SecretBox).
NAS_SECRET = "nas.secret"  # noqa: S105 - a purpose label, not a secret
NAS_API_PASSWORD = "nas.api_password"  # noqa: S105 - a label, not a password


class NasFields(BaseModel):
    """What an operator edits about a router; empty secrets mean "keep" (or "generate")."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=100)
    ip_address: IPv4Address | IPv6Address
    # Generated when not given: 24 random URL-safe characters.
    secret: str | None = Field(default=None, min_length=8, max_length=128)
    api_username: str | None = Field(default=None, max_length=100)
    api_password: str | None = Field(default=None, max_length=128)
    api_port: int = Field(default=8728, ge=1, le=65535)
    location: str | None = Field(default=None, max_length=200)
    require_message_authenticator: bool = True
    # Edit only: forget the API-SSL certificate pinned at the first poll (after replacing the
    # router's certificate on purpose); the next poll pins the one it then presents.
    forget_tls_certificate: bool = False


class NewNas(NasFields):
    tenant: str


def create_nas(
    session: Session, box: SecretBox, data: NewNas | dict[str, Any]
) -> tuple[NasInfo, str]:
    """Register a router; returns it and its RADIUS shared secret (shown once to the operator)."""
    new = data if isinstance(data, NewNas) else parse(NewNas, data)
    tenant = TenantRepository(session).get_by_name(new.tenant)
    secret = new.secret or secrets.token_urlsafe(18)
    nas = Nas(
        tenant_id=tenant.id,
        name=new.name,
        ip_address=str(new.ip_address),
        secret_enc=box.encrypt(secret, NAS_SECRET),
        api_username=new.api_username,
        api_password_enc=(
            box.encrypt(new.api_password, NAS_API_PASSWORD) if new.api_password else None
        ),
        api_port=new.api_port,
        location=new.location,
        require_message_authenticator=new.require_message_authenticator,
    )
    with translated_db_errors(session):
        session.add(nas)
    return NasInfo.of(nas), secret


def nas_fields(session: Session, nas_id: uuid.UUID) -> NasFields:
    """A router's current values for the edit form, without its secrets."""
    nas = NasRepository(session).get(nas_id)
    return NasFields(
        name=nas.name,
        ip_address=ip_address(str(nas.ip_address)),
        api_username=nas.api_username,
        api_port=nas.api_port,
        location=nas.location,
        require_message_authenticator=nas.require_message_authenticator,
    )


def update_nas(
    session: Session, box: SecretBox | None, nas_id: uuid.UUID, data: NasFields | dict[str, Any]
) -> NasInfo:
    """Change a router; a secret or API password given replaces the stored one (encrypted),
    one left empty stays as it was. Without the site key (`box`) secrets cannot change."""
    changes = data if isinstance(data, NasFields) else parse(NasFields, data)
    if box is None and (changes.secret or changes.api_password):
        raise ValidationFailed(
            {"secret": "this computer has no site key; change secrets on the site server"}
        )
    nas = NasRepository(session).get(nas_id)
    with translated_db_errors(session):
        nas.name = changes.name
        nas.ip_address = str(changes.ip_address)
        nas.api_username = changes.api_username
        nas.api_port = changes.api_port
        nas.location = changes.location
        nas.require_message_authenticator = changes.require_message_authenticator
        if box is not None and changes.secret:
            nas.secret_enc = box.encrypt(changes.secret, NAS_SECRET)
        if box is not None and changes.api_password:
            nas.api_password_enc = box.encrypt(changes.api_password, NAS_API_PASSWORD)
        if changes.forget_tls_certificate:
            nas.api_tls_fingerprint = None
    return NasInfo.of(nas)


def delete_nas(session: Session, nas_id: uuid.UUID) -> None:
    """Remove a router (its sessions and customers keep their rows, unlinked)."""
    repository = NasRepository(session)
    repository.get(nas_id)
    with translated_db_errors(session):
        repository.delete(nas_id)


def router_choices(session: Session, tenant_id: uuid.UUID) -> list[tuple[str, str]]:
    """(name, "name — address") of the tenant's routers, for a pick list (the services take
    a router by name)."""
    return [(n.name, f"{n.name} — {n.ip_address}") for n in NasRepository(session).list(tenant_id)]
