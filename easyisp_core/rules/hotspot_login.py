"""Which login the router should be sent after a hotspot purchase: the pure decision.

The RADIUS rules (rules/radius_auth.py) accept a MAC login only when the Calling-Station-Id
is the account's bound MAC, so the portal offers MAC login exactly then; otherwise the
device logs in with the account's username and password."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from easyisp_core.rules.radius_auth import normalize_mac


class LoginKind(enum.StrEnum):
    MAC = "mac"
    PASSWORD = "password"  # noqa: S105 (a login kind, not a password)


@dataclass(frozen=True)
class HotspotLogin:
    kind: LoginKind
    username: str
    # MikroTik's MAC authentication sends the MAC as the username with an empty password.
    password: str


def hotspot_login(
    username: str, password: str | None, bound_mac: str | None, device_mac: str | None
) -> HotspotLogin | None:
    """MAC login when the device is the account's bound device, else the account's own
    credentials; None when neither would be accepted (no bound MAC match and no password)."""
    bound, device = normalize_mac(bound_mac), normalize_mac(device_mac)
    if bound is not None and bound == device:
        return HotspotLogin(LoginKind.MAC, bound, "")
    if password:
        return HotspotLogin(LoginKind.PASSWORD, username, password)
    return None
