"""The provider clients against the SMS double over real HTTP: accepted, refused per
recipient (bad number, no balance), refused as a whole (bad key), and delivery reports."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from decimal import Decimal
from urllib.parse import parse_qsl

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from radius_service.simulator.daraja.runner import ServerThread
from radius_service.simulator.sms.runner import SmsSimulator
from radius_service.simulator.sms.state import SmsSimulatorConfig
from radius_service.sms import advanta, africastalking
from radius_service.sms.advanta import AdvantaClient
from radius_service.sms.africastalking import AfricasTalkingClient
from radius_service.sms.gateway import DeliveryState, SendResult, SmsGatewayError
from radius_service.sms.phones import to_e164

WAIT = 15.0


class Recorder:
    """Plays our DLR endpoint: keeps each report's form fields (or JSON) as received."""

    def __init__(self) -> None:
        self.reports: list[dict[str, str]] = []
        self.changed = threading.Condition()
        app = Starlette(routes=[Route("/dlr", self.endpoint, methods=["POST"])])
        self.server = ServerThread(app)

    async def endpoint(self, request: Request) -> Response:
        if request.headers.get("content-type", "").startswith("application/json"):
            fields = {k: str(v) for k, v in (await request.json()).items()}
        else:
            fields = dict(parse_qsl((await request.body()).decode()))
        with self.changed:
            self.reports.append(fields)
            self.changed.notify_all()
        return PlainTextResponse("OK")

    def wait_for(self, count: int) -> list[dict[str, str]]:
        with self.changed:
            assert self.changed.wait_for(lambda: len(self.reports) >= count, WAIT)
            return list(self.reports)


@pytest.fixture
def recorder() -> Iterator[Recorder]:
    rec = Recorder()
    with rec.server:
        yield rec


@pytest.fixture
def sim(recorder: Recorder) -> Iterator[SmsSimulator]:
    config = SmsSimulatorConfig(
        balance=Decimal("2.0000"), callback_url=recorder.server.url + "/dlr", dlr_delay=0.0
    )
    with SmsSimulator(config) as simulator:
        yield simulator


def _at_send(sim: SmsSimulator, to: list[str], key: str = "easyisp-sim-key") -> list[SendResult]:
    async def go() -> list[SendResult]:
        client = AfricasTalkingClient("sandbox", key, base_url=sim.url)
        try:
            return await client.send(to, "Your payment was received.", "EASYISP")
        finally:
            await client.aclose()

    return asyncio.run(go())


def test_numbers_are_normalised_to_e164_at_the_edge() -> None:
    assert to_e164("0712 345 678") == "+254712345678"
    assert to_e164("254112345678") == "+254112345678"
    with pytest.raises(ValueError, match="not a Kenyan mobile number"):
        to_e164("12345")


def test_africas_talking_accepts_and_reports_delivery(
    sim: SmsSimulator, recorder: Recorder
) -> None:
    [result] = _at_send(sim, ["0712345678"])

    assert result.accepted
    assert result.phone == "+254712345678"
    assert result.message_id
    assert result.message_id.startswith("ATXid_")
    assert result.cost == Decimal("0.8000")
    [kept] = sim.state.snapshot()
    assert (kept.phone, kept.text, kept.sender_id) == (
        "+254712345678",
        "Your payment was received.",
        "EASYISP",
    )
    [report] = recorder.wait_for(1)
    assert report["id"] == result.message_id
    assert report["status"] == "Success"
    parsed = africastalking.parse_delivery_report(report)
    assert parsed is not None
    assert parsed.state is DeliveryState.DELIVERED


def test_a_rejected_delivery_is_a_failure_with_the_reason(
    sim: SmsSimulator, recorder: Recorder
) -> None:
    [result] = _at_send(sim, ["0712345699"])  # the double rejects numbers ending 99

    [report] = recorder.wait_for(1)
    parsed = africastalking.parse_delivery_report(report)
    assert parsed is not None
    assert parsed.message_id == result.message_id
    assert parsed.state is DeliveryState.FAILED
    assert parsed.reason == "Rejected: DeliveryFailure"


