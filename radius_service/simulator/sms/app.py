"""The SMS double as a Starlette application: the providers' paths plus /simulator/ controls."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from decimal import Decimal, InvalidOperation

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from radius_service.simulator.sms import advanta, africastalking
from radius_service.simulator.sms.dlr import DlrSender
from radius_service.simulator.sms.state import SmsSimulatorConfig, SmsSimulatorState


def build_app(config: SmsSimulatorConfig) -> tuple[Starlette, SmsSimulatorState]:
    state = SmsSimulatorState(config)
    dlr = DlrSender(state)

    async def at_send(request: Request) -> Response:
        return await africastalking.send(state, dlr, request)

    async def at_user(request: Request) -> Response:
        return await africastalking.user(state, request)

    async def advanta_send(request: Request) -> Response:
        return await advanta.send(state, dlr, request)

    async def messages(_request: Request) -> Response:
        return JSONResponse(
            [
                {
                    "messageId": m.message_id,
                    "api": m.api,
                    "phone": m.phone,
                    "message": m.text,
                    "senderId": m.sender_id,
                    "cost": str(m.cost),
                    "dlrPosted": m.dlr_posted,
                }
                for m in state.snapshot()
            ]
        )

    async def account(request: Request) -> Response:
        """POST {"balance": "0", "callback_url": "http://…"} changes either; GET shows both."""
        if request.method == "POST":
            body = await request.json()
            if "balance" in body:
                try:
                    config.balance = Decimal(str(body["balance"]))
                except InvalidOperation:
                    return JSONResponse({"error": "balance is not a number"}, status_code=400)
            if "callback_url" in body:
                config.callback_url = body["callback_url"] or None
        return JSONResponse({"balance": str(config.balance), "callback_url": config.callback_url})

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        try:
            yield
        finally:
            await dlr.stop()

    routes = [
        Route("/version1/messaging", at_send, methods=["POST"]),
        Route("/version1/user", at_user, methods=["GET"]),
        Route("/api/services/sendsms/", advanta_send, methods=["POST"]),
        Route("/simulator/messages", messages, methods=["GET"]),
        Route("/simulator/account", account, methods=["GET", "POST"]),
    ]
    return Starlette(routes=routes, lifespan=lifespan), state
