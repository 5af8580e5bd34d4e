"""One planned change to a router, and how one entry we own is compared with the router's
printout of it (pure). Used by the sync planner and by the rule-order planner."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

from radius_service.routers.desired_state import COMMENT_PREFIX, OwnedEntry

Action = Literal["add", "set", "remove", "move"]
Row = Mapping[str, str]

# The API prints booleans as true/false; we write yes/no.
_BOOLEANS = {"yes": "true", "no": "false"}
# Comma lists whose order RouterOS may print differently from how we wrote them.
_SET_VALUED = {"service", "policy", "dst-port", "authentication"}
# Hidden from a user without the `sensitive` policy (our API user has none): compared only
# when the printout shows them; otherwise the entry's secret check (OwnedEntry.check) tells.
WRITE_ONLY = frozenset({"secret", "password"})
# `easyisp:radius secret-check=0123456789ab`: the key, then the check of its write-only values.
_CHECK_SUFFIX = re.compile(r" secret-check=[0-9a-f]+$")


@dataclass(frozen=True, slots=True)
class RouterChange:
    path: str
    action: Action
    params: dict[str, str] = field(default_factory=dict)
    # `.id` of the entry to set, remove or move; None for add and for a single-value menu's
    # set. A move goes before `params["destination"]` (the end of the list without one).
    item_id: str | None = None
    reason: str = ""


def owned_key(row: Row) -> str | None:
    """`radius` for `easyisp:radius secret-check=…`; None for the operator's own entries."""
    comment = row.get("comment", "")
    if not comment.startswith(COMMENT_PREFIX):
        return None
    return _CHECK_SUFFIX.sub("", comment[len(COMMENT_PREFIX) :])


def plan_entry(
    item: OwnedEntry, rows: Sequence[Row], *, resend_secrets: bool = False
) -> tuple[list[RouterChange], Row | None]:
    """The changes that make the router's entry for `item` match it, and the entry kept
    (None when it is to be added). Duplicates of ours are removed, the first one kept."""
    mine = [row for row in rows if owned_key(row) == item.key]
    if not mine:
        add = RouterChange(
            item.path, "add", {**item.params, "comment": item.comment}, None,
            f"{item.key} is missing",
        )  # fmt: skip
        return [add], None
    first, *duplicates = mine
    out = [
        RouterChange(item.path, "remove", {}, dup.get(".id"), f"duplicate of {item.key}")
        for dup in duplicates
    ]
    diff = differences(item.params, first)
    why = why_changed(diff, first)
    secrets = {name: item.params[name] for name in item.params if name in WRITE_ONLY}
    if secrets and first.get("comment") != item.comment:
        # The router will not show us the secret: its check in the comment says whether
        # the secret written last is still the one the database holds.
        diff = {**diff, **secrets, "comment": item.comment}
        why = _joined(why, _check_reason(first.get("comment", "")))
    elif secrets and resend_secrets and not secrets.keys() <= diff.keys():
        diff = {**diff, **secrets}
        why = _joined(why, "secret re-sent on request")
    if diff:
        out.append(RouterChange(item.path, "set", diff, first.get(".id"), f"{item.key}: {why}"))
    return out, first


def differences(wanted: Mapping[str, str], row: Row) -> dict[str, str]:
    diff: dict[str, str] = {}
    for name, value in wanted.items():
        if name not in row:
            if name in WRITE_ONLY:
                continue
            diff[name] = value
        elif _normal(name, row[name]) != _normal(name, value):
            diff[name] = value
    return diff


def why_changed(diff: Mapping[str, str], row: Row) -> str:
    parts = []
    for name in sorted(diff):
        if name in WRITE_ONLY:
            parts.append(f"{name} changed")
        else:
            parts.append(f"{name} {row.get(name, '(unset)')!s} -> {diff[name]}")
    return ", ".join(parts)


def _check_reason(comment: str) -> str:
    if _CHECK_SUFFIX.search(comment):
        return "the secret changed in EasyISP"
    return "secret not yet confirmed by a sync (set once, then checked)"


def _joined(first: str, second: str) -> str:
    return f"{first}, {second}" if first else second


def _normal(name: str, value: str) -> str:
    value = _BOOLEANS.get(value, value)
    if name in _SET_VALUED:
        return ",".join(sorted(part.strip() for part in value.split(",")))
    return value
