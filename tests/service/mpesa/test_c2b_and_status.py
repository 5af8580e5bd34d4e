"""C2B URL registration, sandbox simulate → validation → confirmation, and Transaction Status,
through the Daraja double to a real HTTP recorder."""

from __future__ import annotations

import hashlib
import re
import socket
from decimal import Decimal
from typing import Any

import pytest

from radius_service.mpesa.errors import DarajaBadRequest
from radius_service.mpesa.results import TransactionStatusAccepted
from radius_service.simulator.daraja.runner import DarajaSimulator
from radius_service.simulator.daraja.state import SimulatorConfig
from tests.service.mpesa.conftest import (
    CallbackRecorder,
    control,
    make_client,
    run,
    wait_until,
)

VALIDATE = "/hooks/c2b/validate"
CONFIRM = "/hooks/c2b/confirm"
RESULT = "/hooks/status/result"
MSISDN = "254708374149"


def register_and_pay(
    sim: DarajaSimulator,
    recorder: CallbackRecorder,
    *,
    version: int = 1,
    response_type: str = "Completed",
    validation_url: str | None = None,
    amount: Decimal = Decimal("100"),
) -> None:
    async def work() -> None:
        async with make_client(sim) as client:
            registered = await client.register_c2b_urls(
                shortcode=sim.config.shortcode,
                confirmation_url=recorder.url + CONFIRM,
                validation_url=validation_url or recorder.url + VALIDATE,
                response_type=response_type,
                version=version,
            )
            assert registered.response_code == "0"
            assert registered.originator_conversation_id
            simulated = await client.simulate_c2b(
                shortcode=sim.config.shortcode,
                amount=amount,
                phone="0708374149",
                bill_ref_number="acc 1001",
                version=version,
            )
            assert simulated.response_code == "0"

    run(work)


def c2b_state(sim: DarajaSimulator) -> str:
    (payment,) = control(sim, "transactions")["c2b"]
    return str(payment["state"])


def closed_port_url() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}/validate"


def test_payment_is_validated_then_confirmed(
    simulator: DarajaSimulator, recorder: CallbackRecorder
) -> None:
    register_and_pay(simulator, recorder)
    (confirmation,) = recorder.wait_for(CONFIRM)
    (validation,) = recorder.bodies(VALIDATE)
    assert [r.path for r in recorder.received] == [VALIDATE, CONFIRM]
    assert validation["TransID"] == confirmation["TransID"]
    assert re.match(r"^[A-Z0-9]{10}$", confirmation["TransID"])
    assert re.match(r"^\d{14}$", confirmation["TransTime"])
    assert confirmation["TransAmount"] == "100.00"
    assert confirmation["BusinessShortCode"] == simulator.config.shortcode
    assert confirmation["BillRefNumber"] == "acc 1001"
    assert confirmation["TransactionType"] == "Pay Bill"
    # v1 hashes the payer's number.
    assert confirmation["MSISDN"] == hashlib.sha256(MSISDN.encode()).hexdigest()
    assert confirmation["FirstName"]
    assert validation["OrgAccountBalance"] == ""
    assert confirmation["OrgAccountBalance"] == "100.00"
    assert c2b_state(simulator) == "confirmed"


def test_v2_masks_the_payers_number(simulator: DarajaSimulator, recorder: CallbackRecorder) -> None:
    register_and_pay(simulator, recorder, version=2)
    (confirmation,) = recorder.wait_for(CONFIRM)
    assert confirmation["MSISDN"] == "2547 ***** 149"


def test_rejected_validation_means_no_confirmation(
    simulator: DarajaSimulator, recorder: CallbackRecorder
) -> None:
    recorder.validation_answer = {"ResultCode": "C2B00012", "ResultDesc": "Rejected"}
    register_and_pay(simulator, recorder)
    recorder.wait_for(VALIDATE)
    wait_until(lambda: c2b_state(simulator) == "rejected")
    assert recorder.bodies(CONFIRM) == []
    assert control(simulator, "transactions")["c2b"][0]["validation_result"] == "C2B00012"


