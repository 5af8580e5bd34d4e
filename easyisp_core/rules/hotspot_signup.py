"""Why the hotspot may refuse to sign a new device up, read from the database's answer.

`easyisp_hotspot_self_signup` (migration 0015) refuses with a distinct SQLSTATE per reason,
so the portal can tell the buyer what to do instead of one message for every refusal."""

from __future__ import annotations

import enum

from easyisp_core.errors import ValidationFailed


class SignupRefusal(enum.StrEnum):
    TURNED_OFF = "signup_off"  # the tenant does not sign up new devices
    PHONE_LIMIT = "signup_phone_limit"  # the phone already has its maximum hotspot accounts
    DEVICE_TAKEN = "signup_device_taken"  # the MAC is bound to a home (non-hotspot) account
    OTHER = "signup_other"


# The SQLSTATE each refusal of the function raises.
_BY_SQLSTATE = {
    "42501": SignupRefusal.TURNED_OFF,  # insufficient_privilege
    "23514": SignupRefusal.PHONE_LIMIT,  # check_violation
    "23505": SignupRefusal.DEVICE_TAKEN,  # unique_violation
}


def signup_refusal(sqlstate: str | None) -> SignupRefusal:
    return _BY_SQLSTATE.get(sqlstate or "", SignupRefusal.OTHER)


class SignupRefused(ValidationFailed):
    """A device's sign-up was refused; `reason` says why (field "signup" holds the words)."""

    def __init__(self, reason: SignupRefusal, message: str) -> None:
        super().__init__({"signup": message})
        self.reason = reason
