"""Operator administration of M-Pesa gateways: the callback URLs to give Daraja (checked
against Daraja's rules), listings without secrets, switching a gateway off, and what a C2B
URL registration needs."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy.orm import Session

from easyisp_core.crypto import SecretBox
from easyisp_core.errors import ValidationFailed
from easyisp_core.models import PaymentGateway
from easyisp_core.repositories.payment_gateways import PaymentGatewayRepository
from easyisp_core.repositories.tenants import TenantRepository
from easyisp_core.rules.mpesa import DARAJA_REFUSED_URL_WORDS, daraja_accepts_url
from easyisp_core.schemas.gateway_config import MpesaGatewayConfig
from easyisp_core.services.stk_purchase import GatewaySettings, gateway_settings


@dataclass(frozen=True)
class CallbackUrls:
    """The site's routes for one gateway (radius_service/http/callbacks.py)."""

    stk: str
    validation: str
    confirmation: str
    # Transaction Status answers (ResultURL, QueueTimeOutURL); the service names them itself.
    status_result: str
    status_timeout: str


@dataclass(frozen=True)
class PaymentGatewayRow:
    """One gateway as listed: settings only, never credentials nor the callback token."""

    id: uuid.UUID
    name: str
    provider: str
    purpose: str
    shortcode: str
    till_number: str | None
    environment: str
    base_url: str | None
    allowed_callback_ips: list[str]
    is_active: bool

    @classmethod
    def of(cls, gateway: PaymentGateway) -> PaymentGatewayRow:
        config = MpesaGatewayConfig.model_validate(gateway.config)
        return cls(
            id=gateway.id,
            name=gateway.name,
            provider=str(gateway.provider),
            purpose=str(gateway.purpose),
            shortcode=gateway.shortcode,
            till_number=config.till_number,
            environment=config.environment,
            base_url=config.base_url,
            allowed_callback_ips=list(config.allowed_callback_ips),
            is_active=gateway.is_active,
        )


def callback_urls(public_url: str, token: str, environment: str) -> CallbackUrls:
    """The URLs Daraja will call, refused here when Daraja would refuse them."""
    base = public_url.rstrip("/")
    if not base.startswith(("http://", "https://")):
        raise ValidationFailed({"EASYISP_PUBLIC_URL": f"{public_url!r} is not an http(s) URL"})
    if environment == "production" and not base.startswith("https://"):
        raise ValidationFailed(
            {"EASYISP_PUBLIC_URL": "production Daraja calls back only to https URLs"}
        )
    urls = CallbackUrls(
        stk=f"{base}/pay/{token}/stk",
        validation=f"{base}/pay/{token}/c2b/validation",
        confirmation=f"{base}/pay/{token}/c2b/confirmation",
        status_result=f"{base}/pay/{token}/status/result",
        status_timeout=f"{base}/pay/{token}/status/timeout",
    )
    if not daraja_accepts_url(urls.confirmation):
        words = ", ".join(DARAJA_REFUSED_URL_WORDS)
        raise ValidationFailed(
            {"EASYISP_PUBLIC_URL": f"Daraja refuses URLs containing any of: {words}"}
        )
    return urls


def list_payment_gateways(session: Session, tenant: str) -> list[PaymentGatewayRow]:
    tenant_id = TenantRepository(session).get_by_name(tenant).id
    return [PaymentGatewayRow.of(g) for g in PaymentGatewayRepository(session).list(tenant_id)]


def deactivate_payment_gateway(session: Session, tenant: str, name: str) -> PaymentGatewayRow:
    repo = PaymentGatewayRepository(session)
    gateway = repo.get_by_name(TenantRepository(session).get_by_name(tenant).id, name)
    repo.deactivate(gateway.id)
    session.refresh(gateway)
    return PaymentGatewayRow.of(gateway)


@dataclass(frozen=True)
class C2bRegistrationPlan:
    settings: GatewaySettings
    urls: CallbackUrls


def plan_c2b_registration(
    session: Session, box: SecretBox, tenant: str, name: str, public_url: str | None
) -> C2bRegistrationPlan:
    """Everything `register_c2b_urls` needs for one active gateway, credentials decrypted."""
    if not public_url:
        raise ValidationFailed(
            {"EASYISP_PUBLIC_URL": "set it to the site's public address before registering"}
        )
    repo = PaymentGatewayRepository(session)
    gateway = repo.get_by_name(TenantRepository(session).get_by_name(tenant).id, name)
    if not gateway.is_active:
        raise ValidationFailed({"gateway": f"{name!r} is deactivated"})
    settings = gateway_settings(session, box, gateway)
    urls = callback_urls(public_url, settings.callback_token, settings.config.environment)
    return C2bRegistrationPlan(settings, urls)
