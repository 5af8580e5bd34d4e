"""Finding one accounted session among a router's active PPP and hotspot sessions, and
removing it: the router API side of a disconnect. Each function runs inside one queue job
(on the router's connection thread), so nothing else talks to the router in between."""

from __future__ import annotations

import time

from easyisp_core.services.session_control import SessionTarget
from radius_service.routers.connection import RouterConnection
from radius_service.routers.errors import CommandNotSupported, RouterTrap

_MENUS = (("/ppp/active", "name"), ("/ip/hotspot/active", "user"))
# RouterOS drops a removed PPP session from the list at once, a hotspot one may linger a
# moment while it logs the user out.
CONFIRM_CHECKS = 5
CONFIRM_PAUSE = 0.2


def listed(connection: RouterConnection, target: SessionTarget) -> list[tuple[str, str]]:
    """(menu, .id) of every active row that is this session."""
    found: list[tuple[str, str]] = []
    for menu, field in _MENUS:
        try:
            rows = connection.run(f"{menu}/print", [f"?={field}={target.username}"]).rows
        except CommandNotSupported:
            continue  # e.g. the hotspot package is not installed
        found += [(menu, row[".id"]) for row in rows if ".id" in row and _same(row, target)]
    return found


def remove(connection: RouterConnection, target: SessionTarget) -> bool:
    """Remove the session wherever the router lists it; True once it is no longer listed."""
    for menu, item in listed(connection, target):
        try:
            connection.run(f"{menu}/remove", [f"=.id={item}"])
        except RouterTrap as exc:
            if exc.message != "no such item":  # ended on its own meanwhile
                raise
    for check in range(CONFIRM_CHECKS):
        if not listed(connection, target):
            return True
        if check + 1 < CONFIRM_CHECKS:
            time.sleep(CONFIRM_PAUSE)
    return False


def _same(row: dict[str, str], target: SessionTarget) -> bool:
    """The user name already matched. RouterOS prints PPP's Acct-Session-Id as session-id
    ("0x81A00004" for "81a00004"); failing that the address tells two sessions apart."""
    listed_id = _session_id(row.get("session-id", ""))
    if listed_id and target.session_id:
        return listed_id == _session_id(target.session_id)
    address = row.get("address", "")
    if address and target.framed_ip:
        return address == target.framed_ip.split("/", 1)[0]
    return True


def _session_id(text: str) -> str:
    value = text.strip().lower()
    return value[2:] if value.startswith("0x") else value
