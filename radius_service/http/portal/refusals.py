"""Why the portal could not send a payment request, in the buyer's terms: each refusal of a
purchase (bad input, the network's rules, Daraja's answer) maps to its own message key in
texts.py and an HTTP status, so the page says what to do next instead of one message for all.
"""

from __future__ import annotations

from easyisp_core.errors import ValidationFailed
from easyisp_core.rules.hotspot_signup import SignupRefusal, SignupRefused
from radius_service.mpesa.errors import (
    DarajaBadRequest,
    DarajaError,
    DarajaInvalidCredentials,
    DarajaInvalidToken,
    DarajaRateLimited,
)

# Daraja's refusal when a prompt is already open on the phone (protocols.md §1.3).
LOCKED_SUBSCRIBER = "unable to lock subscriber"

_SIGNUP_KEYS = {
    SignupRefusal.TURNED_OFF: "no_signup",
    SignupRefusal.PHONE_LIMIT: "signup_phone_limit",
    SignupRefusal.DEVICE_TAKEN: "signup_device_taken",
    SignupRefusal.OTHER: "signup_other",
}


def refusal(exc: ValidationFailed | DarajaError) -> tuple[str, int]:
    """(texts.py key, HTTP status) for a purchase that was refused before any money moved."""
    if isinstance(exc, SignupRefused):
        return _SIGNUP_KEYS[exc.reason], 403
    if isinstance(exc, ValidationFailed):
        fields = exc.field_errors
        if "phone" in fields:
            return "bad_phone", 400
        if "gateway" in fields:
            return "no_gateway", 503
        if "package" in fields:
            return "package_gone", 409
        return "bad_request", 400
    return _daraja(exc)


def _daraja(exc: DarajaError) -> tuple[str, int]:
    said = (exc.error_message or "").lower()
    if isinstance(exc, DarajaInvalidCredentials | DarajaInvalidToken):
        # The gateway's keys are wrong: only the provider can fix it.
        return "no_gateway", 503
    if isinstance(exc, DarajaRateLimited):
        return "daraja_busy", 503
    if isinstance(exc, DarajaBadRequest):
        if LOCKED_SUBSCRIBER in said:
            return "push_pending", 409
        if "phonenumber" in said.replace(" ", ""):
            return "bad_phone", 400
        return "daraja_refused", 502
    return "daraja_down", 503
