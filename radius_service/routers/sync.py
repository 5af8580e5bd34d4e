"""Router sync executor: read the router's state, plan, apply the plan change by change.

It drives the same `RouterClient` as every other router operation (its serial queue, its
error translation); there is no second protocol layer. A single-value menu (`/ppp/aaa`) is
set with `item_id=None`, which the client sends without an `.id`.
"""

from __future__ import annotations

from radius_service.routers.client import RouterClient
from radius_service.routers.desired_state import RouterDesiredState
from radius_service.routers.sync_plan import RouterChange, paths_to_read, plan_sync


async def read_state(
    client: RouterClient, desired: RouterDesiredState
) -> dict[str, list[dict[str, str]]]:
    return {path: await client.print(path) for path in paths_to_read(desired)}


async def preview_sync(
    client: RouterClient, desired: RouterDesiredState, *, resend_secrets: bool = False
) -> list[RouterChange]:
    """What sync would change, without changing anything (shown to the operator first)."""
    return plan_sync(desired, await read_state(client, desired), resend_secrets=resend_secrets)


async def apply_changes(client: RouterClient, changes: list[RouterChange]) -> None:
    """Apply in order; the first refusal stops the run (the next sync re-plans from scratch)."""
    for change in changes:
        if change.action == "add":
            await client.add(change.path, **change.params)
        elif change.action == "set":
            await client.set(change.path, change.item_id, **change.params)
        elif change.action == "move":
            if change.item_id is None:
                raise ValueError(f"cannot move in {change.path} without an .id")
            await client.move(change.path, change.item_id, change.params.get("destination"))
        else:
            if change.item_id is None:
                raise ValueError(f"cannot remove from {change.path} without an .id")
            await client.remove(change.path, change.item_id)


async def sync_router(
    client: RouterClient, desired: RouterDesiredState, *, resend_secrets: bool = False
) -> list[RouterChange]:
    """Make the router match `desired`; returns the changes made (empty when it already did)."""
    changes = await preview_sync(client, desired, resend_secrets=resend_secrets)
    await apply_changes(client, changes)
    return changes