@pytest.mark.parametrize(
    ("response_type", "state"), [("Completed", "confirmed"), ("Cancelled", "cancelled")]
)
def test_unanswered_validation_applies_the_registered_response_type(
    simulator: DarajaSimulator, recorder: CallbackRecorder, response_type: str, state: str
) -> None:
    register_and_pay(
        simulator, recorder, response_type=response_type, validation_url=closed_port_url()
    )
    wait_until(lambda: c2b_state(simulator) == state)
    if state == "confirmed":
        recorder.wait_for(CONFIRM)
    else:
        assert recorder.bodies(CONFIRM) == []


@pytest.mark.parametrize(
    "sim_config", [SimulatorConfig(callback_delay=0.0, c2b_external_validation=False)]
)
def test_without_external_validation_only_the_confirmation_comes(
    simulator: DarajaSimulator, recorder: CallbackRecorder
) -> None:
    register_and_pay(simulator, recorder)
    recorder.wait_for(CONFIRM)
    assert recorder.bodies(VALIDATE) == []


@pytest.mark.parametrize(
    ("arguments", "says"),
    [
        ({"shortcode": "600999"}, "Invalid ShortCode"),
        ({"confirmation_url": "http://127.0.0.1:9/mpesa/confirm"}, "Invalid ConfirmationURL"),
        ({"validation_url": "not a url"}, "Invalid ValidationURL"),
    ],
)
def test_registration_refusals_carry_daraja_messages(
    simulator: DarajaSimulator, arguments: dict[str, Any], says: str
) -> None:
    async def work() -> None:
        async with make_client(simulator) as client:
            await client.register_c2b_urls(
                **{
                    "shortcode": simulator.config.shortcode,
                    "confirmation_url": "http://127.0.0.1:9/confirm",
                    "validation_url": "http://127.0.0.1:9/validate",
                }
                | arguments
            )

    with pytest.raises(DarajaBadRequest, match=says):
        run(work)


def test_simulate_before_registering_is_refused(simulator: DarajaSimulator) -> None:
    async def work() -> None:
        async with make_client(simulator) as client:
            await client.simulate_c2b(
                shortcode=simulator.config.shortcode,
                amount=Decimal("10"),
                phone="0708374149",
                bill_ref_number="acc",
            )

    with pytest.raises(DarajaBadRequest, match="Invalid ShortCode"):
        run(work)


def ask_status(
    sim: DarajaSimulator, recorder: CallbackRecorder, transaction_id: str
) -> TransactionStatusAccepted:
    async def work() -> TransactionStatusAccepted:
        async with make_client(sim) as client:
            return await client.transaction_status(
                initiator="testapi",
                security_credential="c2VjcmV0",
                transaction_id=transaction_id,
                party_a=sim.config.shortcode,
                result_url=recorder.url + RESULT,
                queue_timeout_url=recorder.url + "/hooks/status/timeout",
                occasion="recon",
            )

    return run(work)


def test_transaction_status_of_a_known_receipt_reports_it_completed(
    simulator: DarajaSimulator, recorder: CallbackRecorder
) -> None:
    register_and_pay(simulator, recorder, amount=Decimal("250"))
    (confirmation,) = recorder.wait_for(CONFIRM)
    control(simulator, "rate-limit", {"requests": 1, "status": 429})  # retried: safe
    accepted = ask_status(simulator, recorder, confirmation["TransID"])
    assert accepted.response_code == "0"
    assert accepted.conversation_id.startswith("AG_")
    (result,) = recorder.wait_for(RESULT)
    body = result["Result"]
    assert body["ResultCode"] == 0
    assert body["ConversationID"] == accepted.conversation_id
    parameters = {p["Key"]: p["Value"] for p in body["ResultParameters"]["ResultParameter"]}
    assert parameters["ReceiptNo"] == confirmation["TransID"]
    assert parameters["TransactionStatus"] == "Completed"
    assert parameters["Amount"] == 250
    assert body["ReferenceData"]["ReferenceItem"] == {"Key": "Occasion", "Value": "recon"}


def test_transaction_status_of_an_unknown_receipt_reports_a_failure(
    simulator: DarajaSimulator, recorder: CallbackRecorder
) -> None:
    ask_status(simulator, recorder, "UKP0000000")
    (result,) = recorder.wait_for(RESULT)
    assert result["Result"]["ResultCode"] != 0
    assert "ResultParameters" not in result["Result"]
