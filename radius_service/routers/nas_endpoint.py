"""How to reach a registered router's API: its stored credentials, over the VPN address when
it has one (the tunnel is the only way in for a router behind NAT)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from easyisp_core.crypto import SecretBox
from easyisp_core.errors import ValidationFailed
from easyisp_core.models import Nas
from easyisp_core.rules.router_health import api_host
from easyisp_core.services.secrets import read_router_secrets
from radius_service.routers.connection import API_PORT, RouterEndpoint


def router_endpoint(session: Session, box: SecretBox, nas: Nas) -> RouterEndpoint:
    password = read_router_secrets(session, box, nas.id).api_password
    if not nas.api_username or not password:
        raise ValidationFailed(
            {"api_username": "not set"},
            f"Router {nas.name} has no API user name and password stored: run "
            "`easyisp nas script` and the script on the router, or set them on the router's "
            "record.",
        )
    # The same rule as the health poll: a host set on the record, else the VPN address.
    address = api_host(
        str(nas.ip_address), None if nas.vpn_ip is None else str(nas.vpn_ip), nas.api_host
    )
    # API-SSL on the router's default port when only TLS was asked for.
    port = None if nas.api_use_tls and nas.api_port == API_PORT else nas.api_port
    return RouterEndpoint(
        name=nas.name,
        host=str(address).split("/", 1)[0],
        username=nas.api_username,
        password=password,
        port=port,
        use_tls=nas.api_use_tls,
        # Routers rarely carry a certificate (API-SSL then offers anonymous DH); one that
        # does is pinned at its first poll (trust on first use) and must present it again.
        tls_verify=False,
        tls_fingerprint=nas.api_tls_fingerprint,
    )
