"""The callback URLs given to Daraja and the production https rule (pure, no database)."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from easyisp_core.errors import ValidationFailed
from easyisp_core.schemas.gateway_config import MpesaGatewayConfig
from easyisp_core.services.gateway_admin import callback_urls


def test_callback_urls_follow_the_site_routes() -> None:
    urls = callback_urls("https://pay.example.net/", "tok", "production")
    assert urls.stk == "https://pay.example.net/pay/tok/stk"
    assert urls.validation == "https://pay.example.net/pay/tok/c2b/validation"
    assert urls.confirmation == "https://pay.example.net/pay/tok/c2b/confirmation"


@pytest.mark.parametrize(
    ("public_url", "environment"),
    [
        ("https://mpesa.example.net", "sandbox"),
        ("https://pay.example.net/SQL", "sandbox"),
        ("http://pay.example.net", "production"),
        ("pay.example.net", "sandbox"),
    ],
)
def test_urls_daraja_would_refuse_are_refused(public_url: str, environment: str) -> None:
    with pytest.raises(ValidationFailed):
        callback_urls(public_url, "tok", environment)


def test_production_needs_an_https_daraja_address() -> None:
    with pytest.raises(ValidationError, match="https"):
        MpesaGatewayConfig(environment="production", base_url="http://api.example.net")
    assert MpesaGatewayConfig(environment="production", base_url="https://api.example.net")
    assert MpesaGatewayConfig(environment="sandbox", base_url="http://127.0.0.1:9000")
