"""Where our firewall rules stand (pure): at the top of each chain, in our order.

RouterOS runs a chain's rules top to bottom and the first match wins, so an operator's rule
above ours ("drop everything from the WAN", a broad accept) would silently defeat the
expired-subscriber redirect or lock the site out of the API. Sync therefore keeps our rules
as the first static rules of their chain: a missing one is added at its place
(`place-before`), one found lower down is moved up (`move … destination=`), and the plan
names the operator's rules it passes. The hotspot's dynamic rules stay above everything:
RouterOS keeps them there and refuses to move them. The operator's rules are never moved,
only ours; their relative order is kept.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from radius_service.routers.desired_state import OwnedEntry
from radius_service.routers.sync_changes import RouterChange, Row, owned_key, plan_entry


def plan_rules(
    path: str, items: Sequence[OwnedEntry], rows: Sequence[Row], *, resend_secrets: bool = False
) -> list[RouterChange]:
    """Changes for one ordered menu (`/ip/firewall/filter`): our `items` in desired order,
    `rows` the router's printout (stale entries of ours already planned for removal left
    out)."""
    planned = {item.key: plan_entry(item, rows, resend_secrets=resend_secrets) for item in items}
    removed = {
        change.item_id
        for changes, _row in planned.values()
        for change in changes
        if change.action == "remove"
    }
    live = [row for row in rows if row.get(".id") not in removed]
    out: list[RouterChange] = []
    for chain in dict.fromkeys(item.params.get("chain", "") for item in items):
        mine = [item for item in items if item.params.get("chain", "") == chain]
        out += _chain_changes(path, chain, mine, live, planned)
    return out


def _chain_changes(
    path: str,
    chain: str,
    items: Sequence[OwnedEntry],
    live: Sequence[Row],
    planned: dict[str, tuple[list[RouterChange], Row | None]],
) -> list[RouterChange]:
    # The chain as RouterOS runs it, less the dynamic rules nobody may move. Positions
    # before `place` hold our rules already settled (or about to be added there).
    queue: list[Row] = [
        row for row in live if row.get("chain") == chain and row.get("dynamic") != "true"
    ]
    place = 0
    out: list[RouterChange] = []
    for item in items:
        changes, row = planned[item.key]
        here = queue[place] if place < len(queue) else None
        if row is None:
            (add,) = changes
            if here is not None:
                add = dataclasses.replace(add, params={**add.params, "place-before": here[".id"]})
            out.append(add)
            queue.insert(place, {"comment": item.comment})
            place += 1
            continue
        out += changes
        if here is not None and here.get(".id") == row.get(".id"):
            place += 1
            continue
        index = next((i for i, r in enumerate(queue) if r.get(".id") == row.get(".id")), None)
        passed = queue[place:index] if index is not None else queue[place:]
        if index is not None:
            del queue[index]
        params = {"destination": here[".id"]} if here is not None else {}
        out.append(
            RouterChange(path, "move", params, row.get(".id"), _why_moved(item, chain, passed))
        )
        queue.insert(place, row)
        place += 1
    return out


def _why_moved(item: OwnedEntry, chain: str, passed: Sequence[Row]) -> str:
    theirs = [row for row in passed if owned_key(row) is None]
    if not theirs:
        return f"{item.key} is out of order in chain {chain}"
    named = ", ".join(_label(row) for row in theirs[:3]) + (", …" if len(theirs) > 3 else "")
    return f"{item.key} goes back above the operator's rules in chain {chain} ({named})"


def _label(row: Row) -> str:
    comment = row.get("comment", "")
    action = row.get("action", "?")
    return f"{row.get('.id', '?')} {action}" + (f' "{comment}"' if comment else "")
