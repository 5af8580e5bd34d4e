"""Router sync planning: only what differs, never the operator's entries, idempotent."""

from __future__ import annotations

import copy
import dataclasses
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

from easyisp_core.rules.rate_limit import RateLimitSpec
from radius_service.routers.desired_state import PackageProfile, RouterDesiredState
from radius_service.routers.sync_plan import RouterChange, paths_to_read, plan_sync

DATA = Path(__file__).resolve().parents[1] / "data" / "router_sync"
DESIRED = RouterDesiredState(
    service_address="10.10.0.1",
    radius_secret="Zx8-radius-secret",
    secret_check_key="Api-pass-2026",
    portal_host="pay.example-isp.co.ke",
    portal_address="192.0.2.80",
    packages=(
        PackageProfile.of("Home 5M", "PPPOE", RateLimitSpec(Decimal(5), Decimal(2))),
        PackageProfile.of("1 Hour", "HOTSPOT", RateLimitSpec(Decimal(3), Decimal(1))),
    ),
)
State = dict[str, list[dict[str, str]]]


def _load(name: str) -> Any:
    return json.loads((DATA / name).read_text(encoding="utf-8"))


def _apply(state: State, changes: list[RouterChange]) -> State:
    """What a router's printout looks like after the changes (yes/no print as true/false)."""
    out = copy.deepcopy(state)
    counter = 1000

    def printed(params: dict[str, str]) -> dict[str, str]:
        return {k: {"yes": "true", "no": "false"}.get(v, v) for k, v in params.items()}

    def index_of(rows: list[dict[str, str]], item_id: str | None) -> int:
        if item_id is None:
            return len(rows)
        (index,) = [i for i, r in enumerate(rows) if r.get(".id") == item_id]
        return index

    for change in changes:
        rows = out.setdefault(change.path, [])
        if change.action == "add":
            counter += 1
            params = dict(change.params)
            at = index_of(rows, params.pop("place-before", None))
            rows.insert(at, {".id": f"*{counter:X}", **printed(params)})
        elif change.action == "move":
            moving = rows.pop(index_of(rows, change.item_id))
            rows.insert(index_of(rows, change.params.get("destination")), moving)
        elif change.action == "remove":
            rows[:] = [r for r in rows if r.get(".id") != change.item_id]
        elif change.item_id is None:
            if not rows:
                rows.append({})
            rows[0].update(printed(change.params))
        else:
            (row,) = [r for r in rows if r.get(".id") == change.item_id]
            row.update(printed(change.params))
    # A user without the `sensitive` policy never sees secrets in a printout.
    for rows in out.values():
        for row in rows:
            row.pop("secret", None)
    return out


def test_a_fresh_router_gets_everything_and_the_operator_keeps_theirs() -> None:
    current = _load("fresh_router.json")
    changes = plan_sync(DESIRED, current)
    operator_ids = {"*0", "*5", "*A", "*B", "*C", "*D"}
    assert not [c for c in changes if c.item_id in operator_ids]
    assert not [c for c in changes if c.action == "remove"]
    by_path: dict[str, list[str]] = {}
    for change in changes:
        by_path.setdefault(change.path, []).append(change.action)
    assert by_path == {
        "/radius": ["add"],
        "/radius/incoming": ["set"],
        "/ppp/aaa": ["set"],
        "/ip/hotspot/profile": ["set"],  # only "default"; hsprof1 already uses RADIUS
        "/ip/pool": ["add"],  # the expired pool RADIUS names for expired subscribers
        "/ppp/profile": ["add"],
        "/ip/hotspot/user/profile": ["add"],
        "/ip/firewall/filter": ["add"] * 6,
        "/ip/firewall/nat": ["add"] * 2,
        "/ip/hotspot/walled-garden/ip": ["add"],
        "/ip/hotspot/walled-garden": ["add"] * 4,
    }
    (ppp,) = [c for c in changes if c.path == "/ppp/profile"]
    assert ppp.params == {
        "name": "Home 5M",
        "rate-limit": "2M/5M",
        "comment": "easyisp:ppp-profile:Home 5M",
    }
    (hotspot_set,) = [c for c in changes if c.path == "/ip/hotspot/profile"]
    assert hotspot_set.item_id == "*1"
    assert hotspot_set.params == {"use-radius": "yes"}
    (aaa,) = [c for c in changes if c.path == "/ppp/aaa"]
    assert aaa.item_id is None
    assert aaa.params == {"use-radius": "yes", "interim-update": "5m"}
    (radius,) = [c for c in changes if c.path == "/radius"]
    assert radius.params["secret"] == "Zx8-radius-secret"
    assert all(c.reason for c in changes)


def test_applying_a_plan_leaves_nothing_to_do() -> None:
    for name in ("fresh_router.json", "drifted_router.json"):
        current = _load(name)
        after = _apply(current, plan_sync(DESIRED, current))
        assert plan_sync(DESIRED, after) == [], name


def test_a_drifted_router_gets_exactly_the_differences() -> None:
    changes = plan_sync(DESIRED, _load("drifted_router.json"))
    got = [
        {"path": c.path, "action": c.action, "params": c.params, "item_id": c.item_id}
        for c in changes
    ]
    assert got == _load("drifted_router.expected.json")


def test_a_changed_secret_visible_in_the_printout_is_set() -> None:
    current = _load("drifted_router.json")
    current["/radius"][0]["secret"] = "old-secret"
    changes = [c for c in plan_sync(DESIRED, current) if c.path == "/radius"]
    assert [(c.action, c.params) for c in changes] == [
        ("set", {"secret": "Zx8-radius-secret", "timeout": "3s"})
    ]
    assert "old-secret" not in changes[0].reason
    assert "Zx8" not in changes[0].reason


def test_a_removed_package_is_pruned_and_a_renamed_one_replaced() -> None:
    current = _apply(_load("fresh_router.json"), plan_sync(DESIRED, _load("fresh_router.json")))
    renamed = dataclasses.replace(
        DESIRED,
        packages=(PackageProfile.of("Home 6M", "PPPOE", RateLimitSpec(Decimal(6), Decimal(2))),),
    )
    changes = plan_sync(renamed, current)
    summary = [(c.path, c.action, c.params.get("name")) for c in changes]
    assert summary == [
        ("/ppp/profile", "remove", None),
        ("/ip/hotspot/user/profile", "remove", None),
        ("/ppp/profile", "add", "Home 6M"),
    ]
    assert plan_sync(renamed, _apply(current, changes)) == []


def test_every_path_read_is_a_path_planned() -> None:
    changes = plan_sync(DESIRED, _load("fresh_router.json"))
    assert {c.path for c in changes} <= set(paths_to_read(DESIRED))


def test_the_expired_pool_exists_only_when_expired_subscribers_are_let_in() -> None:
    fresh = _load("fresh_router.json")
    pools = [c.params for c in plan_sync(DESIRED, fresh) if c.path == "/ip/pool"]
    assert pools == [
        {
            "name": "expired",
            "ranges": "172.30.0.2-172.30.255.254",
            "comment": "easyisp:expired-pool",
        }
    ]
    rejecting = dataclasses.replace(DESIRED, expired_pool=None)
    assert not [c for c in plan_sync(rejecting, fresh) if c.path == "/ip/pool"]
