"""Routers (NAS): registration with encrypted secrets."""

from __future__ import annotations

import secrets
from ipaddress import IPv4Address, IPv6Address
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from easyisp_core.crypto import SecretBox
from easyisp_core.models import Nas
from easyisp_core.repositories.integrity import translated_db_errors
from easyisp_core.repositories.tenants import TenantRepository
from easyisp_core.schemas.validation import parse
from easyisp_core.services.results import NasInfo

# Purposes bind each ciphertext to its column (see crypto.SecretBox).
NAS_SECRET = "nas.secret"  # noqa: S105 - a purpose label, not a secret
NAS_API_PASSWORD = "nas.api_password"  # noqa: S105 - a label, not a password


class NewNas(BaseModel):
    model_config = ConfigDict(extra="forbid")

    tenant: str
    name: str = Field(min_length=1, max_length=100)
    ip_address: IPv4Address | IPv6Address
    # Generated when not given: 24 random URL-safe characters.
    secret: str | None = Field(default=None, min_length=8, max_length=128)
    api_username: str | None = Field(default=None, max_length=100)
    api_password: str | None = Field(default=None, max_length=128)
    api_port: int = Field(default=8728, ge=1, le=65535)
    location: str | None = Field(default=None, max_length=200)
    require_message_authenticator: bool = True


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
