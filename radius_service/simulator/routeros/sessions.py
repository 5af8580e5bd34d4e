"""Fake subscriber sessions in /ppp/active and /ip/hotspot/active (field names from
protocols.md §2.5); removing such a row is how the router disconnects a user."""

from __future__ import annotations

from radius_service.simulator.routeros.state import RouterState


def add_ppp_session(
    state: RouterState, name: str, *, number: int = 1, address: str | None = None
) -> str:
    return state.add_row(
        "/ppp/active",
        {
            "name": name,
            "service": "pppoe",
            "caller-id": _mac(number),
            "address": address or f"10.20.{number // 250}.{number % 250 + 2}",
            "uptime": f"{number % 24}h{number % 60}m",
            "encoding": "",
            "session-id": f"0x81F{number:05X}",
            "limit-bytes-in": "0",
            "limit-bytes-out": "0",
            "radius": "true",
            "comment": "",
        },
    )


def add_hotspot_session(
    state: RouterState, user: str, *, number: int = 1, address: str | None = None
) -> str:
    return state.add_row(
        "/ip/hotspot/active",
        {
            "server": "hotspot1",
            "user": user,
            "domain": "",
            "address": address or f"10.30.{number // 250}.{number % 250 + 2}",
            "mac-address": _mac(number + 0x10000),
            "login-by": "http-chap",
            "uptime": f"{number % 60}m{number % 60}s",
            "session-time-left": "",
            "idle-time": "0s",
            "idle-timeout": "5m",
            "keepalive-timeout": "2m",
            "bytes-in": str(1000 * number),
            "bytes-out": str(5000 * number),
            "packets-in": str(10 * number),
            "packets-out": str(40 * number),
            "radius": "true",
            "blocked": "false",
            "comment": "",
        },
    )


def seed_sessions(state: RouterState, count: int) -> None:
    """`count` PPPoE users ppp0001… and `count` hotspot users hs0001…"""
    for number in range(1, count + 1):
        add_ppp_session(state, f"ppp{number:04d}", number=number)
        add_hotspot_session(state, f"hs{number:04d}", number=number)


def _mac(number: int) -> str:
    raw = (0x020000000000 | number).to_bytes(6, "big")
    return ":".join(f"{byte:02X}" for byte in raw)
