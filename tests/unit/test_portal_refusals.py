"""Each way a portal purchase can be refused gets its own words (in both languages) and
status, and the database's sign-up refusals are told apart by their SQLSTATE."""

from __future__ import annotations

import pytest

from easyisp_core.errors import ValidationFailed
from easyisp_core.rules.hotspot_signup import SignupRefusal, SignupRefused, signup_refusal
from radius_service.http.portal.refusals import refusal
from radius_service.http.portal.texts import TEXTS
from radius_service.mpesa.errors import (
    DarajaBadRequest,
    DarajaError,
    DarajaInvalidCredentials,
    DarajaInvalidToken,
    DarajaRateLimited,
    DarajaUnavailable,
)


def test_both_languages_have_the_same_messages() -> None:
    assert TEXTS["en"].keys() == TEXTS["sw"].keys()
    assert all(text.strip() for words in TEXTS.values() for text in words.values())


@pytest.mark.parametrize(
    ("sqlstate", "reason"),
    [
        ("42501", SignupRefusal.TURNED_OFF),
        ("23514", SignupRefusal.PHONE_LIMIT),
        ("23505", SignupRefusal.DEVICE_TAKEN),
        ("P0001", SignupRefusal.OTHER),
        (None, SignupRefusal.OTHER),
    ],
)
def test_signup_refusals_are_read_from_the_sqlstate(
    sqlstate: str | None, reason: SignupRefusal
) -> None:
    assert signup_refusal(sqlstate) is reason


def _daraja(kind: type[DarajaError], message: str | None = None) -> DarajaError:
    return kind("refused", error_message=message)


@pytest.mark.parametrize(
    ("exc", "key", "status"),
    [
        (ValidationFailed({"phone": "not a Kenyan mobile"}), "bad_phone", 400),
        (ValidationFailed({"gateway": "not set up"}), "no_gateway", 503),
        (ValidationFailed({"package": "no such hotspot package"}), "package_gone", 409),
        (ValidationFailed({"other": "?"}), "bad_request", 400),
        (SignupRefused(SignupRefusal.TURNED_OFF, "off"), "no_signup", 403),
        (SignupRefused(SignupRefusal.PHONE_LIMIT, "cap"), "signup_phone_limit", 403),
        (SignupRefused(SignupRefusal.DEVICE_TAKEN, "bound"), "signup_device_taken", 403),
        (SignupRefused(SignupRefusal.OTHER, "?"), "signup_other", 403),
        (_daraja(DarajaUnavailable), "daraja_down", 503),
        (_daraja(DarajaRateLimited), "daraja_busy", 503),
        (_daraja(DarajaInvalidCredentials), "no_gateway", 503),
        (_daraja(DarajaInvalidToken), "no_gateway", 503),
        (
            _daraja(
                DarajaBadRequest,
                "Unable to lock subscriber, a transaction is already in process for the "
                "current subscriber",
            ),
            "push_pending",
            409,
        ),
        (_daraja(DarajaBadRequest, "Bad Request - Invalid PhoneNumber"), "bad_phone", 400),
        (_daraja(DarajaBadRequest, "Merchant does not exist"), "daraja_refused", 502),
    ],
)
def test_each_refusal_has_its_own_message(
    exc: ValidationFailed | DarajaError, key: str, status: int
) -> None:
    assert refusal(exc) == (key, status)
    assert key in TEXTS["en"]
