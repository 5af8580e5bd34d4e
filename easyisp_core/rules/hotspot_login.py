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


class ReceiptRefusal(enum.StrEnum):
    """Why "I have already paid" did not sign a device in."""

    NOT_FOUND = "not_found"  # no recent completed M-Pesa payment with that code
    NOT_HOTSPOT = "not_hotspot"  # the payment was for a home (PPPoE, static…) connection
    NO_DEVICE = "no_device"  # the account has no device bound: it logs in with its password
    OTHER_DEVICE = "other_device"  # the account is bound to another device
    # "I have already paid" by phone number: no recent payment from it for this device. One
    # answer for every case, so a typed number tells nothing about someone else's payments.
    NO_PHONE_PAYMENT = "no_phone_payment"


def receipt_login(
    bound_mac: str | None, device_mac: str | None, is_hotspot: bool
) -> HotspotLogin | ReceiptRefusal:
    """The login "I have already paid" may give for an account a receipt credited.

    A receipt code is not a secret (it is in the payer's SMS, on the shop's statement, read
    out over the counter), so it signs in only the device the account is bound to, by MAC,
    and never hands out an account's password."""
    if not is_hotspot:
        return ReceiptRefusal.NOT_HOTSPOT
    bound, device = normalize_mac(bound_mac), normalize_mac(device_mac)
    if bound is None:
        return ReceiptRefusal.NO_DEVICE
    if bound != device:
        return ReceiptRefusal.OTHER_DEVICE
    return HotspotLogin(LoginKind.MAC, bound, "")
