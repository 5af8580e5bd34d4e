"""How a simulated customer answers an STK prompt, the default rule that picks it, and the
identifiers and callback bodies Daraja would produce for it (protocols.md §1.3)."""

from __future__ import annotations

import enum
import secrets
import string
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from radius_service.mpesa.password import EAT, TIMESTAMP_FORMAT


class Scenario(enum.StrEnum):
    SUCCESS = "success"
    CANCELLED = "cancelled"  # 1032
    TIMEOUT = "timeout"  # 1037, customer unreachable
    INSUFFICIENT_FUNDS = "insufficient_funds"  # 1
    WRONG_PIN = "wrong_pin"  # 2001
    EXPIRED = "expired"  # 1019
    DUPLICATE_CALLBACK = "duplicate_callback"  # success, delivered twice
    LATE_CALLBACK = "late_callback"  # success, delivered after `late_callback_delay`
    NO_CALLBACK = "no_callback"  # success, callback lost (only STK query tells)


@dataclass(frozen=True)
class Outcome:
    result_code: int
    result_desc: str


SUCCESS = Outcome(0, "The service request is processed successfully.")
OUTCOMES: dict[Scenario, Outcome] = {
    Scenario.SUCCESS: SUCCESS,
    Scenario.DUPLICATE_CALLBACK: SUCCESS,
    Scenario.LATE_CALLBACK: SUCCESS,
    Scenario.NO_CALLBACK: SUCCESS,
    Scenario.CANCELLED: Outcome(1032, "Request cancelled by user"),
    Scenario.TIMEOUT: Outcome(1037, "DS timeout user cannot be reached"),
    Scenario.INSUFFICIENT_FUNDS: Outcome(1, "The balance is insufficient for the transaction."),
    Scenario.WRONG_PIN: Outcome(2001, "The initiator information is invalid."),
    Scenario.EXPIRED: Outcome(1019, "Transaction has expired"),
}

# The default rule, so a demo runs hands-free: the last two digits of the paying phone pick
# the scenario; every other number (the sandbox's 254708374149 included) pays successfully.
PHONE_SUFFIX_RULE: dict[str, Scenario] = {
    "01": Scenario.CANCELLED,
    "02": Scenario.TIMEOUT,
    "03": Scenario.INSUFFICIENT_FUNDS,
    "04": Scenario.DUPLICATE_CALLBACK,
    "05": Scenario.LATE_CALLBACK,
    "06": Scenario.NO_CALLBACK,
    "07": Scenario.WRONG_PIN,
    "08": Scenario.EXPIRED,
}


def scenario_by_rule(phone: str) -> Scenario:
    return PHONE_SUFFIX_RULE.get(phone[-2:], Scenario.SUCCESS)


_ALNUM = string.ascii_uppercase + string.digits
_DAY_CHARS = "0123456789ABCDEFGHIJKLMNOPQRSTUV"


def receipt_number(when: datetime) -> str:
    """An M-Pesa receipt as real ones read: year letter (2019 = N), month letter (A = Jan),
    day character (1-9, then A = 10th), then seven random capitals/digits — `NLJ7RT61SV`."""
    local = when.astimezone(EAT)
    year = chr(ord("A") + (local.year - 2006) % 26)
    month = chr(ord("A") + local.month - 1)
    day = _DAY_CHARS[local.day]
    return year + month + day + "".join(secrets.choice(_ALNUM) for _ in range(7))


def checkout_request_id(when: datetime) -> str:
    """`ws_CO_` + DDMMYYYYHHMMSS + digits, as in `ws_CO_1007202409152617172396192`."""
    stamp = when.astimezone(EAT).strftime("%d%m%Y%H%M%S")
    return "ws_CO_" + stamp + "".join(secrets.choice(string.digits) for _ in range(11))


def merchant_request_id() -> str:
    """New-style id, e.g. `2654-4b64-97ff-b827b542881d3130`."""
    hexed = secrets.token_hex(12)
    digits = "".join(secrets.choice(string.digits) for _ in range(4))
    return f"{hexed[:4]}-{hexed[4:8]}-{hexed[8:12]}-{hexed[12:]}{digits}"


def conversation_id(when: datetime) -> str:
    """e.g. `AG_20210709_1234409f86436c583e3f`."""
    return f"AG_{when.astimezone(EAT):%Y%m%d}_{secrets.token_hex(10)}"


def eat_timestamp(when: datetime) -> str:
    return when.astimezone(EAT).strftime(TIMESTAMP_FORMAT)


def stk_callback_body(
    *,
    merchant_request_id: str,
    checkout_request_id: str,
    outcome: Outcome,
    amount: int,
    receipt: str | None,
    completed_at: datetime,
    phone: str,
) -> dict[str, Any]:
    """The JSON Daraja POSTs to CallBackURL; metadata only on success, with Daraja's types:
    Amount, TransactionDate and PhoneNumber are numbers, Balance an item without a Value."""
    callback: dict[str, Any] = {
        "MerchantRequestID": merchant_request_id,
        "CheckoutRequestID": checkout_request_id,
        "ResultCode": outcome.result_code,
        "ResultDesc": outcome.result_desc,
    }
    if outcome.result_code == 0:
        callback["CallbackMetadata"] = {
            "Item": [
                {"Name": "Amount", "Value": amount},
                {"Name": "MpesaReceiptNumber", "Value": receipt},
                {"Name": "Balance"},
                {"Name": "TransactionDate", "Value": int(eat_timestamp(completed_at))},
                {"Name": "PhoneNumber", "Value": int(phone)},
            ]
        }
    return {"Body": {"stkCallback": callback}}
