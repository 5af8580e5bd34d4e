"""The router status rule: ONLINE when answered, OFFLINE after two failures in a row."""

from __future__ import annotations

import pytest

from easyisp_core.models.enums import NasStatus
from easyisp_core.rules.router_health import api_host, status_after_failure, status_after_success


@pytest.mark.parametrize("status", list(NasStatus))
def test_an_answer_is_online(status: NasStatus) -> None:
    assert status_after_success(status) is NasStatus.ONLINE


def test_one_failure_keeps_an_online_router_online_the_second_takes_it_offline() -> None:
    assert status_after_failure(NasStatus.ONLINE, 1) is NasStatus.ONLINE
    assert status_after_failure(NasStatus.ONLINE, 2) is NasStatus.OFFLINE
    assert status_after_failure(NasStatus.OFFLINE, 7) is NasStatus.OFFLINE


def test_a_router_never_reached_stays_pending() -> None:
    assert status_after_failure(NasStatus.PENDING, 5) is NasStatus.PENDING


def test_the_api_is_reached_through_the_configured_host_then_the_vpn_then_the_ip() -> None:
    assert api_host("10.0.0.1", "10.8.0.2", "api.example.net") == "api.example.net"
    assert api_host("10.0.0.1", "10.8.0.2", None) == "10.8.0.2"
    assert api_host("10.0.0.1", None, None) == "10.0.0.1"
