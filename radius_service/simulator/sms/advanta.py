"""The Advanta/Celcom send endpoint (protocols.md §6.2): JSON body, credentials in it,
a `responses[]` list on success, a single {"response-code": 1006} on bad credentials."""

from __future__ import annotations

import json

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from radius_service.simulator.sms.dlr import DlrSender
from radius_service.simulator.sms.state import MSISDN, SmsSimulatorState


def _error(code: int, description: str) -> JSONResponse:
    return JSONResponse({"response-code": code, "response-description": description})


async def send(state: SmsSimulatorState, dlr: DlrSender, request: Request) -> Response:
    try:
        body = json.loads(await request.body())
    except ValueError:
        return _error(1009, "Unsupported data type")
    if not isinstance(body, dict):
        return _error(1009, "Unsupported data type")
    if not body.get("partnerID"):
        return _error(4091, "No Partner ID")
    if not body.get("apikey"):
        return _error(4092, "No API KEY Provided")
    config = state.config
    if str(body["apikey"]) != config.api_key or str(body["partnerID"]) != config.partner_id:
        return _error(1006, "Invalid credentials")
    if not body.get("shortcode"):
        return _error(1001, "Invalid sender id")
    text = str(body.get("message", ""))
    responses = []
    for number in (n.strip() for n in str(body.get("mobile", "")).split(",")):
        if not MSISDN.match(number):
            responses.append(_row(1003, "Invalid mobile number", number, None))
            continue
        msisdn = "254" + number[-9:]
        message = state.charge("advanta", msisdn, text, str(body["shortcode"]))
        if message is None:
            responses.append(_row(1004, "Low bulk credits", msisdn, None))
            continue
        responses.append(_row(200, "Success", msisdn, message.message_id))
        dlr.schedule(message)
    return JSONResponse({"responses": responses})


def _row(code: int, description: str, mobile: str, message_id: str | None) -> dict[str, object]:
    row: dict[str, object] = {
        "response-code": code,
        "response-description": description,
        "mobile": int(mobile) if mobile.isdigit() else mobile,
        "networkid": 1,
    }
    if message_id is not None:
        row["messageid"] = message_id
    return row
