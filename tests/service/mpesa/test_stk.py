"""STK Push and Query through the Daraja double over real HTTP, callbacks delivered to a real
HTTP recorder: Daraja's validation errors, every callback scenario, query per state, 429s."""

from __future__ import annotations

import re
from datetime import datetime
from decimal import Decimal
from typing import Any

import httpx
import pytest

from easyisp_core.errors import ValidationFailed
from radius_service.mpesa.client import DarajaClient
from radius_service.mpesa.errors import DarajaBadRequest, DarajaRateLimited
from radius_service.mpesa.password import stk_password, stk_timestamp
from radius_service.mpesa.results import StkPushAccepted, StkQueryResult, StkState
from radius_service.simulator.daraja.runner import DarajaSimulator
from tests.service.mpesa.conftest import (
    CallbackRecorder,
    control,
    make_client,
    run,
    stk_record,
    wait_until,
)

CALLBACK_PATH = "/hooks/stk/t0k3n"
PHONE = "0708 374 149"
MSISDN = "254708374149"
RECEIPT = re.compile(r"^[A-Z0-9]{10}$")


def push(
    sim: DarajaSimulator,
    recorder: CallbackRecorder,
    *,
    phone: str = PHONE,
    amount: Decimal = Decimal("50"),
    client: DarajaClient | None = None,
    **overrides: Any,
) -> StkPushAccepted:
    async def work() -> StkPushAccepted:
        async with client or make_client(sim) as daraja:
            arguments: dict[str, Any] = {
                "shortcode": sim.config.shortcode,
                "passkey": sim.config.passkey,
                "amount": amount,
                "phone": phone,
                "callback_url": recorder.url + CALLBACK_PATH,
                "account_reference": "ACC-1001",
                "description": "Home 5M",
            } | overrides
            return await daraja.stk_push(**arguments)

    return run(work)


def query(sim: DarajaSimulator, checkout_request_id: str) -> StkQueryResult:
    async def work() -> StkQueryResult:
        async with make_client(sim) as daraja:
            return await daraja.stk_query(
                shortcode=sim.config.shortcode,
                passkey=sim.config.passkey,
                checkout_request_id=checkout_request_id,
            )

    return run(work)


def callbacks_for(recorder: CallbackRecorder, checkout_id: str, count: int = 1) -> list[Any]:
    recorder.wait_for(CALLBACK_PATH, count)
    bodies = recorder.bodies(CALLBACK_PATH)
    return [b for b in bodies if b["Body"]["stkCallback"]["CheckoutRequestID"] == checkout_id]


def metadata(callback: dict[str, Any]) -> dict[str, Any]:
    items = callback["Body"]["stkCallback"]["CallbackMetadata"]["Item"]
    return {item["Name"]: item.get("Value") for item in items}


def test_accepted_push_has_daraja_identifiers(
    simulator: DarajaSimulator, recorder: CallbackRecorder
) -> None:
    accepted = push(simulator, recorder)
    assert accepted.response_code == "0"
    assert re.match(r"^ws_CO_\d{14}\d+$", accepted.checkout_request_id)
    assert accepted.merchant_request_id
    assert stk_record(simulator, accepted.checkout_request_id)["phone"] == MSISDN


def test_success_callback_carries_daraja_metadata(
    simulator: DarajaSimulator, recorder: CallbackRecorder
) -> None:
    control(simulator, "scenario", {"scenario": "success"})
    accepted = push(simulator, recorder, amount=Decimal("50.00"))
    (callback,) = callbacks_for(recorder, accepted.checkout_request_id)
    stk = callback["Body"]["stkCallback"]
    assert stk["ResultCode"] == 0
    assert stk["MerchantRequestID"] == accepted.merchant_request_id
    items = metadata(callback)
    assert items["Amount"] == 50
    assert items["PhoneNumber"] == int(MSISDN)
    assert isinstance(items["TransactionDate"], int)
    paid_at = datetime.strptime(str(items["TransactionDate"]), "%Y%m%d%H%M%S")
    receipt = items["MpesaReceiptNumber"]
    assert RECEIPT.match(receipt)
    # Year, month and day letters of the receipt follow the transaction date (2019 = N).
    assert receipt[0] == chr(ord("A") + paid_at.year - 2006)
    assert receipt[1] == chr(ord("A") + paid_at.month - 1)
    assert stk_record(simulator, accepted.checkout_request_id)["receipt"] == receipt


