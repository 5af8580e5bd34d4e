"""Payment (M-Pesa) and SMS gateways: typed settings in JSON, credentials encrypted apart."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from easyisp_core.crypto import SecretBox
from easyisp_core.errors import ValidationFailed
from easyisp_core.models import PaymentGateway, SmsGateway
from easyisp_core.models.enums import GatewayPurpose, PaymentProvider, SmsProvider
from easyisp_core.repositories.integrity import translated_db_errors
from easyisp_core.repositories.tenants import TenantRepository
from easyisp_core.rules.mpesa import new_callback_token
from easyisp_core.schemas.gateway_config import (
    MpesaCredentials,
    MpesaGatewayConfig,
    SmsCredentials,
    SmsGatewayConfig,
)
from easyisp_core.schemas.validation import parse, parse_parts

PAYMENT_CREDENTIALS = "payment_gateway.credentials"
SMS_CREDENTIALS = "sms_gateway.credentials"


class NewPaymentGateway(BaseModel):
    model_config = ConfigDict(extra="forbid")

    tenant: str
    name: str = Field(min_length=1, max_length=100)
    provider: PaymentProvider
    purpose: GatewayPurpose = GatewayPurpose.ALL
    shortcode: str = Field(pattern=r"^\d{5,7}$")
    config: dict[str, Any] = Field(default_factory=dict)
    credentials: dict[str, Any]


class NewSmsGateway(BaseModel):
    model_config = ConfigDict(extra="forbid")

    tenant: str
    name: str = Field(min_length=1, max_length=100)
    provider: SmsProvider
    sender_id: str | None = Field(default=None, max_length=11)
    config: dict[str, Any] = Field(default_factory=dict)
    credentials: dict[str, Any]
    is_default: bool = False


@dataclass(frozen=True)
class GatewayInfo:
    id: uuid.UUID
    name: str
    provider: str
    callback_token: str | None = None


def create_payment_gateway(
    session: Session, box: SecretBox, data: NewPaymentGateway | dict[str, Any]
) -> GatewayInfo:
    new = data if isinstance(data, NewPaymentGateway) else parse(NewPaymentGateway, data)
    config, credentials = parse_parts(
        (MpesaGatewayConfig, new.config, "config"),
        (MpesaCredentials, new.credentials, "credentials"),
    )
    tenant = TenantRepository(session).get_by_name(new.tenant)
    gateway = PaymentGateway(
        tenant_id=tenant.id,
        name=new.name,
        provider=new.provider,
        purpose=new.purpose,
        shortcode=new.shortcode,
        config=config.model_dump(mode="json"),
        credentials_enc=box.encrypt(
            json.dumps(credentials.model_dump(exclude_none=True)), PAYMENT_CREDENTIALS
        ),
        # The unguessable part of this gateway's callback URLs.
        callback_token=new_callback_token(),
    )
    with translated_db_errors(session):
        session.add(gateway)
    return GatewayInfo(gateway.id, gateway.name, str(gateway.provider), gateway.callback_token)


def create_sms_gateway(
    session: Session, box: SecretBox, data: NewSmsGateway | dict[str, Any]
) -> GatewayInfo:
    new = data if isinstance(data, NewSmsGateway) else parse(NewSmsGateway, data)
    config, credentials = parse_parts(
        (SmsGatewayConfig, new.config, "config"),
        (SmsCredentials, new.credentials, "credentials"),
    )
    # What each provider's API needs to send (docs/sms.md), refused now rather than at send.
    assert isinstance(config, SmsGatewayConfig)
    if new.provider is SmsProvider.AFRICASTALKING and not config.username:
        raise ValidationFailed({"username": "Africa's Talking needs the account username"})
    if new.provider in (SmsProvider.ADVANTA, SmsProvider.CELCOM) and not config.partner_id:
        raise ValidationFailed({"partner_id": f"{new.provider} needs the partner ID"})
    tenant = TenantRepository(session).get_by_name(new.tenant)
    gateway = SmsGateway(
        tenant_id=tenant.id,
        name=new.name,
        provider=new.provider,
        sender_id=new.sender_id,
        config=config.model_dump(mode="json"),
        credentials_enc=box.encrypt(json.dumps(credentials.model_dump()), SMS_CREDENTIALS),
        is_default=new.is_default,
        # The unguessable part of its delivery-report URL (/sms/<token>/dlr).
        callback_token=new_callback_token(),
    )
    with translated_db_errors(session):
        session.add(gateway)
    return GatewayInfo(gateway.id, gateway.name, str(gateway.provider), gateway.callback_token)
