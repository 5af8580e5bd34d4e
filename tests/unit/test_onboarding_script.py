"""Onboarding scripts: exact golden files, our syntax check, and hostile values escaped."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import pytest

from easyisp_core.onboarding.quoting import quote
from easyisp_core.onboarding.script import (
    RouterOnboarding,
    RouterVpn,
    SiteEndpoint,
    render_script,
)
from easyisp_core.onboarding.syntax import check_script
from easyisp_core.services.onboarding import routeros_major_of

GOLDEN = Path(__file__).resolve().parents[1] / "data" / "onboarding"
SITE = SiteEndpoint(
    public_key="hSDwCYkwp1R0i33ctD73Wg2/Og0mOBr066SpjqqbTmo=",
    endpoint_host="203.0.113.10",
    endpoint_port=51820,
    vpn_address="10.10.0.1",
    vpn_prefix=16,
)
ROUTER_V7 = RouterOnboarding(
    name="hilltop-1",
    routeros_major=7,
    radius_secret="Zx8-radius-secret",
    api_username="easyisp",
    api_password="Api-pass-2026",
    vpn=RouterVpn("gLP306E2BCZBeyZ0ILrS5Ubdg4VjkFYiWkg7HpKYM10=", "10.10.0.2"),
)
ROUTER_V6 = dataclasses.replace(ROUTER_V7, name="shop-2", routeros_major=6, vpn=None)


@pytest.mark.parametrize(
    ("router", "golden"), [(ROUTER_V7, "hilltop-1.v7.rsc"), (ROUTER_V6, "shop-2.v6.rsc")]
)
def test_scripts_match_the_golden_files_exactly(router: RouterOnboarding, golden: str) -> None:
    script = render_script(router, SITE)
    path = GOLDEN / golden
    if os.environ.get("EASYISP_UPDATE_GOLDEN"):
        path.write_text(script, encoding="ascii")
    assert script == path.read_text(encoding="ascii")
    assert check_script(script) == []


def test_the_v6_script_says_plainly_there_is_no_vpn() -> None:
    script = render_script(ROUTER_V6, SITE)
    head = script.splitlines()[:3]
    assert any("NO WireGuard" in line for line in head)
    assert "wireguard" not in script.replace("WireGuard", "")
    assert "require-message-auth" not in script


def test_the_v7_script_has_every_piece_the_site_needs() -> None:
    script = render_script(ROUTER_V7, SITE)
    for piece in (
        'public-key="hSDwCYkwp1R0i33ctD73Wg2/Og0mOBr066SpjqqbTmo="',
        "endpoint-address=203.0.113.10 endpoint-port=51820",
        "allowed-address=10.10.0.1/32 persistent-keepalive=25s",
        "add address=10.10.0.2/16 interface=wg-easyisp",
        'add address=10.10.0.1 secret="Zx8-radius-secret" service=ppp,hotspot',
        "require-message-auth=yes-for-request-resp",
        "set accept=yes",
        "set use-radius=yes accounting=yes interim-update=5m",
        "set [find] use-radius=yes",
        "policy=api,read,write,test",
        "src-address=10.10.0.1 action=accept",
    ):
        assert piece in script


HOSTILE = 'x" ; /system reset-configuration ; :put "$pwned ?\n/user remove [find]\\'


def test_hostile_values_stay_inside_their_strings() -> None:
    router = dataclasses.replace(
        ROUTER_V7,
        name=HOSTILE,
        radius_secret=HOSTILE,
        api_username=HOSTILE,
        api_password=HOSTILE + "é\t",
    )
    script = render_script(router, SITE)
    assert check_script(script) == []
    assert "\n/system" not in script
    assert "\n/user remove" not in script
    assert HOSTILE not in script
    # Every line still starts as our own lines do: a comment, a menu, a verb or `:do`.
    for line in script.splitlines():
        assert line.split(" ")[0] in {"#", "add", "set", "move", ":do"} or line.startswith("/")
    assert quote(HOSTILE) in script


@pytest.mark.parametrize(
    ("raw", "quoted"),
    [
        ("plain", '"plain"'),
        ('a"b', '"a\\"b"'),
        ("a\\b", '"a\\\\b"'),
        ("$x", '"\\$x"'),
        ("what?", '"what\\?"'),
        ("a\nb\r\tc", '"a\\nb\\r\\tc"'),
        ("\x01", '"\\01"'),
        ("é", '"\\C3\\A9"'),
    ],
)
def test_quote_escapes_what_routeros_interprets(raw: str, quoted: str) -> None:
    assert quote(raw) == quoted
    assert check_script(f"/system identity set name={quoted}") == []


def test_v7_without_a_vpn_and_v6_with_a_hostname_are_refused() -> None:
    with pytest.raises(ValueError, match="VPN"):
        render_script(dataclasses.replace(ROUTER_V7, vpn=None), SITE)
    with pytest.raises(ValueError, match="IP address"):
        render_script(ROUTER_V6, dataclasses.replace(SITE, endpoint_host="vpn.example.com"))
    with pytest.raises(ValueError, match="not supported"):
        render_script(dataclasses.replace(ROUTER_V7, routeros_major=5), SITE)


@pytest.mark.parametrize(
    ("version", "major"),
    [("7.15.2 (stable)", 7), ("6.49.10 (long-term)", 6), (None, None), ("", None), ("x", None)],
)
def test_the_routeros_major_version_is_read_from_what_the_router_reports(
    version: str | None, major: int | None
) -> None:
    assert routeros_major_of(version) == major