@pytest.mark.parametrize(
    ("scenario", "code", "desc"),
    [
        ("cancelled", 1032, "Request cancelled by user"),
        ("timeout", 1037, "DS timeout user cannot be reached"),
        ("insufficient_funds", 1, "The balance is insufficient for the transaction."),
        ("wrong_pin", 2001, "The initiator information is invalid."),
    ],
)
def test_failure_callbacks_carry_no_metadata(
    simulator: DarajaSimulator, recorder: CallbackRecorder, scenario: str, code: int, desc: str
) -> None:
    control(simulator, "scenario", {"scenario": scenario})
    accepted = push(simulator, recorder)
    (callback,) = callbacks_for(recorder, accepted.checkout_request_id)
    assert callback["Body"]["stkCallback"] == {
        "MerchantRequestID": accepted.merchant_request_id,
        "CheckoutRequestID": accepted.checkout_request_id,
        "ResultCode": code,
        "ResultDesc": desc,
    }
    answer = query(simulator, accepted.checkout_request_id)
    assert answer.state is StkState.FAILED
    assert answer.result_code == str(code)


def test_duplicate_callback_scenario_delivers_the_same_body_twice(
    simulator: DarajaSimulator, recorder: CallbackRecorder
) -> None:
    control(simulator, "scenario", {"scenario": "duplicate_callback"})
    accepted = push(simulator, recorder)
    first, second = callbacks_for(recorder, accepted.checkout_request_id, count=2)
    assert first == second
    assert first["Body"]["stkCallback"]["ResultCode"] == 0


def test_late_callback_is_pending_until_it_comes(
    simulator: DarajaSimulator, recorder: CallbackRecorder
) -> None:
    control(simulator, "scenario", {"scenario": "late_callback"})
    accepted = push(simulator, recorder)
    assert query(simulator, accepted.checkout_request_id).state is StkState.PENDING
    assert recorder.bodies(CALLBACK_PATH) == []
    control(simulator, f"stk/{accepted.checkout_request_id}/release", {})
    (callback,) = callbacks_for(recorder, accepted.checkout_request_id)
    assert callback["Body"]["stkCallback"]["ResultCode"] == 0
    answer = query(simulator, accepted.checkout_request_id)
    assert answer.state is StkState.SUCCEEDED
    assert answer.result_code == "0"


def test_no_callback_scenario_is_settled_only_by_query(
    simulator: DarajaSimulator, recorder: CallbackRecorder
) -> None:
    control(simulator, "scenario", {"scenario": "no_callback"})
    lost = push(simulator, recorder)
    wait_until(lambda: stk_record(simulator, lost.checkout_request_id)["state"] == "completed")
    # A later push's callback arrives; the lost one never does.
    control(simulator, "scenario", {"scenario": "cancelled"})
    later = push(simulator, recorder, phone="0711 222 333")
    callbacks_for(recorder, later.checkout_request_id)
    assert callbacks_for(recorder, lost.checkout_request_id, count=0) == []
    assert stk_record(simulator, lost.checkout_request_id)["callbacks_delivered"] == 0
    assert query(simulator, lost.checkout_request_id).state is StkState.SUCCEEDED


@pytest.mark.parametrize(
    ("phone", "code"), [("0712 000 001", 1032), ("0712 000 002", 1037), ("0712 000 003", 1)]
)
def test_default_rule_picks_the_scenario_by_the_phones_last_digits(
    simulator: DarajaSimulator, recorder: CallbackRecorder, phone: str, code: int
) -> None:
    accepted = push(simulator, recorder, phone=phone)
    (callback,) = callbacks_for(recorder, accepted.checkout_request_id)
    assert callback["Body"]["stkCallback"]["ResultCode"] == code


