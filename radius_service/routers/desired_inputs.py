"""Build a router's desired state from the database: its tenant's active packages, its RADIUS
secret, the tenant's expired-subscriber address list and how the router reaches the site."""

from __future__ import annotations

import uuid

from sqlalchemy.orm import Session

from easyisp_core.crypto import SecretBox
from easyisp_core.errors import NotFound
from easyisp_core.models import Nas
from easyisp_core.repositories.packages import PackageRepository
from easyisp_core.rules.rate_limit import RateLimitSpec
from easyisp_core.rules.vpn_addresses import parse_range, site_address
from easyisp_core.services.radius_auth import tenant_expired_settings
from easyisp_core.services.secrets import read_router_secrets
from easyisp_core.services.vpn import read_site
from radius_service.routers.desired_state import PackageProfile, RouterDesiredState


def load_desired_state(
    session: Session, box: SecretBox, nas_id: uuid.UUID, *, portal_host: str, portal_address: str
) -> RouterDesiredState:
    nas = session.get(Nas, nas_id)
    if nas is None:
        raise NotFound("No such router.")
    site = read_site(session)
    if nas.vpn_ip is not None and site is not None:
        # Over the tunnel the router sees the site at the range's first host.
        service_address = str(site_address(parse_range(site.address_range)))
    elif site is not None:
        service_address = site.endpoint_host
    else:
        raise NotFound("The site has no published address yet; start the site service once.")
    packages = tuple(
        PackageProfile.of(
            p.name,
            str(p.type),
            RateLimitSpec(
                download_mbps=p.download_speed,
                upload_mbps=p.upload_speed,
                burst_download_mbps=p.burst_download,
                burst_upload_mbps=p.burst_upload,
                burst_threshold_download_mbps=p.burst_threshold_download,
                burst_threshold_upload_mbps=p.burst_threshold_upload,
                burst_time_seconds=p.burst_time,
                priority=p.priority,
            ),
            address_pool=p.address_pool,
            shared_users=p.shared_users,
        )
        for p in PackageRepository(session).list(nas.tenant_id)
        if p.is_active
    )
    expired = tenant_expired_settings(session, nas.tenant_id)
    secrets = read_router_secrets(session, box, nas.id)
    return RouterDesiredState(
        service_address=service_address,
        radius_secret=secrets.radius_secret,
        secret_check_key=secrets.api_password or "",
        portal_host=portal_host,
        portal_address=portal_address,
        packages=packages,
        coa_port=nas.coa_port,
        expired_address_list=expired.expired_address_list,
        expired_pool=expired.expired_pool_name if expired.accept_into_expired_pool else None,
        expired_pool_ranges=expired.expired_pool_ranges,
    )
