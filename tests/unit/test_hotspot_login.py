"""Which login the portal hands the router after a purchase (rules.hotspot_login)."""

from __future__ import annotations

from easyisp_core.rules.hotspot_login import HotspotLogin, LoginKind, hotspot_login


def test_the_bound_device_gets_a_mac_login_whatever_the_spelling() -> None:
    login = hotspot_login("amina", "pw", "aa-bb-cc-00-00-01", "AA:BB:CC:00:00:01")
    assert login == HotspotLogin(LoginKind.MAC, "AA:BB:CC:00:00:01", "")


def test_another_device_gets_the_account_password() -> None:
    login = hotspot_login("amina", "pw", "AA:BB:CC:00:00:01", "AA:BB:CC:00:00:02")
    assert login == HotspotLogin(LoginKind.PASSWORD, "amina", "pw")


def test_no_bound_mac_and_no_password_gives_no_login() -> None:
    assert hotspot_login("amina", None, None, "AA:BB:CC:00:00:02") is None
    assert hotspot_login("amina", "", "garbage", "garbage") is None