def test_a_second_push_to_a_phone_with_one_pending_is_refused(
    simulator: DarajaSimulator, recorder: CallbackRecorder
) -> None:
    control(simulator, "scenario", {"scenario": "late_callback"})
    push(simulator, recorder)
    with pytest.raises(DarajaBadRequest, match="Unable to lock subscriber"):
        push(simulator, recorder)


@pytest.mark.parametrize(
    ("overrides", "says", "code"),
    [
        ({"passkey": "not-the-passkey"}, "Wrong credentials", "500.001.1001"),
        ({"shortcode": "600999", "party_b": "600999"}, "Merchant does not exist", "500.001.1001"),
        ({"callback_url": "http://127.0.0.1:9/mpesa/cb"}, "Invalid CallBackURL", "400.002.02"),
        ({"callback_url": "ftp://127.0.0.1/cb"}, "Invalid CallBackURL", "400.002.02"),
        ({"party_b": "600111"}, "Invalid PartyB", "400.002.02"),
    ],
)
def test_daraja_refusals_reach_the_caller_with_its_message(
    simulator: DarajaSimulator,
    recorder: CallbackRecorder,
    overrides: dict[str, Any],
    says: str,
    code: str,
) -> None:
    with pytest.raises(DarajaBadRequest, match=says) as caught:
        push(simulator, recorder, **overrides)
    assert caught.value.error_code == code
    assert control(simulator, "transactions")["stk"] == []


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"amount": Decimal("49.50")}, "amount"),
        ({"phone": "0208 123 456"}, "phone"),
        ({"account_reference": "ACCOUNT-12345"}, "account_reference"),
        ({"description": "Fourteen chars"}, "description"),
    ],
)
def test_bad_input_is_refused_before_anything_is_sent(
    simulator: DarajaSimulator,
    recorder: CallbackRecorder,
    overrides: dict[str, Any],
    field: str,
) -> None:
    with pytest.raises(ValidationFailed) as caught:
        push(simulator, recorder, **overrides)
    assert field in caught.value.field_errors
    assert control(simulator, "transactions")["tokens_issued"] == 0


def raw_push(sim: DarajaSimulator, recorder: CallbackRecorder, **changes: Any) -> httpx.Response:
    """A hand-made request, for the fields our client never lets through."""
    token = httpx.get(
        f"{sim.url}/oauth/v1/generate?grant_type=client_credentials",
        auth=(sim.config.consumer_key, sim.config.consumer_secret),
    ).json()["access_token"]
    timestamp = stk_timestamp()
    body = {
        "BusinessShortCode": 174379,
        "Password": stk_password(sim.config.shortcode, sim.config.passkey, timestamp),
        "Timestamp": timestamp,
        "TransactionType": "CustomerPayBillOnline",
        "Amount": "1",
        "PartyA": MSISDN,
        "PartyB": "174379",
        "PhoneNumber": MSISDN,
        "CallBackURL": recorder.url + CALLBACK_PATH,
        "AccountReference": "ACC-1001",
        "TransactionDesc": "Home 5M",
    } | changes
    return httpx.post(
        f"{sim.url}/mpesa/stkpush/v1/processrequest",
        json=body,
        headers={"Authorization": f"Bearer {token}"},
    )


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"Amount": "1.5"}, "Amount"),
        ({"Amount": 0}, "Amount"),
        ({"PartyA": "0708374149"}, "PartyA"),
        ({"PhoneNumber": "2547083741"}, "PhoneNumber"),
        ({"TransactionType": "PayBill"}, "TransactionType"),
        ({"AccountReference": "A" * 13}, "AccountReference"),
        ({"TransactionDesc": "D" * 14}, "TransactionDesc"),
        ({"BusinessShortCode": "17437x"}, "BusinessShortCode"),
        ({"Timestamp": "2021-06-28"}, "Timestamp"),
    ],
)
def test_simulator_validates_each_field_as_daraja_does(
    simulator: DarajaSimulator, recorder: CallbackRecorder, changes: dict[str, Any], field: str
) -> None:
    response = raw_push(simulator, recorder, **changes)
    assert response.status_code == 400
    assert response.json()["errorCode"] == "400.002.02"
    assert response.json()["errorMessage"] == f"Bad Request - Invalid {field}"


