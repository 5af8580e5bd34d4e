"""The simulated router's configuration: menus of rows with `.id` = `*1`, `*2`…, and the
print/add/set/remove verbs answering like RouterOS, errors included."""

from __future__ import annotations

import base64
import ipaddress
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
)

from radius_service.simulator.routeros.menus import (
    MENUS_BY_PATH,
    MenuSpec,
    list_rows,
    singleton_rows,
)

# Properties RouterOS prints only to users with the `sensitive` policy.
SENSITIVE = frozenset({"secret", "password", "private-key", "preshared-key"})
# Profile properties that name an /ip/pool (PPP also takes a plain address).
_POOL_FIELDS = {"/ppp/profile": "remote-address", "/ip/hotspot/user/profile": "address-pool"}
_BOOLEAN_INPUT = {"yes": "true", "no": "false"}
# Called with each changed row (a removed one as `.id` + `.dead=true`), under the state lock.
Listener = Callable[[dict[str, str]], None]


class Trap(Exception):
    """A `!trap` reply: the command failed; `!done` still follows."""

    def __init__(self, message: str, category: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.category = category


@dataclass(frozen=True, slots=True)
class CommandResult:
    rows: list[dict[str, str]]
    ret: str | None = None


def parse_version(version: str) -> tuple[int, ...]:
    """ "7.16" → (7, 16); ValueError unless it is numbers separated by dots (6 or 7 first)."""
    parts = version.split(" ")[0].split(".")
    if len(parts) < 2 or not all(_is_number(part) for part in parts) or parts[0] not in ("6", "7"):
        raise ValueError(f"not a RouterOS 6 or 7 version: {version!r}")
    return tuple(int(part) for part in parts)


def format_duration(seconds: int) -> str:
    """RouterOS duration text: 1w2d3h4m5s, zero parts left out."""
    parts = []
    for unit, size in (("w", 604800), ("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        count, seconds = divmod(seconds, size)
        if count:
            parts.append(f"{count}{unit}")
    return "".join(parts) or "0s"


class _Menu:
    def __init__(self, spec: MenuSpec) -> None:
        self.spec = spec
        self.rows: list[dict[str, str]] = []
        self.next_id = 1

    def find(self, reference: str) -> dict[str, str]:
        """A row by `*N` id or, like RouterOS, by its name."""
        for row in self.rows:
            if row[".id"] == reference or (
                self.spec.unique == ("name",) and row.get("name") == reference
            ):
                return row
        raise Trap("no such item")

    def check_unique(self, candidate: Mapping[str, str], ignore: str | None = None) -> None:
        if not self.spec.unique:
            return
        key = tuple(candidate.get(name, "") for name in self.spec.unique)
        for row in self.rows:
            if row[".id"] != ignore and tuple(row.get(n, "") for n in self.spec.unique) == key:
                what = "name" if self.spec.unique == ("name",) else "entry"
                raise Trap(f"failure: already have such {what}")


class RouterState:
    """Thread-safe: the asyncio server and test code (seeding, checks) share it."""

    def __init__(
        self,
        version: str = "7.16",
        *,
        identity: str = "MikroTik",
        board: str = "RB4011iGS+",
        users: Mapping[str, str] | None = None,
    ) -> None:
        self.version = version
        self.version_tuple = parse_version(version)
        self._lock = threading.Lock()
        self._started = time.monotonic()
        self._menus = {
            path: _Menu(spec)
            for path, spec in MENUS_BY_PATH.items()
            if self.version_tuple[0] >= spec.since_major
        }
        self._singletons = singleton_rows(version, identity, board)
        self._listeners: dict[str, list[Listener]] = {}
        # Successful add/set/remove commands over the API (tests check a no-op sync writes none).
        self.writes = 0
        for path, rows in list_rows().items():
            for row in rows:
                self._add(path, dict(row))
        for name, password in (users or {"admin": ""}).items():
            self._add("/user", {"name": name, "group": "full", "password": password})

    @property
    def sends_empty(self) -> bool:
        """RouterOS 7.18 and later answer an empty print with `!empty` (protocols.md §2.3)."""
        return self.version_tuple >= (7, 18)

    def check_login(self, name: str, password: str) -> bool:
        with self._lock:
            for row in self._menus["/user"].rows:
                if row["name"] == name and row.get("disabled") != "true":
                    return row.get("password", "") == password
        return False

    def has_policy(self, name: str, policy: str) -> bool:
        with self._lock:
            groups = {row["name"]: row.get("policy", "") for row in self._menus["/user/group"].rows}
            for row in self._menus["/user"].rows:
                if row["name"] == name:
                    return policy in groups.get(row.get("group", ""), "").split(",")
        return False

    def password_of(self, name: str) -> str | None:
        with self._lock:
            for row in self._menus["/user"].rows:
                if row["name"] == name:
                    return row.get("password", "")
        return None

    # -- commands ---------------------------------------------------------------

    def execute(
        self,
        command: str,
        attributes: Mapping[str, str],
        queries: Sequence[str] = (),
        *,
        sensitive: bool = True,
    ) -> CommandResult:
        """`sensitive`: the user's group has that policy; without it RouterOS leaves secrets
        and passwords out of every print (they can still be written)."""
        path, _, verb = command.rpartition("/")
        with self._lock:
            menu = self._menus.get(path)
            if menu is None:
                raise Trap("no such command prefix", 0)
            if verb not in menu.spec.verbs and not (verb == "move" and menu.spec.ordered):
                raise Trap("no such command", 0)
            if verb == "print":
                rows = self._print(menu, attributes, queries)
                if not sensitive:
                    rows = [{k: v for k, v in r.items() if k not in SENSITIVE} for r in rows]
                return CommandResult(rows)
            if verb == "listen":  # needs a connection to stream to: see subscribe()
                raise Trap("no such command", 0)
            if verb in ("add", "set"):
                self._check_settable(path, menu.spec, attributes)
            if verb == "move":
                self._move(menu, attributes)
                self.writes += 1
                return CommandResult([])
            if verb == "add":
                row_id = self._add(path, dict(attributes))
                self.writes += 1
                return CommandResult([], row_id)
            if verb == "set":
                self._set(menu, attributes)
            else:
                doomed = [menu.find(reference) for reference in _references(attributes)]
                for row in doomed:
                    menu.rows.remove(row)
                    self._notify(path, {".id": row[".id"], ".dead": "true"})
            self.writes += 1
            return CommandResult([])

    def subscribe(self, path: str, listener: Listener) -> Callable[[], None]:
        """`listen`: call `listener` on every change in the menu; returns the unsubscribe."""
        with self._lock:
            if path not in self._menus:
                raise Trap("no such command prefix", 0)
            self._listeners.setdefault(path, []).append(listener)

        def unsubscribe() -> None:
            with self._lock:
                self._listeners[path].remove(listener)

        return unsubscribe

    def _notify(self, path: str, row: Mapping[str, str]) -> None:
        hidden = self._menus[path].spec.hidden
        for listener in self._listeners.get(path, []):
            listener({k: v for k, v in row.items() if k not in hidden})

    def rows(self, path: str) -> list[dict[str, str]]:
        """A copy of a list menu's rows (hidden fields included), for tests."""
        with self._lock:
            return [dict(row) for row in self._menus[path].rows]

    def add_row(self, path: str, row: Mapping[str, str]) -> str:
        """Add a row bypassing the verb check (how sessions appear); returns its .id."""
        with self._lock:
            return self._add(path, dict(row))

    def _print(
        self, menu: _Menu, attributes: Mapping[str, str], queries: Sequence[str]
    ) -> list[dict[str, str]]:
        if menu.spec.singleton:
            rows = [self._singleton_row(menu.spec.path)]
        else:
            rows = [
                {k: v for k, v in row.items() if k not in menu.spec.hidden} for row in menu.rows
            ]
        if queries:
            _matches({}, queries)  # a malformed query is refused even on an empty menu
            rows = [row for row in rows if _matches(row, queries)]
        proplist = attributes.get(".proplist")
        if proplist:
            wanted = [name for name in proplist.split(",") if name]
            rows = [{name: row[name] for name in wanted if name in row} for row in rows]
        return rows

    def _singleton_row(self, path: str) -> dict[str, str]:
        row = dict(self._singletons[path])
        if path == "/system/resource":
            row["uptime"] = format_duration(int(time.monotonic() - self._started))
        return row

    def _check_settable(self, path: str, spec: MenuSpec, attributes: Mapping[str, str]) -> None:
        known = set(self._singletons[path]) if spec.singleton else spec.settable
        for name in attributes:
            if name not in known and name not in (".id", "numbers"):
                raise Trap(f"unknown parameter {name}", 1)

    def _add(self, path: str, attributes: dict[str, str]) -> str:
        menu = self._menus[path]
        if "copy-from" in attributes or ".id" in attributes:
            raise Trap("unknown parameter", 1)
        # Ordered lists insert before the named rule (rule order is what makes them work).
        before = attributes.pop("place-before", None)
        position = len(menu.rows) if before is None else menu.rows.index(menu.find(before))
        missing = [name for name in menu.spec.required if not attributes.get(name)]
        if missing:
            raise Trap(f"failure: {missing[0]} not specified", 1)
        row = {**menu.spec.defaults, **_normalise(menu.spec.defaults, attributes)}
        self._check_references(path, row)
        menu.check_unique(row)
        row_id = f"*{menu.next_id:X}"
        menu.next_id += 1
        menu.rows.insert(position, {".id": row_id, **row})
        self._notify(path, menu.rows[position])
        return row_id

    def _move(self, menu: _Menu, attributes: Mapping[str, str]) -> None:
        """`move numbers=<ids> destination=<id>`: before `destination`, or to the end."""
        for name in attributes:
            if name not in (".id", "numbers", "destination"):
                raise Trap(f"unknown parameter {name}", 1)
        references = _references(attributes)
        if not references:
            raise Trap("failure: numbers not specified", 1)
        moving = [menu.find(reference) for reference in references]
        destination = attributes.get("destination")
        target = menu.find(destination) if destination else None
        # Dynamic rules (the hotspot's, for one) stay where RouterOS put them.
        if any(row.get("dynamic") == "true" for row in [*moving, *([target] if target else [])]):
            raise Trap("failure: cannot move dynamic entry", 1)
        if target is not None and any(row is target for row in moving):
            return
        for row in moving:
            menu.rows.remove(row)
        position = len(menu.rows) if target is None else menu.rows.index(target)
        menu.rows[position:position] = moving
        for row in moving:
            self._notify(menu.spec.path, row)

    def _set(self, menu: _Menu, attributes: Mapping[str, str]) -> None:
        changes = {k: v for k, v in attributes.items() if k not in (".id", "numbers")}
        if menu.spec.singleton:
            row = self._singletons[menu.spec.path]
            row.update(_normalise(row, changes))
            self._notify(menu.spec.path, row)
            return
        references = _references(attributes)
        if not references:
            raise Trap("failure: .id not specified", 1)
        # Every target is checked before any is changed: a refused set changes nothing.
        planned = []
        for row in [menu.find(reference) for reference in references]:
            updated = {**row, **_normalise(row, changes)}
            self._check_references(menu.spec.path, updated)
            menu.check_unique(updated, ignore=row[".id"])
            planned.append((row, updated))
        for row, updated in planned:
            row.update(updated)
            self._notify(menu.spec.path, row)

    def _check_references(self, path: str, row: dict[str, str]) -> None:
        pool_field = _POOL_FIELDS.get(path)
        if pool_field and row.get(pool_field) not in ("", "none", None):
            pools = {r["name"] for r in self._menus["/ip/pool"].rows}
            if row[pool_field] not in pools and not _is_ip(row[pool_field]):
                raise Trap(f"input does not match any value of {pool_field}", 1)
        if path == "/interface/wireguard":
            row.update(_wireguard_keys(row.get("private-key", "")))
        if path == "/interface/wireguard/peers":
            names = {r["name"] for r in self._menus["/interface/wireguard"].rows}
            if row.get("interface") not in names:
                raise Trap("input does not match any value of interface", 1)
        if path == "/user":
            groups = {r["name"] for r in self._menus["/user/group"].rows}
            if row.get("group") not in groups:
                raise Trap("input does not match any value of group", 1)


def _normalise(existing: Mapping[str, str], changes: Mapping[str, str]) -> dict[str, str]:
    """RouterOS prints booleans as true/false whatever yes/no form was written."""
    out = {}
    for name, value in changes.items():
        if existing.get(name) in ("true", "false"):
            value = _BOOLEAN_INPUT.get(value, value)
        out[name] = value
    return out


def _references(attributes: Mapping[str, str]) -> list[str]:
    raw = attributes.get(".id") or attributes.get("numbers") or ""
    return [part for part in raw.split(",") if part]


def _wireguard_keys(private_text: str) -> dict[str, str]:
    """A new key pair, or the public key of the given private key (RouterOS derives it)."""
    if private_text:
        try:
            key = X25519PrivateKey.from_private_bytes(base64.b64decode(private_text, validate=True))
        except ValueError:
            raise Trap("invalid private-key", 1) from None
    else:
        key = X25519PrivateKey.generate()
    private = key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
    public = key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    return {
        "private-key": base64.b64encode(private).decode(),
        "public-key": base64.b64encode(public).decode(),
    }


def _matches(row: Mapping[str, str], queries: Sequence[str]) -> bool:
    """Evaluate `?` query words as RouterOS does: a stack of booleans, all ANDed at the end."""
    stack: list[bool] = []
    try:
        for query in queries:
            body = query[1:]
            if body.startswith("#"):
                for op in body[1:]:
                    if op == "!":
                        stack.append(not stack.pop())
                    elif op in "|&":
                        right, left = stack.pop(), stack.pop()
                        stack.append(left or right if op == "|" else left and right)
                    elif op == ".":
                        stack.append(stack[-1])
                    else:
                        raise Trap("unknown query operation", 1)
            elif body[:1] in ("<", ">"):
                name, _, value = body[1:].partition("=")
                stack.append(name in row and _compare(row[name], value, body[0]))
            elif body.startswith("-"):
                stack.append(body[1:] not in row)
            elif "=" in body:
                name, _, value = body.removeprefix("=").partition("=")
                stack.append(row.get(name) == value)
            else:
                stack.append(body in row)
    except IndexError:
        raise Trap("invalid query: stack is empty", 1) from None
    return all(stack)


def _compare(actual: str, wanted: str, op: str) -> bool:
    if _is_number(actual) and _is_number(wanted):
        left, right = int(actual), int(wanted)
        return left < right if op == "<" else left > right
    return actual < wanted if op == "<" else actual > wanted


def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def _is_number(text: str) -> bool:
    return text.isascii() and text.isdigit()
