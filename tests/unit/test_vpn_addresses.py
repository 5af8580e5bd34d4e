"""The lowest free host of the site's range goes to the next router; the site keeps the first."""

from __future__ import annotations

from ipaddress import ip_address

import pytest

from easyisp_core.errors import Conflict
from easyisp_core.rules.vpn_addresses import (
    DEFAULT_RANGE,
    first_free_address,
    parse_range,
    site_address,
)


def test_the_site_takes_the_first_host_and_routers_follow() -> None:
    network = parse_range(DEFAULT_RANGE)
    assert str(site_address(network)) == "10.10.0.1"
    assert str(first_free_address(network, [])) == "10.10.0.2"
    assert str(first_free_address(network, ["10.10.0.2", "10.10.0.3/32"])) == "10.10.0.4"


def test_a_gap_left_by_a_removed_router_is_reused() -> None:
    network = parse_range("10.20.0.0/24")
    assert str(first_free_address(network, ["10.20.0.2", "10.20.0.4"])) == "10.20.0.3"


def test_a_full_range_is_a_clear_conflict() -> None:
    network = parse_range("10.30.0.0/29")  # hosts .1-.6; .1 is the site
    used = [f"10.30.0.{n}" for n in range(2, 7)]
    with pytest.raises(Conflict, match="no free address"):
        first_free_address(network, used)


def test_ipv6_ranges_work_too() -> None:
    network = parse_range("fd00:10::/120")
    assert first_free_address(network, []) == ip_address("fd00:10::2")


@pytest.mark.parametrize("text", ["10.10.0.1/16", "10.10.0.0/31", "nonsense", "10.10.0.0"])
def test_bad_ranges_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match=r"network|too small"):
        parse_range(text)
