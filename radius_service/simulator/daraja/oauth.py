"""The double's OAuth endpoint: client-credentials tokens over Basic auth (protocols.md §1.2)."""

from __future__ import annotations

import base64
import binascii
import hmac

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from radius_service.simulator.daraja.wire import Refusal, SimContext


async def generate_token(ctx: SimContext, request: Request) -> Response:
    try:
        if request.method != "GET":
            raise Refusal(404, "404.001.04", "Invalid Authentication Header")
        ctx.rate_limit_gate()
        if request.query_params.get("grant_type") != "client_credentials":
            raise Refusal(400, "400.008.02", "Invalid grant type passed")
        _check_basic(ctx, request.headers.get("authorization", ""))
    except Refusal as refusal:
        return refusal.response()
    token = ctx.state.issue_token()
    ttl = ctx.state.config.token_ttl
    expires_in: str | int = str(ttl) if ctx.state.config.expires_in_as_string else ttl
    return JSONResponse({"access_token": token, "expires_in": expires_in})


def _check_basic(ctx: SimContext, header: str) -> None:
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic":
        raise Refusal(400, "400.008.01", "Invalid Authentication passed")
    try:
        key, _, secret = base64.b64decode(encoded, validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        raise Refusal(400, "400.008.01", "Invalid Authentication passed") from None
    config = ctx.state.config
    good_key = hmac.compare_digest(key.encode(), config.consumer_key.encode())
    good_secret = hmac.compare_digest(secret.encode(), config.consumer_secret.encode())
    if not (good_key and good_secret):
        raise Refusal(400, "400.008.01", "Invalid Authentication passed")
