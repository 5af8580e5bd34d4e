"""Router sync planning (pure): desired state + the router's printout → the changes to make.

Only what differs is changed. Entries we own carry `comment=easyisp:<key>`; the operator's
own entries are never set or removed, with one named exception: every hotspot server
profile must use RADIUS (`MenuSettings.every_entry`), and only those properties are set.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

from easyisp_core.errors import ValidationFailed
from radius_service.routers.desired_state import (
    COMMENT_PREFIX,
    ORDERED_PATHS,
    PRUNED_PATHS,
    DesiredItem,
    MenuSettings,
    OwnedEntry,
    RouterDesiredState,
    desired_items,
)

Action = Literal["add", "set", "remove"]
POOL_PATH = "/ip/pool"
RouterState = Mapping[str, Sequence[Mapping[str, str]]]

# The API prints booleans as true/false; we write yes/no.
_BOOLEANS = {"yes": "true", "no": "false"}
# Comma lists whose order RouterOS may print differently from how we wrote them.
_SET_VALUED = {"service", "policy", "dst-port"}
# Hidden from a user without the `sensitive` policy (our API user has none): compared only
# when the printout shows them, so an unreadable secret does not cause a change every sync.
_WRITE_ONLY = {"secret", "password"}


@dataclass(frozen=True, slots=True)
class RouterChange:
    path: str
    action: Action
    params: dict[str, str] = field(default_factory=dict)
    # `.id` of the entry to set or remove; None for add and for a single-value menu's set.
    item_id: str | None = None
    reason: str = ""


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


def plan_sync(desired: RouterDesiredState, current: RouterState) -> list[RouterChange]:
    """Raises ValidationFailed, before anything is changed, when a package names an address
    pool the router lacks (RouterOS would refuse the profile half way through the sync)."""
    _check_pools(desired, current)
    items = desired_items(desired)
    changes: list[RouterChange] = []
    wanted_keys: dict[str, set[str]] = {}
    for item in items:
        if isinstance(item, OwnedEntry):
            wanted_keys.setdefault(item.path, set()).add(item.key)
    # Stale entries go first, so a renamed package's new profile does not clash by name.
    for path in PRUNED_PATHS:
        for row in current.get(path, ()):
            key = _owned_key(row)
            if key is not None and key not in wanted_keys.get(path, set()):
                changes.append(
                    RouterChange(path, "remove", {}, row.get(".id"), f"{key} is no longer wanted")
                )
    for index, item in enumerate(items):
        planned = _plan_item(item, current.get(item.path, ()))
        if item.path in ORDERED_PATHS:
            planned = [_placed(c, items[index + 1 :], current) for c in planned]
        changes += planned
    return changes


def _placed(
    change: RouterChange, later: Sequence[DesiredItem], current: RouterState
) -> RouterChange:
    """An added rule goes before the first later rule of ours the router already has."""
    if change.action != "add":
        return change
    rows = current.get(change.path, ())
    for item in later:
        if isinstance(item, OwnedEntry) and item.path == change.path:
            for row in rows:
                if row.get("comment") == item.comment and row.get(".id"):
                    params = {**change.params, "place-before": row[".id"]}
                    return RouterChange(change.path, "add", params, None, change.reason)
    return change


def _plan_item(item: DesiredItem, rows: Sequence[Mapping[str, str]]) -> list[RouterChange]:
    if isinstance(item, MenuSettings):
        if not item.every_entry:
            row = rows[0] if rows else {}
            diff = _differences(item.params, row)
            if not diff:
                return []
            return [RouterChange(item.path, "set", diff, None, _why(diff, row))]
        out = []
        for row in rows:
            diff = _differences(item.params, row)
            if diff:
                label = row.get("name", row.get(".id", "?"))
                out.append(
                    RouterChange(
                        item.path, "set", diff, row.get(".id"), f"{label}: {_why(diff, row)}"
                    )
                )
        return out
    mine = [row for row in rows if row.get("comment") == item.comment]
    if not mine:
        return [
            RouterChange(
                item.path, "add", {**item.params, "comment": item.comment}, None,
                f"{item.key} is missing",
            )
        ]  # fmt: skip
    first, *duplicates = mine
    out = [
        RouterChange(item.path, "remove", {}, dup.get(".id"), f"duplicate of {item.key}")
        for dup in duplicates
    ]
    diff = _differences(item.params, first)
    if diff:
        out.append(
            RouterChange(
                item.path, "set", diff, first.get(".id"), f"{item.key}: {_why(diff, first)}"
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


def _owned_key(row: Mapping[str, str]) -> str | None:
    comment = row.get("comment", "")
    return comment[len(COMMENT_PREFIX) :] if comment.startswith(COMMENT_PREFIX) else None


def _normal(name: str, value: str) -> str:
    value = _BOOLEANS.get(value, value)
    if name in _SET_VALUED:
        return ",".join(sorted(part.strip() for part in value.split(",")))
    return value


def _differences(wanted: Mapping[str, str], row: Mapping[str, str]) -> dict[str, str]:
    diff: dict[str, str] = {}
    for name, value in wanted.items():
        if name not in row:
            if name in _WRITE_ONLY:
                continue
            diff[name] = value
        elif _normal(name, row[name]) != _normal(name, value):
            diff[name] = value
    return diff


def _why(diff: Mapping[str, str], row: Mapping[str, str]) -> str:
    parts = []
    for name in sorted(diff):
        if name in _WRITE_ONLY:
            parts.append(f"{name} changed")
        else:
            parts.append(f"{name} {row.get(name, '(unset)')!s} -> {diff[name]}")
    return ", ".join(parts)
