"""The plan as the operator reads it before it is applied: one line per change, in order,
secrets masked."""

from __future__ import annotations

from collections.abc import Sequence

from radius_service.routers.sync_plan import RouterChange

# Never printed: the preview goes to terminals, logs and command results.
_MASKED = frozenset({"secret", "password"})
_VERBS = {"add": "add", "set": "set", "remove": "remove", "move": "move"}


def describe_change(change: RouterChange) -> str:
    """`/ppp/profile set *3: rate-limit=2M/10M (ppp-profile:Home: rate-limit 2M/5M -> 2M/10M)`."""
    target = change.path + " " + _VERBS[change.action]
    if change.item_id:
        target += " " + change.item_id
    params = " ".join(
        f"{name}={'***' if name in _MASKED else _quoted(value)}"
        for name, value in change.params.items()
    )
    line = f"{target}: {params}" if params else target
    return f"{line} ({change.reason})" if change.reason else line


def describe_plan(changes: Sequence[RouterChange]) -> list[str]:
    if not changes:
        return ["Nothing to change: the router already matches."]
    return [f"{n}. {describe_change(change)}" for n, change in enumerate(changes, 1)]


def _quoted(value: str) -> str:
    return f'"{value}"' if (not value or any(c in value for c in ' ";')) else value
