"""Editing payment (M-Pesa) and SMS gateways from the console.

Secrets are write-only here: the form's values never include them, a blank secret keeps the
stored one, and a partial change (a new passkey only) is merged with the stored credentials
read through the audited definer function."""

from __future__ import annotations

import json
import uuid
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from easyisp_core.crypto import SecretBox
from easyisp_core.errors import NotFound, ValidationFailed
from easyisp_core.models import PaymentGateway, SmsGateway
from easyisp_core.models.enums import GatewayPurpose, PaymentProvider, SmsProvider
from easyisp_core.repositories.gateway_rows import update_gateway
from easyisp_core.repositories.integrity import translated_db_errors
from easyisp_core.repositories.secrets import SecretRepository
from easyisp_core.schemas.gateway_config import (
    MpesaCredentials,
    MpesaGatewayConfig,
    SmsCredentials,
    SmsGatewayConfig,
)
from easyisp_core.schemas.validation import parse
from easyisp_core.services.gateways import PAYMENT_CREDENTIALS, SMS_CREDENTIALS


class PaymentGatewayFields(BaseModel):
    """A payment gateway's settings as the edit form shows them (no secrets)."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=100)
    provider: PaymentProvider
    purpose: GatewayPurpose
    shortcode: str = Field(pattern=r"^\d{5,7}$")
    config: dict[str, Any] = Field(default_factory=dict)
    # Only the secrets typed in; the rest are kept.
    credentials: dict[str, str] = Field(default_factory=dict)


class SmsGatewayFields(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=100)
    provider: SmsProvider
    sender_id: str | None = Field(default=None, max_length=11)
    config: dict[str, Any] = Field(default_factory=dict)
    credentials: dict[str, str] = Field(default_factory=dict)
    is_default: bool = False


def _payment(session: Session, gateway_id: uuid.UUID) -> PaymentGateway:
    gateway = session.get(PaymentGateway, gateway_id)
    if gateway is None:
        raise NotFound("No such payment gateway (or you may not see it).")
    return gateway


def _sms(session: Session, gateway_id: uuid.UUID) -> SmsGateway:
    gateway = session.get(SmsGateway, gateway_id)
    if gateway is None:
        raise NotFound("No such SMS gateway (or you may not see it).")
    return gateway


def payment_gateway_fields(session: Session, gateway_id: uuid.UUID) -> PaymentGatewayFields:
    g = _payment(session, gateway_id)
    return PaymentGatewayFields(
        name=g.name, provider=g.provider, purpose=g.purpose, shortcode=g.shortcode, config=g.config
    )


def sms_gateway_fields(session: Session, gateway_id: uuid.UUID) -> SmsGatewayFields:
    g = _sms(session, gateway_id)
    return SmsGatewayFields(
        name=g.name,
        provider=g.provider,
        sender_id=g.sender_id,
        config=g.config,
        is_default=g.is_default,
    )


NO_SITE_KEY = "this computer has no site key; change credentials on the site server"


def _given(credentials: dict[str, str], box: SecretBox | None) -> dict[str, str]:
    given = {key: value for key, value in credentials.items() if value}
    if given and box is None:
        raise ValidationFailed(dict.fromkeys((f"credentials.{k}" for k in given), NO_SITE_KEY))
    return given


def _merged(
    session: Session, box: SecretBox, table: str, gateway_id: uuid.UUID, purpose: str,
    given: dict[str, str], model: type[BaseModel],
) -> dict[str, Any]:  # fmt: skip
    """The credentials to seal: what was typed, over the stored ones when not all were."""
    if given.keys() >= model.model_fields.keys():
        return given
    sealed = SecretRepository(session).gateway_credentials(table, gateway_id)
    stored = json.loads(box.decrypt(sealed, purpose))
    return {**stored, **given}


def update_payment_gateway(
    session: Session, box: SecretBox | None, gateway_id: uuid.UUID, data: dict[str, Any]
) -> None:
    fields = parse(PaymentGatewayFields, data)
    config = parse(MpesaGatewayConfig, fields.config, field="config")
    gateway = _payment(session, gateway_id)
    with translated_db_errors(session):
        gateway.name = fields.name
        gateway.provider = fields.provider
        gateway.purpose = fields.purpose
        gateway.shortcode = fields.shortcode
        gateway.config = config.model_dump(mode="json")
    given = _given(fields.credentials, box)
    if given and box is not None:
        merged = _merged(
            session, box, "payment_gateways", gateway_id, PAYMENT_CREDENTIALS, given,
            MpesaCredentials,
        )  # fmt: skip
        sealed = parse(MpesaCredentials, merged, field="credentials").model_dump(exclude_none=True)
        with translated_db_errors(session):
            update_gateway(
                session, PaymentGateway, gateway_id,
                credentials_enc=box.encrypt(json.dumps(sealed), PAYMENT_CREDENTIALS),
            )  # fmt: skip


def update_sms_gateway(
    session: Session, box: SecretBox | None, gateway_id: uuid.UUID, data: dict[str, Any]
) -> None:
    fields = parse(SmsGatewayFields, data)
    config = parse(SmsGatewayConfig, fields.config, field="config")
    gateway = _sms(session, gateway_id)
    with translated_db_errors(session):
        gateway.name = fields.name
        gateway.provider = fields.provider
        gateway.sender_id = fields.sender_id
        gateway.config = config.model_dump(mode="json")
        gateway.is_default = fields.is_default
    given = _given(fields.credentials, box)
    if given and box is not None:
        merged = _merged(
            session, box, "sms_gateways", gateway_id, SMS_CREDENTIALS, given, SmsCredentials
        )
        sealed = parse(SmsCredentials, merged, field="credentials").model_dump()
        with translated_db_errors(session):
            update_gateway(
                session, SmsGateway, gateway_id,
                credentials_enc=box.encrypt(json.dumps(sealed), SMS_CREDENTIALS),
            )  # fmt: skip


def set_payment_gateway_active(session: Session, gateway_id: uuid.UUID, active: bool) -> None:
    """Switch a gateway on or off (kept for its history; the database allows one active
    gateway per purpose and says so)."""
    _payment(session, gateway_id)
    with translated_db_errors(session):
        update_gateway(session, PaymentGateway, gateway_id, is_active=active)


def set_sms_gateway_active(session: Session, gateway_id: uuid.UUID, active: bool) -> None:
    _sms(session, gateway_id)
    with translated_db_errors(session):
        values: dict[str, Any] = {"is_active": active}
        if not active:
            values["is_default"] = False  # a switched-off gateway cannot be the one used
        update_gateway(session, SmsGateway, gateway_id, **values)
