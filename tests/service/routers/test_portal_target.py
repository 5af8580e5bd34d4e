"""The payment portal as routers need it: walled-garden host and redirect address."""

from __future__ import annotations

import pytest

from easyisp_core.errors import ValidationFailed
from easyisp_core.settings import Settings
from radius_service.routers.portal import PortalTarget, portal_target


def settings(**values: object) -> Settings:
    base: dict[str, object] = {"portal_url": None, "portal_address": None}
    base["vpn_endpoint_host"] = None
    return Settings(**{**base, **values})  # type: ignore[arg-type]


def test_the_portal_defaults_to_the_sites_public_address() -> None:
    configured = settings(vpn_endpoint_host="203.0.113.10")
    assert configured.resolved_portal_url == "http://203.0.113.10/portal"
    assert portal_target(configured) == PortalTarget("203.0.113.10", "203.0.113.10")


def test_a_named_portal_takes_the_configured_address() -> None:
    configured = settings(portal_url="https://pay.example-isp.co.ke/m", portal_address="192.0.2.80")
    assert portal_target(configured) == PortalTarget("pay.example-isp.co.ke", "192.0.2.80")


def test_a_named_portal_is_resolved_when_no_address_is_set() -> None:
    assert portal_target(settings(portal_url="http://localhost:8080/pay")) == PortalTarget(
        "localhost", "127.0.0.1"
    )


def test_no_portal_at_all_is_a_clear_refusal() -> None:
    with pytest.raises(ValidationFailed, match="EASYISP_PORTAL_URL"):
        portal_target(settings())
    with pytest.raises(ValidationFailed, match="EASYISP_PORTAL_ADDRESS"):
        portal_target(settings(portal_url="http://no-such-host.invalid/pay"))
