"""Building the client for a stored gateway (provider, typed config, decrypted credentials)."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from easyisp_core.errors import ValidationFailed
from easyisp_core.schemas.gateway_config import SmsCredentials, SmsGatewayConfig
from radius_service.sms import advanta, africastalking
from radius_service.sms.gateway import DeliveryReport, SmsGateway

DlrParser = Callable[[Mapping[str, str]], DeliveryReport | None]


def build_client(
    provider: str, config: SmsGatewayConfig, credentials: SmsCredentials
) -> SmsGateway:
    base = str(config.base_url).rstrip("/") if config.base_url else None
    if provider == "AFRICASTALKING":
        if not config.username:
            raise ValidationFailed({"username": "Africa's Talking needs the account username"})
        return africastalking.AfricasTalkingClient(
            config.username,
            credentials.api_key,
            base_url=base or africastalking.LIVE_BASE_URL,
        )
    if provider in ("ADVANTA", "CELCOM"):
        if not config.partner_id:
            raise ValidationFailed({"partner_id": "the partner ID is required"})
        default = advanta.ADVANTA_BASE_URL if provider == "ADVANTA" else advanta.CELCOM_BASE_URL
        return advanta.AdvantaClient(
            credentials.api_key, config.partner_id, base_url=base or default, provider=provider
        )
    raise ValidationFailed({"provider": f"{provider} is not supported for sending yet"})


def delivery_report_parser(provider: str) -> DlrParser | None:
    if provider == "AFRICASTALKING":
        return africastalking.parse_delivery_report
    if provider in ("ADVANTA", "CELCOM"):
        return advanta.parse_delivery_report
    return None
