"""Data-driven cases (tests/data/radius/server_cases.json) through the real server."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from radius_service.simulator.nas import NasSimulator

CASES = json.loads(
    (Path(__file__).parents[2] / "data" / "radius" / "server_cases.json").read_text("utf-8")
)["cases"]


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_server_case(nas: NasSimulator, case: dict[str, Any]) -> None:
    if "mac" in case:
        nas.calling_station_id = case["mac"]
    reply = nas.login(
        case["user"], case["password"], method=case["method"], service=case.get("service")
    )
    assert reply is not None, "no reply"
    expect = case["expect"]
    assert reply.accepted is (expect["code"] == "accept"), reply.attributes
    assert reply.message_authenticator_first
    for name, value in expect.get("attributes", {}).items():
        assert reply.first(name) == value, name
    for name in expect.get("absent", []):
        assert name not in reply.attributes, name
    if case["method"] == "mschapv2" and reply.accepted:
        assert reply.mschap2_success_valid
        assert reply.mppe_keys_valid
