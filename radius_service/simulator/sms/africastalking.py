"""Africa's Talking's classic SMS endpoint as AT answers it (protocols.md §6.1):
apiKey header checked (401 plain text), each recipient judged on its own (403
InvalidPhoneNumber, 405 InsufficientBalance), 201 with SMSMessageData, then a form-encoded
delivery report per accepted message to the configured callback URL."""

from __future__ import annotations

from decimal import Decimal
from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response

from radius_service.simulator.sms.dlr import DlrSender
from radius_service.simulator.sms.state import E164, SmsSimulatorState

MAX_FORM_BYTES = 512 * 1024


def _kes(amount: Decimal) -> str:
    return f"KES {amount:.4f}"


async def send(state: SmsSimulatorState, dlr: DlrSender, request: Request) -> Response:
    config = state.config
    if request.headers.get("apiKey") != config.api_key:
        return PlainTextResponse("The supplied authentication is invalid", status_code=401)
    if "application/x-www-form-urlencoded" not in request.headers.get("content-type", ""):
        return PlainTextResponse("Unsupported content type", status_code=415)
    raw = await request.body()
    if len(raw) > MAX_FORM_BYTES:
        return PlainTextResponse("Request too large", status_code=413)
    # Parsed here: the form is plain urlencoded, no multipart dependency needed.
    form = dict(parse_qsl(raw.decode("utf-8", "replace"), keep_blank_values=True))
    username = str(form.get("username", ""))
    if username != config.username:
        return PlainTextResponse("The supplied authentication is invalid", status_code=401)
    to = str(form.get("to", "")).strip()
    text = str(form.get("message", ""))
    if not to:
        return PlainTextResponse("Must have to to send a message", status_code=400)
    if not text:
        return PlainTextResponse("Must have message to send", status_code=400)
    sender = str(form.get("from", "")) or None
    recipients = []
    total = Decimal("0")
    for number in (n.strip() for n in to.split(",")):
        if not E164.match(number):
            recipients.append(_refused(number, 403, "InvalidPhoneNumber"))
            continue
        message = state.charge("africastalking", number, text, sender)
        if message is None:
            recipients.append(_refused(number, 405, "InsufficientBalance"))
            continue
        total += message.cost
        recipients.append(
            {
                "statusCode": 101,
                "number": number,
                "status": "Success",
                "cost": _kes(message.cost),
                "messageId": message.message_id,
            }
        )
        dlr.schedule(message)
    sent = sum(1 for r in recipients if r["statusCode"] == 101)
    summary = f"Sent to {sent}/{len(recipients)} Total Cost: {_kes(total)}"
    return JSONResponse(
        {"SMSMessageData": {"Message": summary, "Recipients": recipients}}, status_code=201
    )


def _refused(number: str, code: int, status: str) -> dict[str, object]:
    return {
        "statusCode": code,
        "number": number,
        "status": status,
        "cost": "0",
        "messageId": "None",
    }


async def user(state: SmsSimulatorState, request: Request) -> Response:
    if request.headers.get("apiKey") != state.config.api_key:
        return PlainTextResponse("The supplied authentication is invalid", status_code=401)
    return JSONResponse({"UserData": {"balance": _kes(state.config.balance)}})
