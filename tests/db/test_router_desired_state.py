"""A router's desired state read from the database, then planned against a fresh router."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

from sqlalchemy.orm import Session

from easyisp_core.crypto import SecretBox
from easyisp_core.models import Nas, Package
from easyisp_core.services.vpn import VpnSiteInfo, create_peer_for_nas, publish_site
from radius_service.routers.desired_inputs import load_desired_state
from radius_service.routers.sync_plan import plan_sync
from tests.factories import make_nas, make_package, make_tenant

DATA = Path(__file__).resolve().parents[1] / "data" / "router_sync"


def test_packages_secret_and_vpn_address_become_the_desired_state(
    session: Session, secret_box: SecretBox
) -> None:
    publish_site(
        session,
        VpnSiteInfo("wg-easyisp", "hSDwCYkwp1R0i33ctD73Wg2/Og0mOBr066SpjqqbTmo=",
                    "203.0.113.10", 51820, "10.10.0.0/16"),
    )  # fmt: skip
    tenant = make_tenant(session)
    make_package(session, tenant, name="Home 5M")
    make_package(
        session, tenant, name="1 Hour", type="HOTSPOT", download_speed=Decimal("3"),
        upload_speed=Decimal("1"), validity_value=1, validity_unit="HOURS", shared_users=2,
    )  # fmt: skip
    retired = session.get(Package, make_package(session, tenant, name="Retired").id)
    assert retired is not None
    retired.is_active = False
    session.flush()
    info = make_nas(session, secret_box, tenant, secret="Radius-secret-1")
    nas = session.get(Nas, info.id)
    assert nas is not None
    create_peer_for_nas(session, secret_box, nas)

    desired = load_desired_state(
        session, secret_box, nas.id, portal_host="pay.example-isp.co.ke",
        portal_address="192.0.2.80",
    )  # fmt: skip
    assert desired.service_address == "10.10.0.1"
    assert desired.radius_secret == "Radius-secret-1"
    assert desired.expired_address_list == "easyisp-expired"
    assert sorted((p.name, p.kind, p.rate_limit, p.shared_users) for p in desired.packages) == [
        ("1 Hour", "HOTSPOT", "1M/3M", 2),
        ("Home 5M", "PPPOE", "2M/5M", 1),
    ]
    fresh = json.loads((DATA / "fresh_router.json").read_text(encoding="utf-8"))
    adds = {c.params.get("name") for c in plan_sync(desired, fresh) if "profile" in c.path}
    assert adds >= {"Home 5M", "1 Hour"}