def test_a_bad_api_key_refuses_the_whole_request_for_good(sim: SmsSimulator) -> None:
    with pytest.raises(SmsGatewayError, match="refused the credentials") as caught:
        _at_send(sim, ["0712345678"], key="wrong")
    assert not caught.value.retryable
    assert not caught.value.maybe_sent
    assert sim.state.snapshot() == []


def test_an_invalid_number_is_refused_on_its_own(sim: SmsSimulator) -> None:
    async def go() -> list[SendResult]:
        client = AfricasTalkingClient("sandbox", "easyisp-sim-key", base_url=sim.url)
        try:
            # A number our edge would refuse, sent raw to see AT's own per-recipient answer.
            return africastalking._results(
                ["+254712345678", "+2547"],
                africastalking._recipients(
                    await client._http.post(
                        africastalking.SEND_PATH,
                        data={
                            "username": "sandbox",
                            "to": "+254712345678,+2547",
                            "message": "hi",
                        },
                    )
                ),
            )
        finally:
            await client.aclose()

    good, bad = asyncio.run(go())
    assert good.accepted
    assert not bad.accepted
    assert not bad.retryable
    assert bad.reason is not None
    assert bad.reason.startswith("InvalidPhoneNumber")


def test_insufficient_balance_is_refused_and_retryable(sim: SmsSimulator) -> None:
    results = _at_send(sim, ["0712345601", "0712345602", "0712345603"])  # balance covers two

    assert [r.accepted for r in results] == [True, True, False]
    assert results[2].retryable
    assert results[2].reason is not None
    assert results[2].reason.startswith("InsufficientBalance")


def test_an_unreachable_gateway_is_retryable_and_surely_not_sent() -> None:
    server = ServerThread(Starlette())
    url = server.url
    server.stop()  # bound then closed: nothing listens there now

    async def go() -> None:
        client = AfricasTalkingClient("sandbox", "k", base_url=url)
        try:
            await client.send(["0712345678"], "hi", None)
        finally:
            await client.aclose()

    with pytest.raises(SmsGatewayError) as caught:
        asyncio.run(go())
    assert caught.value.retryable
    assert not caught.value.maybe_sent


def _advanta_send(sim: SmsSimulator, to: list[str], key: str) -> list[SendResult]:
    async def go() -> list[SendResult]:
        client = AdvantaClient(key, "1001", base_url=sim.url, provider="CELCOM")
        try:
            return await client.send(to, "Hello", "EASYISP")
        finally:
            await client.aclose()

    return asyncio.run(go())


def test_advanta_family_sends_reports_delivery_and_refuses_a_bad_key(
    sim: SmsSimulator, recorder: Recorder
) -> None:
    first, second = _advanta_send(sim, ["0712345678", "+254112345677"], "easyisp-sim-key")
    assert first.accepted
    assert second.accepted
    assert [m.phone for m in sim.state.snapshot()] == ["254712345678", "254112345677"]
    reports = {r["messageid"]: r for r in recorder.wait_for(2)}
    parsed = advanta.parse_delivery_report(reports[str(first.message_id)])
    assert parsed is not None
    assert parsed.message_id == first.message_id
    assert parsed.state is DeliveryState.DELIVERED

    with pytest.raises(SmsGatewayError, match="Invalid credentials") as caught:
        _advanta_send(sim, ["0712345678"], "wrong")
    assert not caught.value.retryable


def test_advanta_family_refuses_an_invalid_number_per_recipient(sim: SmsSimulator) -> None:
    body = {
        "apikey": "easyisp-sim-key",
        "partnerID": "1001",
        "message": "hi",
        "shortcode": "EASYISP",
        "mobile": "0712345678,0812",
    }
    answer = httpx.post(f"{sim.url}{advanta.SEND_PATH}", json=body).json()
    assert [r["response-code"] for r in answer["responses"]] == [200, 1003]
    # Our client never sends such a number: the edge refuses it first.
    with pytest.raises(ValueError, match="not a Kenyan mobile number"):
        _advanta_send(sim, ["0812"], "easyisp-sim-key")
