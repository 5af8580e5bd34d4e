"""`easyisp nas sync` against a real database and the RouterOS simulator over TCP."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy.orm import sessionmaker

from easyisp_cli.main import main
from easyisp_core.crypto import SecretBox, new_site_key
from easyisp_core.db.engine import make_engine, session_scope
from easyisp_core.services.vpn import VpnSiteInfo, publish_site
from radius_service.simulator.routeros.controller import SimulatorThread
from tests.factories import make_nas, make_package, make_tenant

API_USER, API_PASSWORD = "easyisp", "Api-pass-2026"


@pytest.fixture
def sim() -> Iterator[SimulatorThread]:
    router = SimulatorThread("7.16", users={API_USER: API_PASSWORD}).start()
    yield router
    router.stop()


@pytest.fixture
def cli(fresh_db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[..., int]:
    monkeypatch.setenv("EASYISP_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("EASYISP_VPN_ENDPOINT_HOST", raising=False)
    monkeypatch.delenv("EASYISP_PORTAL_ADDRESS", raising=False)
    monkeypatch.setenv("EASYISP_PORTAL_URL", "http://192.0.2.80/pay")

    def run(*argv: str) -> int:
        return main(["--database-url", fresh_db_url, *argv])

    return run


def _register(db_url: str, key: str, sim: SimulatorThread, *, password: str = API_PASSWORD) -> str:
    """A tenant with one package and the simulator as its router; returns the tenant name."""
    box = SecretBox.from_encoded(key)
    engine = make_engine(db_url)
    try:
        with session_scope(sessionmaker(engine)) as session:
            publish_site(
                session,
                VpnSiteInfo("wg-easyisp", "hSDwCYkwp1R0i33ctD73Wg2/Og0mOBr066SpjqqbTmo=",
                            "203.0.113.10", 51820, "10.10.0.0/16"),
            )  # fmt: skip
            tenant = make_tenant(session)
            make_package(session, tenant, name="Home 5M", download_speed=Decimal("5"))
            host, port = sim.address
            make_nas(session, box, tenant, name="tower", ip_address=host, api_port=port,
                     api_username=API_USER, api_password=password)  # fmt: skip
            return tenant.name
    finally:
        engine.dispose()


def test_dry_run_prints_the_plan_then_sync_applies_it_once(
    cli: Callable[..., int],
    fresh_db_url: str,
    sim: SimulatorThread,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    key = new_site_key()
    monkeypatch.setenv("EASYISP_SITE_KEY", key)
    tenant = _register(fresh_db_url, key, sim)

    assert cli("nas", "sync", "tower", "--tenant", tenant, "--dry-run") == 0
    out = capsys.readouterr().out
    assert sim.state.writes == 0
    assert out.startswith(f"Router tower ({sim.address[0]}:{sim.address[1]}):\n1. ")
    assert '/ppp/profile add: name="Home 5M" rate-limit=2M/5M' in out
    assert "/ip/hotspot/walled-garden/ip add: dst-address=192.0.2.80" in out
    assert "/ip/firewall/nat add: chain=dstnat src-address-list=easyisp-expired" in out
    assert "secret=***" in out
    planned = out.count("\n") - 2
    assert out.rstrip().endswith(f"{planned} changes planned, none applied (dry run).")

    assert cli("nas", "sync", "tower", "--tenant", tenant) == 0
    assert capsys.readouterr().out.rstrip().endswith(f"{planned} changes applied.")
    assert sim.state.writes == planned

    assert cli("nas", "sync", "tower", "--tenant", tenant, "--json") == 0
    again = json.loads(capsys.readouterr().out)
    assert again["changes"] == []
    assert again["applied"] is False
    assert again["summary"] == "Router tower already matches; nothing changed."
    assert sim.state.writes == planned


def test_a_refused_login_is_a_clear_error_and_changes_nothing(
    cli: Callable[..., int],
    fresh_db_url: str,
    sim: SimulatorThread,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    key = new_site_key()
    monkeypatch.setenv("EASYISP_SITE_KEY", key)
    tenant = _register(fresh_db_url, key, sim, password="not-the-password")
    assert cli("nas", "sync", "tower", "--tenant", tenant) != 0
    err = capsys.readouterr().err
    assert "Router tower: login refused" in err
    assert "API user name and password" in err
    assert sim.state.writes == 0


def test_without_a_portal_address_the_sync_is_refused_before_connecting(
    cli: Callable[..., int],
    fresh_db_url: str,
    sim: SimulatorThread,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    key = new_site_key()
    monkeypatch.setenv("EASYISP_SITE_KEY", key)
    monkeypatch.delenv("EASYISP_PORTAL_URL")
    tenant = _register(fresh_db_url, key, sim)
    assert cli("nas", "sync", "tower", "--tenant", tenant) != 0
    assert "EASYISP_PORTAL_URL" in capsys.readouterr().err
    assert sim.simulator.logins == 0
