"""Router onboarding: gather what the script needs (VPN peer, secrets, API login) and render it.

Reading the RADIUS secret and the router's WireGuard private key is permission-checked and
audited by the database (`nas.secrets.read`), as any other reveal of a router secret.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass

from sqlalchemy.orm import Session

from easyisp_core.crypto import SecretBox
from easyisp_core.errors import NotFound, ValidationFailed
from easyisp_core.onboarding.script import RouterOnboarding, RouterVpn, SiteEndpoint, render_script
from easyisp_core.onboarding.syntax import check_script
from easyisp_core.repositories.integrity import translated_db_errors
from easyisp_core.repositories.nas import NasRepository
from easyisp_core.repositories.onboarding import OnboardingRepository
from easyisp_core.repositories.tenants import TenantRepository
from easyisp_core.rules.vpn_addresses import parse_range, site_address
from easyisp_core.services.nas import NAS_API_PASSWORD
from easyisp_core.services.secrets import read_router_secrets
from easyisp_core.services.vpn import (
    create_peer_for_nas,
    peer_for_nas,
    read_site,
    reveal_peer_private_key,
)

DEFAULT_API_USERNAME = "easyisp"


@dataclass(frozen=True)
class OnboardingScript:
    router: str
    routeros_major: int
    filename: str
    text: str


def routeros_major_of(version: str | None) -> int | None:
    """7 for "7.15.2 (stable)", None when the version is unknown or unreadable."""
    match = re.match(r"\s*(\d+)\.", version or "")
    return int(match.group(1)) if match else None


def onboarding_script(
    session: Session,
    box: SecretBox,
    tenant_name: str,
    nas_name: str,
    routeros_major: int | None = None,
) -> OnboardingScript:
    tenant = TenantRepository(session).get_by_name(tenant_name)
    nas = NasRepository(session).get_by_name(tenant.id, nas_name)
    major = routeros_major or routeros_major_of(nas.routeros_version) or 7
    if major not in (6, 7):
        raise ValidationFailed({"routeros": "RouterOS 6 or 7"})
    site = read_site(session)
    if site is None:
        raise NotFound(
            "The site service has not published its WireGuard identity yet: set "
            "EASYISP_VPN_ENDPOINT_HOST and start `easyisp service` once."
        )
    network = parse_range(site.address_range)
    router_secrets = read_router_secrets(session, box, nas.id)
    username, password = nas.api_username, router_secrets.api_password
    if not username or not password:
        username, password = username or DEFAULT_API_USERNAME, secrets.token_urlsafe(18)
        with translated_db_errors(session):
            OnboardingRepository(session).set_api_credentials(
                nas.id, username, box.encrypt(password, NAS_API_PASSWORD)
            )
        session.expire(nas, ["api_username"])
    vpn = None
    if major == 7:
        peer = peer_for_nas(session, nas.id) or create_peer_for_nas(session, box, nas)
        vpn = RouterVpn(reveal_peer_private_key(session, box, peer.id), peer.assigned_ip)
    router = RouterOnboarding(
        name=nas.name,
        routeros_major=major,
        radius_secret=router_secrets.radius_secret,
        api_username=username,
        api_password=password,
        vpn=vpn,
        coa_port=nas.coa_port,
        require_message_auth=nas.require_message_authenticator,
    )
    endpoint = SiteEndpoint(
        public_key=site.public_key,
        endpoint_host=site.endpoint_host,
        endpoint_port=site.endpoint_port,
        vpn_address=str(site_address(network)),
        vpn_prefix=network.prefixlen,
    )
    try:
        text = render_script(router, endpoint)
    except ValueError as exc:
        raise ValidationFailed({"routeros": str(exc)}, str(exc)) from exc
    problems = check_script(text)
    if problems:  # a bug in the generator, never the operator's input: refuse to hand it out
        raise RuntimeError(f"generated script failed the syntax check: {problems[0]}")
    slug = re.sub(r"[^A-Za-z0-9._-]+", "-", nas.name).strip("-") or "router"
    return OnboardingScript(nas.name, major, f"easyisp-{slug}.rsc", text)