def test_simulator_accepts_numbers_as_strings_or_numbers(
    simulator: DarajaSimulator, recorder: CallbackRecorder
) -> None:
    response = raw_push(simulator, recorder, Amount=5, PartyB=174379, PartyA=int(MSISDN))
    assert response.status_code == 200
    assert response.json()["ResponseCode"] == "0"


def test_password_from_another_timestamp_is_wrong_credentials(
    simulator: DarajaSimulator, recorder: CallbackRecorder
) -> None:
    response = raw_push(simulator, recorder, Timestamp="20210628092408")
    assert response.status_code == 500
    assert response.json()["errorMessage"] == "Wrong credentials"


def test_push_without_a_token_is_invalid_access_token(
    simulator: DarajaSimulator, recorder: CallbackRecorder
) -> None:
    response = httpx.post(f"{simulator.url}/mpesa/stkpush/v1/processrequest", json={})
    assert response.status_code == 404
    assert response.json()["errorCode"] == "404.001.03"


def test_push_is_resent_once_after_an_invalid_token_and_charges_once(
    simulator: DarajaSimulator, recorder: CallbackRecorder
) -> None:
    async def work() -> StkPushAccepted:
        async with make_client(simulator) as client:
            await client.tokens.get()
            control(simulator, "tokens/expire", {})
            return await client.stk_push(
                shortcode=simulator.config.shortcode,
                passkey=simulator.config.passkey,
                amount=Decimal("20"),
                phone=PHONE,
                callback_url=recorder.url + CALLBACK_PATH,
                account_reference="ACC-1001",
            )

    accepted = run(work)
    listing = control(simulator, "transactions")
    assert [t["checkout_request_id"] for t in listing["stk"]] == [accepted.checkout_request_id]
    assert listing["tokens_issued"] == 2


def test_rate_limited_push_is_not_retried(
    simulator: DarajaSimulator, recorder: CallbackRecorder
) -> None:
    async def work() -> None:
        async with make_client(simulator) as client:
            await client.tokens.get()
            control(simulator, "rate-limit", {"requests": 5, "status": 429})
            with pytest.raises(DarajaRateLimited):
                await client.stk_push(
                    shortcode=simulator.config.shortcode,
                    passkey=simulator.config.passkey,
                    amount=Decimal("20"),
                    phone=PHONE,
                    callback_url=recorder.url + CALLBACK_PATH,
                    account_reference="ACC-1001",
                )

    run(work)
    listing = control(simulator, "transactions")
    assert listing["rate_limited_remaining"] == 4
    assert listing["stk"] == []


@pytest.mark.parametrize("status", [429, 500])
def test_rate_limited_query_is_retried(
    simulator: DarajaSimulator, recorder: CallbackRecorder, status: int
) -> None:
    control(simulator, "scenario", {"scenario": "cancelled"})
    accepted = push(simulator, recorder)
    callbacks_for(recorder, accepted.checkout_request_id)
    control(simulator, "rate-limit", {"requests": 2, "status": status})
    assert query(simulator, accepted.checkout_request_id).result_code == "1032"
    assert control(simulator, "transactions")["rate_limited_remaining"] == 0


def test_query_of_an_unknown_checkout_id_is_a_bad_request(simulator: DarajaSimulator) -> None:
    with pytest.raises(DarajaBadRequest, match="Invalid CheckoutRequestID"):
        query(simulator, "ws_CO_0000")
