"""Router sync planning (pure): desired state + the router's printout → the changes to make.

Only what differs is changed. Entries we own carry `comment=easyisp:<key>`; the operator's
own entries are never set, moved or removed, with one named exception: every hotspot server
profile must use RADIUS (`MenuSettings.every_entry`), and only those properties are set.
Our firewall rules are kept at the top of their chains (rule_order.py).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping, Sequence

from easyisp_core.errors import ValidationFailed
from radius_service.routers.desired_state import (
    ORDERED_PATHS,
    PRUNED_PATHS,
    DesiredItem,
    OwnedEntry,
    RouterDesiredState,
    desired_items,
)
from radius_service.routers.rule_order import plan_rules
from radius_service.routers.sync_changes import (
    RouterChange,
    differences,
    owned_key,
    plan_entry,
    why_changed,
)

__all__ = ["RouterChange", "RouterState", "paths_to_read", "plan_sync"]

POOL_PATH = "/ip/pool"
RouterState = Mapping[str, Sequence[Mapping[str, str]]]


def paths_to_read(state: RouterDesiredState) -> list[str]:
    """Every menu the plan needs printed, in a stable order."""
    seen: dict[str, None] = {}
    for item in desired_items(state):
        seen.setdefault(item.path, None)
    for path in PRUNED_PATHS:
        seen.setdefault(path, None)
    if _pools_named(state):
        seen.setdefault(POOL_PATH, None)
    return list(seen)


def plan_sync(
    desired: RouterDesiredState, current: RouterState, *, resend_secrets: bool = False
) -> list[RouterChange]:
    """Raises ValidationFailed, before anything is changed, when a package names an address
    pool the router lacks (RouterOS would refuse the profile half way through the sync).

    `resend_secrets` writes the RADIUS secret even when its check matches: for a secret
    changed by hand on the router, which RouterOS does not let our API user read."""
    _check_pools(desired, current)
    items = desired_items(desired)
    changes: list[RouterChange] = []
    wanted_keys: dict[str, set[str]] = {}
    for item in items:
        if isinstance(item, OwnedEntry):
            wanted_keys.setdefault(item.path, set()).add(item.key)
    # Stale entries go first, so a renamed package's new profile does not clash by name.
    # `.id`s are per menu: `*2` in one list is not `*2` in another.
    stale: set[tuple[str, str | None]] = set()
    for path in PRUNED_PATHS:
        for row in current.get(path, ()):
            key = owned_key(row)
            if key is not None and key not in wanted_keys.get(path, set()):
                stale.add((path, row.get(".id")))
                changes.append(
                    RouterChange(path, "remove", {}, row.get(".id"), f"{key} is no longer wanted")
                )
    ordered_done: set[str] = set()
    for item in items:
        rows = current.get(item.path, ())
        if item.path not in ORDERED_PATHS:
            changes += _plan_item(item, rows, resend_secrets)
        elif item.path not in ordered_done:
            ordered_done.add(item.path)
            mine = [i for i in items if i.path == item.path and isinstance(i, OwnedEntry)]
            live = [row for row in rows if (item.path, row.get(".id")) not in stale]
            changes += plan_rules(item.path, mine, live, resend_secrets=resend_secrets)
    return changes


def _plan_item(
    item: DesiredItem, rows: Sequence[Mapping[str, str]], resend_secrets: bool
) -> list[RouterChange]:
    if isinstance(item, OwnedEntry):
        return plan_entry(item, rows, resend_secrets=resend_secrets)[0]
    if not item.every_entry:
        row = rows[0] if rows else {}
        diff = differences(item.params, row)
        if not diff:
            return []
        return [RouterChange(item.path, "set", diff, None, why_changed(diff, row))]
    out = []
    for row in rows:
        diff = differences(item.params, row)
        if diff:
            label = row.get("name", row.get(".id", "?"))
            out.append(
                RouterChange(
                    item.path, "set", diff, row.get(".id"), f"{label}: {why_changed(diff, row)}"
                )
            )
    return out


def _pools_named(state: RouterDesiredState) -> dict[str, str]:
    """Package name → the pool its profile names (an address is not a pool name)."""
    named = {}
    for package in state.packages:
        if package.address_pool and not _is_address(package.address_pool):
            named[package.name] = package.address_pool
    return named


def _check_pools(desired: RouterDesiredState, current: RouterState) -> None:
    pools = {row.get("name") for row in current.get(POOL_PATH, ())}
    missing = {
        package: pool for package, pool in _pools_named(desired).items() if pool not in pools
    }
    if missing:
        listed = ", ".join(
            f"{package!r} uses {pool!r}" for package, pool in sorted(missing.items())
        )
        raise ValidationFailed(
            {"address_pool": "not on the router"},
            f"The router has no such address pool ({listed}): create the pool on the router "
            "(/ip pool) or clear the package's address pool, then sync again.",
        )


def _is_address(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True
