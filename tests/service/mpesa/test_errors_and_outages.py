"""Daraja's answers sorted into outcomes (pure), and outages over real HTTP: queries retried,
pushes never, an unreachable Daraja reported as such."""

from __future__ import annotations

import socket
from decimal import Decimal
from typing import Any

import httpx
import pytest

from radius_service.mpesa.client import DarajaClient
from radius_service.mpesa.errors import (
    DarajaBadRequest,
    DarajaError,
    DarajaInvalidCredentials,
    DarajaInvalidToken,
    DarajaRateLimited,
    DarajaUnavailable,
    classify,
    classify_token_failure,
    is_still_processing,
)
from radius_service.mpesa.results import StkState
from radius_service.simulator.daraja.runner import DarajaSimulator
from tests.service.mpesa.conftest import FAST_RETRY, CallbackRecorder, control, make_client, run


def answer(status: int, body: Any = None, text: str | None = None) -> httpx.Response:
    if text is not None:
        return httpx.Response(status, text=text)
    return httpx.Response(status, json=body)


def daraja_body(code: str, message: str) -> dict[str, str]:
    return {"requestId": "1-2-3", "errorCode": code, "errorMessage": message}


@pytest.mark.parametrize(
    ("response", "kind"),
    [
        (answer(404, daraja_body("404.001.03", "Invalid Access Token")), DarajaInvalidToken),
        (answer(400, daraja_body("400.003.01", "Invalid Access Token")), DarajaInvalidToken),
        (answer(401, text=""), DarajaInvalidToken),
        (answer(429, text="Too Many Requests"), DarajaRateLimited),
        (answer(500, daraja_body("500.003.02", "Spike Arrest Violation")), DarajaRateLimited),
        (answer(500, daraja_body("500.003.03", "Quota Violation")), DarajaRateLimited),
        (answer(400, daraja_body("400.002.02", "Bad Request - Invalid Amount")), DarajaBadRequest),
        (answer(500, daraja_body("500.001.1001", "Merchant does not exist")), DarajaBadRequest),
        (answer(405, text="method"), DarajaBadRequest),
        (answer(500, daraja_body("500.003.1001", "Internal Server Error")), DarajaUnavailable),
        (answer(502, text="<html>bad gateway</html>"), DarajaUnavailable),
    ],
)
def test_business_answers_are_classified(response: httpx.Response, kind: type[DarajaError]) -> None:
    error = classify(response, operation="STK push")
    assert type(error) is kind
    assert error.status == response.status_code


def test_daraja_message_is_kept_for_the_caller() -> None:
    error = classify(
        answer(400, daraja_body("400.002.02", "Bad Request - Invalid PartyA")), operation="STK push"
    )
    assert error.error_code == "400.002.02"
    assert error.error_message == "Bad Request - Invalid PartyA"
    assert "Invalid PartyA" in error.user_message


@pytest.mark.parametrize(
    ("response", "kind"),
    [
        (
            answer(400, daraja_body("400.008.01", "Invalid Authentication passed")),
            DarajaInvalidCredentials,
        ),
        (answer(400, text=""), DarajaInvalidCredentials),
        (answer(429, text=""), DarajaRateLimited),
        (answer(503, text=""), DarajaUnavailable),
    ],
)
def test_token_answers_are_classified(response: httpx.Response, kind: type[DarajaError]) -> None:
    assert type(classify_token_failure(response)) is kind


def test_only_the_processing_message_means_pending() -> None:
    pending = answer(500, daraja_body("500.001.1001", "The transaction is being processed"))
    locked = answer(500, daraja_body("500.001.1001", "Unable to lock subscriber"))
    assert is_still_processing(pending)
    assert not is_still_processing(locked)


def test_query_is_retried_through_a_short_outage(
    simulator: DarajaSimulator, recorder: CallbackRecorder
) -> None:
    async def work() -> StkState:
        async with make_client(simulator) as client:
            accepted = await client.stk_push(
                shortcode=simulator.config.shortcode,
                passkey=simulator.config.passkey,
                amount=Decimal("10"),
                phone="0708374149",
                callback_url=recorder.url + "/hooks/stk",
                account_reference="ACC",
            )
            recorder.wait_for("/hooks/stk")
            control(simulator, "outage", {"requests": 2})
            result = await client.stk_query(
                shortcode=simulator.config.shortcode,
                passkey=simulator.config.passkey,
                checkout_request_id=accepted.checkout_request_id,
            )
            return result.state

    assert run(work) is StkState.SUCCEEDED
    assert control(simulator, "transactions")["failing_remaining"] == 0


def test_push_during_an_outage_is_reported_and_not_retried(
    simulator: DarajaSimulator, recorder: CallbackRecorder
) -> None:
    async def work() -> None:
        async with make_client(simulator) as client:
            await client.tokens.get()
            control(simulator, "outage", {"requests": 3})
            with pytest.raises(DarajaUnavailable, match="Internal Server Error"):
                await client.stk_push(
                    shortcode=simulator.config.shortcode,
                    passkey=simulator.config.passkey,
                    amount=Decimal("10"),
                    phone="0708374149",
                    callback_url=recorder.url + "/hooks/stk",
                    account_reference="ACC",
                )

    run(work)
    listing = control(simulator, "transactions")
    assert listing["failing_remaining"] == 2
    assert listing["stk"] == []


def test_unreachable_daraja_is_unavailable_after_the_retries() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]

    async def work() -> DarajaClient:
        client = DarajaClient(f"http://127.0.0.1:{port}", "key", "secret", retry=FAST_RETRY)
        async with client:
            with pytest.raises(DarajaUnavailable, match="unreachable"):
                await client.stk_query(
                    shortcode="174379", passkey="x", checkout_request_id="ws_CO_1"
                )
        return client

    assert run(work).tokens.fetches == FAST_RETRY.attempts
