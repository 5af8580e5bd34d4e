"""Router sync executor: read the router's state, plan, apply the plan change by change.

The RouterOS client (built elsewhere) satisfies `RouterApi`; its methods block and are
called from the client's own worker thread. A single-value menu (`/ppp/aaa`) is set with
`item_id=""`: the client then sends no `.id`.
"""

from __future__ import annotations

from typing import Protocol

from radius_service.routers.desired_state import RouterDesiredState
from radius_service.routers.sync_plan import RouterChange, paths_to_read, plan_sync


class RouterApi(Protocol):
    def print(
        self, path: str, proplist: list[str] | None = None, query: dict[str, str] | None = None
    ) -> list[dict[str, str]]: ...

    def add(self, path: str, **params: str) -> str: ...

    def set(self, path: str, item_id: str, **params: str) -> None: ...

    def remove(self, path: str, item_id: str) -> None: ...


def read_state(api: RouterApi, desired: RouterDesiredState) -> dict[str, list[dict[str, str]]]:
    return {path: api.print(path) for path in paths_to_read(desired)}


def preview_sync(api: RouterApi, desired: RouterDesiredState) -> list[RouterChange]:
    """What sync would change, without changing anything (shown to the operator first)."""
    return plan_sync(desired, read_state(api, desired))


def apply_changes(api: RouterApi, changes: list[RouterChange]) -> None:
    """Apply in order; the first refusal stops the run (the next sync re-plans from scratch)."""
    for change in changes:
        if change.action == "add":
            api.add(change.path, **change.params)
        elif change.action == "set":
            api.set(change.path, change.item_id or "", **change.params)
        else:
            if change.item_id is None:
                raise ValueError(f"cannot remove from {change.path} without an .id")
            api.remove(change.path, change.item_id)


def sync_router(api: RouterApi, desired: RouterDesiredState) -> list[RouterChange]:
    """Make the router match `desired`; returns the changes made (empty when it already did)."""
    changes = preview_sync(api, desired)
    apply_changes(api, changes)
    return changes
