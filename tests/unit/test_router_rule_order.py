"""Our firewall rules stay at the top of their chains: added there, moved back there when an
operator's rule got above them, never past the hotspot's dynamic rules, and the operator's
own rules are never moved."""

from __future__ import annotations

import copy

from radius_service.routers.sync_plan import plan_sync
from tests.unit.test_router_sync_plan import DESIRED, State, _apply, _load


def chain(state: State, path: str, name: str) -> list[str]:
    """The chain's rules in order, ours by key, the operator's by `.id`."""
    return [
        row["comment"].removeprefix("easyisp:")
        if row.get("comment", "").startswith("easyisp:")
        else row[".id"]
        for row in state[path]
        if row.get("chain") == name
    ]


def test_a_fresh_routers_rules_go_above_the_operators_in_each_chain() -> None:
    fresh = _load("fresh_router.json")
    changes = plan_sync(DESIRED, fresh)
    after = _apply(fresh, changes)
    # Appended after "defconf: drop all not coming from LAN", the API accept would never
    # match for a site reaching the router over its WAN.
    assert chain(after, "/ip/firewall/filter", "input") == [
        "api-from-site", "coa-from-site", "api-drop", "*A", "*B",
    ]  # fmt: skip
    assert chain(after, "/ip/firewall/nat", "srcnat") == ["expired-masquerade", "*C"]
    assert chain(after, "/ip/firewall/filter", "forward") == [
        "expired-allow-dns", "expired-allow-portal", "expired-drop",
    ]  # fmt: skip
    assert not [c for c in changes if c.action == "move"]
    assert plan_sync(DESIRED, after) == []


def test_an_operator_rule_placed_above_ours_is_passed_by_moving_ours_and_reported() -> None:
    fresh = _load("fresh_router.json")
    synced = _apply(fresh, plan_sync(DESIRED, fresh))
    theirs = {".id": "*E", "chain": "input", "action": "drop", "protocol": "tcp",
              "comment": "operator: drop all tcp"}  # fmt: skip
    synced["/ip/firewall/filter"].insert(0, theirs)
    changes = plan_sync(DESIRED, synced)
    assert [(c.action, c.item_id, c.params) for c in changes] == [
        ("move", _id(synced, "api-from-site"), {"destination": "*E"}),
        ("move", _id(synced, "coa-from-site"), {"destination": "*E"}),
        ("move", _id(synced, "api-drop"), {"destination": "*E"}),
    ]
    assert 'above the operator\'s rules in chain input (*E drop "operator: drop all tcp")' in (
        changes[0].reason
    )
    after = _apply(synced, changes)
    assert chain(after, "/ip/firewall/filter", "input") == [
        "api-from-site", "coa-from-site", "api-drop", "*E", "*A", "*B",
    ]  # fmt: skip
    assert plan_sync(DESIRED, after) == []


def test_our_rules_out_of_order_among_themselves_are_put_back_in_order() -> None:
    fresh = _load("fresh_router.json")
    synced = _apply(fresh, plan_sync(DESIRED, fresh))
    rules = synced["/ip/firewall/filter"]
    (drop,) = [r for r in rules if r.get("comment") == "easyisp:api-drop"]
    rules.remove(drop)
    rules.insert(0, drop)  # a drop above the site's accept: the site is locked out
    changes = plan_sync(DESIRED, synced)
    assert [c.action for c in changes] == ["move", "move"]
    assert "out of order in chain input" in changes[0].reason
    after = _apply(synced, changes)
    assert chain(after, "/ip/firewall/filter", "input")[:3] == [
        "api-from-site", "coa-from-site", "api-drop",
    ]  # fmt: skip
    assert plan_sync(DESIRED, after) == []


def test_the_hotspots_dynamic_rules_stay_first_and_are_never_moved() -> None:
    fresh = _load("fresh_router.json")
    dynamic = {".id": "*90", "chain": "input", "action": "jump", "dynamic": "true",
               "comment": "place hotspot rules here"}  # fmt: skip
    fresh["/ip/firewall/filter"].insert(0, copy.deepcopy(dynamic))
    changes = plan_sync(DESIRED, fresh)
    assert all("*90" not in (c.item_id, c.params.get("place-before")) for c in changes)
    after = _apply(fresh, changes)
    assert chain(after, "/ip/firewall/filter", "input") == [
        "*90", "api-from-site", "coa-from-site", "api-drop", "*A", "*B",
    ]  # fmt: skip
    assert plan_sync(DESIRED, after) == []


def test_the_operators_rules_are_never_the_ones_moved() -> None:
    state = _load("drifted_router.json")
    ours = {
        row[".id"]
        for rows in state.values()
        for row in rows
        if row.get("comment", "").startswith("easyisp:")
    }
    moves = [c for c in plan_sync(DESIRED, state) if c.action == "move"]
    assert moves
    assert {c.item_id for c in moves} <= ours


def _id(state: State, key: str) -> str:
    (row,) = [r for r in state["/ip/firewall/filter"] if r.get("comment") == f"easyisp:{key}"]
    return row[".id"]


def test_removing_a_stale_entry_elsewhere_never_hides_a_rule_with_the_same_id() -> None:
    fresh = _load("fresh_router.json")
    synced = _apply(fresh, plan_sync(DESIRED, fresh))
    rule_id = _id(synced, "coa-from-site")
    # `.id`s are per menu: a retired package's profile may carry the same `*N`.
    synced["/ip/hotspot/user/profile"].append(
        {".id": rule_id, "name": "Old", "comment": "easyisp:hotspot-profile:Old"}
    )
    changes = plan_sync(DESIRED, synced)
    assert [(c.path, c.action, c.item_id) for c in changes] == [
        ("/ip/hotspot/user/profile", "remove", rule_id),
    ]
