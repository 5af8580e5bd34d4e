"""RouterClient: generic print/add/set/remove on any menu plus the operations the service
needs (connection test, active sessions, disconnect), all through the router's serial queue."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import TracebackType

from radius_service.routers.connection import RouterConnection, RouterEndpoint
from radius_service.routers.errors import CommandNotSupported, RouterTrap
from radius_service.routers.queue import RouterCommandQueue

Value = str | int | bool
Row = dict[str, str]


@dataclass(frozen=True, slots=True)
class RouterInfo:
    identity: str
    version: str  # as RouterOS prints it, e.g. "7.16 (stable)"
    board: str
    uptime: str  # RouterOS duration text, e.g. "2d20h12m20s"
    cpu_load: int  # percent
    free_memory: int  # bytes
    total_memory: int  # bytes
    # SHA-256 (hex) of the API-SSL certificate the router presented, if any.
    tls_fingerprint: str | None = None

    @property
    def major_version(self) -> int:
        head = self.version.split(".", 1)[0]
        return int(head) if head.isascii() and head.isdigit() else 0


@dataclass(frozen=True, slots=True)
class PppSession:
    id: str
    name: str
    service: str
    caller_id: str
    address: str
    uptime: str
    session_id: str


@dataclass(frozen=True, slots=True)
class HotspotSession:
    id: str
    user: str
    server: str
    address: str
    mac_address: str
    uptime: str
    bytes_in: int  # from the subscriber (upload)
    bytes_out: int


class RouterClient:
    """Async API over one router. Property names are RouterOS's (hyphenated); a Python
    keyword name like `use_radius` is sent as `use-radius`. Booleans go out as yes/no."""

    def __init__(
        self, endpoint: RouterEndpoint, *, queue: RouterCommandQueue | None = None
    ) -> None:
        self.endpoint = endpoint
        self.queue = queue or RouterCommandQueue(endpoint)

    async def __aenter__(self) -> RouterClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.close()

    async def close(self) -> None:
        await self.queue.aclose()

    # -- generic menu access (the config-sync planner's Protocol) ------------------

    async def print(
        self,
        path: str,
        proplist: Sequence[str] | None = None,
        query: Mapping[str, str] | None = None,
    ) -> list[dict[str, str]]:
        words = _print_words(proplist, query)
        command = _command(path, "print")
        return await self.queue.submit(lambda c: c.run(command, words).rows, retry_if_dropped=True)

    async def add(self, path: str, **params: Value) -> str:
        command = _command(path, "add")
        reply = await self.queue.submit(lambda c: c.run(command, _param_words(params)))
        return reply.ret or ""

    async def set(self, path: str, item_id: str | None, **params: Value) -> None:
        """`item_id` None for single-row menus such as /ppp/aaa or /system/identity."""
        words = _param_words(params)
        if item_id is not None:
            words.insert(0, f"=.id={item_id}")
        command = _command(path, "set")
        await self.queue.submit(lambda c: c.run(command, words))

    async def remove(self, path: str, item_id: str) -> None:
        command = _command(path, "remove")
        await self.queue.submit(lambda c: c.run(command, [f"=.id={item_id}"]))

    async def move(self, path: str, item_id: str, destination: str | None = None) -> None:
        """Move an entry of an ordered list (firewall rules) before `destination`, or to the
        end of the list without one."""
        words = [f"=numbers={item_id}"]
        if destination is not None:
            words.append(f"=destination={destination}")
        command = _command(path, "move")
        await self.queue.submit(lambda c: c.run(command, words))

    # -- operations -------------------------------------------------------------

    async def test_connection(self) -> RouterInfo:
        return await self.queue.submit(_router_info, retry_if_dropped=True)

    async def ppp_active(self) -> list[PppSession]:
        rows = await self.print("/ppp/active")
        return [
            PppSession(
                id=row.get(".id", ""),
                name=row.get("name", ""),
                service=row.get("service", ""),
                caller_id=row.get("caller-id", ""),
                address=row.get("address", ""),
                uptime=row.get("uptime", ""),
                session_id=row.get("session-id", ""),
            )
            for row in rows
        ]

    async def hotspot_active(self) -> list[HotspotSession]:
        rows = await self.print("/ip/hotspot/active")
        return [
            HotspotSession(
                id=row.get(".id", ""),
                user=row.get("user", ""),
                server=row.get("server", ""),
                address=row.get("address", ""),
                mac_address=row.get("mac-address", ""),
                uptime=row.get("uptime", ""),
                bytes_in=_int(row.get("bytes-in")),
                bytes_out=_int(row.get("bytes-out")),
            )
            for row in rows
        ]

    async def disconnect(self, username: str) -> bool:
        """Kick every PPP and hotspot session of `username`; True if any was removed.

        One queue job, so nothing runs between the look-up and the removal; safe to rerun
        after a dropped connection (a second pass finds what is left)."""
        removed: list[str] = []

        def kick(connection: RouterConnection) -> bool:
            for menu, field in (("/ppp/active", "name"), ("/ip/hotspot/active", "user")):
                try:
                    rows = connection.run(
                        f"{menu}/print", [f"?={field}={username}", "=.proplist=.id"]
                    ).rows
                except CommandNotSupported:
                    continue  # e.g. the hotspot package is not installed
                for row in rows:
                    try:
                        connection.run(f"{menu}/remove", [f"=.id={row['.id']}"])
                    except RouterTrap as exc:
                        if exc.message != "no such item":  # ended on its own meanwhile
                            raise
                    else:
                        removed.append(row[".id"])
            return bool(removed)

        return await self.queue.submit(kick, retry_if_dropped=True)


def _router_info(connection: RouterConnection) -> RouterInfo:
    identity = connection.run("/system/identity/print").rows
    resource = connection.run("/system/resource/print").rows
    row = resource[0] if resource else {}
    return RouterInfo(
        identity=identity[0].get("name", "") if identity else "",
        version=row.get("version", ""),
        board=row.get("board-name", ""),
        uptime=row.get("uptime", ""),
        cpu_load=_int(row.get("cpu-load")),
        free_memory=_int(row.get("free-memory")),
        total_memory=_int(row.get("total-memory")),
        tls_fingerprint=connection.tls_fingerprint,
    )


def _command(path: str, verb: str) -> str:
    """`/ppp/active`, `ppp/active` and `/ppp active` all name the same menu."""
    menu = "/".join(part for part in path.replace(" ", "/").split("/") if part)
    return f"/{menu}/{verb}"


def _print_words(proplist: Sequence[str] | None, query: Mapping[str, str] | None) -> list[str]:
    words = []
    if proplist:
        words.append(f"=.proplist={','.join(proplist)}")
    for name, value in (query or {}).items():
        words.append(f"?={name}={value}")
    return words


def _param_words(params: Mapping[str, Value]) -> list[str]:
    words = []
    for name, value in params.items():
        text = ("yes" if value else "no") if isinstance(value, bool) else str(value)
        words.append(f"={name.replace('_', '-')}={text}")
    return words


def _int(text: str | None) -> int:
    try:
        return int(text or 0)
    except ValueError:
        return 0
