"""The ROUTER_SYNC job function: database in, router synced, a short result text out."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from decimal import Decimal

import pytest
from sqlalchemy.orm import sessionmaker

from easyisp_core.crypto import SecretBox
from easyisp_core.db.engine import make_engine, session_scope
from easyisp_core.errors import NotFound
from easyisp_core.services.vpn import VpnSiteInfo, publish_site
from easyisp_core.settings import Settings
from radius_service.routers.errors import RouterUnreachable
from radius_service.routers.sync_command import run_router_sync
from radius_service.simulator.routeros.controller import SimulatorThread
from tests.factories import make_nas, make_package, make_tenant
from tests.service.routers.conftest import PASSWORD, USER, run

SETTINGS = Settings(portal_url="https://pay.example-isp.co.ke/", portal_address="192.0.2.80")


def test_a_sync_command_brings_the_router_up_to_date_and_reports_briefly(
    fresh_db_url: str, secret_box: SecretBox, start_sim: Callable[..., SimulatorThread]
) -> None:
    sim = start_sim("6.49.10")
    engine = make_engine(fresh_db_url)
    sessions = sessionmaker(engine, expire_on_commit=False)
    try:
        with session_scope(sessions) as session:
            publish_site(
                session,
                VpnSiteInfo("wg-easyisp", "hSDwCYkwp1R0i33ctD73Wg2/Og0mOBr066SpjqqbTmo=",
                            "203.0.113.10", 51820, "10.10.0.0/16"),
            )  # fmt: skip
            tenant = make_tenant(session)
            make_package(session, tenant, name="Home 5M", download_speed=Decimal("5"))
            host, port = sim.address
            login = {"api_username": USER, "api_password": PASSWORD}
            nas_id = make_nas(session, secret_box, tenant, name="tower", ip_address=host,
                              api_port=port, **login).id  # fmt: skip
            # Nothing listens on 127.0.0.2:1: connection refused.
            dead_id = make_nas(session, secret_box, tenant, name="dead", ip_address="127.0.0.2",
                               api_port=1, **login).id  # fmt: skip

        text = run(run_router_sync(sessions, secret_box, SETTINGS, nas_id))
        assert text.startswith("Router tower: ")
        assert text.endswith(" changes applied.")
        assert sim.state.writes == int(text.split()[2])
        walled = {row["dst-host"] for row in sim.state.rows("/ip/hotspot/walled-garden")}
        assert "pay.example-isp.co.ke" in walled

        again = run(run_router_sync(sessions, secret_box, SETTINGS, nas_id))
        assert again == "Router tower already matches; nothing changed."

        with pytest.raises(RouterUnreachable, match="Router dead: cannot connect"):
            run(run_router_sync(sessions, secret_box, SETTINGS, dead_id))
        with pytest.raises(NotFound):
            run(run_router_sync(sessions, secret_box, SETTINGS, uuid.uuid4()))
    finally:
        engine.dispose()
