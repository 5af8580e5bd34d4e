"""The sync executor against an in-memory router that prints, adds, sets and removes like the
RouterOS API does (values as strings, yes/no printed as true/false, secrets hidden)."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from radius_service.routers.sync import RouterApi, apply_changes, preview_sync, sync_router
from radius_service.routers.sync_plan import RouterChange
from tests.unit.test_router_sync_plan import DESIRED

DATA = Path(__file__).resolve().parents[1] / "data" / "router_sync"


class MemoryRouter:
    def __init__(self, state: dict[str, list[dict[str, str]]]) -> None:
        self.state = copy.deepcopy(state)
        self.calls: list[str] = []
        self._next = 0x100

    def print(
        self, path: str, proplist: list[str] | None = None, query: dict[str, str] | None = None
    ) -> list[dict[str, str]]:
        rows = [{k: v for k, v in r.items() if k != "secret"} for r in self.state.get(path, [])]
        return copy.deepcopy(rows)

    def add(self, path: str, **params: str) -> str:
        self.calls.append(f"add {path}")
        self._next += 1
        item_id = f"*{self._next:X}"
        self.state.setdefault(path, []).append({".id": item_id, **_printed(params)})
        return item_id

    def set(self, path: str, item_id: str, **params: str) -> None:
        self.calls.append(f"set {path} {item_id}")
        rows = self.state.setdefault(path, [])
        if item_id == "":
            if not rows:
                rows.append({})
            rows[0].update(_printed(params))
            return
        (row,) = [r for r in rows if r.get(".id") == item_id]
        row.update(_printed(params))

    def remove(self, path: str, item_id: str) -> None:
        self.calls.append(f"remove {path} {item_id}")
        self.state[path] = [r for r in self.state[path] if r.get(".id") != item_id]


def _printed(params: dict[str, str]) -> dict[str, str]:
    return {k: {"yes": "true", "no": "false"}.get(v, v) for k, v in params.items()}


def test_a_second_sync_changes_nothing() -> None:
    state = json.loads((DATA / "fresh_router.json").read_text(encoding="utf-8"))
    router = MemoryRouter(state)
    api: RouterApi = router
    made = sync_router(api, DESIRED)
    assert made
    assert len(router.calls) == len(made)
    router.calls.clear()
    assert sync_router(api, DESIRED) == []
    assert router.calls == []


def test_preview_changes_nothing_on_the_router() -> None:
    state = json.loads((DATA / "drifted_router.json").read_text(encoding="utf-8"))
    router = MemoryRouter(state)
    assert preview_sync(router, DESIRED)
    assert router.calls == []
    assert router.state == state


def test_a_remove_without_an_id_is_refused() -> None:
    with pytest.raises(ValueError, match=r"without an \.id"):
        apply_changes(MemoryRouter({}), [RouterChange("/radius", "remove")])
