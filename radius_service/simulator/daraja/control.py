"""The double's own control API under /simulator/: choose scenarios, inject rate limits,
expire tokens, release held callbacks and list what was done (for tests and the demo)."""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from radius_service.simulator.daraja.scenarios import PHONE_SUFFIX_RULE, Scenario
from radius_service.simulator.daraja.wire import SimContext


async def _json(request: Request) -> dict[str, Any]:
    try:
        body = json.loads(await request.body() or b"{}")
    except (json.JSONDecodeError, UnicodeDecodeError):
        return {}
    return body if isinstance(body, dict) else {}


def _problem(message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=400)


def scenario_view(ctx: SimContext) -> dict[str, Any]:
    return {
        "next": [str(s) for s in ctx.state.next_scenarios],
        "default": str(ctx.state.default_scenario) if ctx.state.default_scenario else None,
        "rule": {f"phone ending {k}": str(v) for k, v in PHONE_SUFFIX_RULE.items()}
        | {"any other phone": str(Scenario.SUCCESS)},
        "scenarios": [str(s) for s in Scenario],
    }


async def scenario(ctx: SimContext, request: Request) -> Response:
    """GET: the current choice. POST {"scenario": X}: the next push gets X (queued, one each);
    {"scenario": X, "sticky": true}: every push gets X; {"scenario": null}: back to the rule."""
    if request.method == "POST":
        body = await _json(request)
        chosen = body.get("scenario")
        if chosen is None:
            ctx.state.next_scenarios.clear()
            ctx.state.default_scenario = None
        else:
            try:
                picked = Scenario(str(chosen))
            except ValueError:
                return _problem(f"unknown scenario {chosen!r}; one of {[str(s) for s in Scenario]}")
            if body.get("sticky"):
                ctx.state.default_scenario = picked
            else:
                ctx.state.next_scenarios.append(picked)
    return JSONResponse(scenario_view(ctx))


async def rate_limit(ctx: SimContext, request: Request) -> Response:
    """POST {"requests": N, "status": 429}: the next N Daraja requests are refused."""
    body = await _json(request)
    requests, status = body.get("requests", 1), body.get("status", 429)
    if not isinstance(requests, int) or requests < 0 or status not in (429, 500, 503):
        return _problem("give requests >= 0 and status 429, 500 or 503")
    ctx.state.rate_limited_requests = requests
    ctx.state.rate_limit_status = status
    return JSONResponse({"requests": requests, "status": status})


async def outage(ctx: SimContext, request: Request) -> Response:
    """POST {"requests": N}: the next N Daraja requests fail with HTTP 503."""
    requests = (await _json(request)).get("requests", 1)
    if not isinstance(requests, int) or requests < 0:
        return _problem("give requests >= 0")
    ctx.state.failing_requests = requests
    return JSONResponse({"requests": requests})


async def status_timeout(ctx: SimContext, request: Request) -> Response:
    """POST {"requests": N}: the next N Transaction Status questions are answered at their
    QueueTimeOutURL instead of the ResultURL."""
    requests = (await _json(request)).get("requests", 1)
    if not isinstance(requests, int) or requests < 0:
        return _problem("give requests >= 0")
    ctx.state.status_timeouts = requests
    return JSONResponse({"requests": requests})


async def expire_tokens(ctx: SimContext, request: Request) -> Response:
    ctx.state.expire_tokens()
    return JSONResponse({"expired": True})


async def release(ctx: SimContext, request: Request) -> Response:
    """Let a held STK transaction (late callback, long delay) answer now."""
    transaction = ctx.state.stk.get(request.path_params["checkout_request_id"])
    if transaction is None:
        return JSONResponse({"error": "no such CheckoutRequestID"}, status_code=404)
    transaction.released.set()
    return JSONResponse({"released": transaction.checkout_request_id})


async def transactions(ctx: SimContext, request: Request) -> Response:
    state = ctx.state
    return JSONResponse(
        {
            "tokens_issued": state.tokens_issued,
            "rate_limited_remaining": state.rate_limited_requests,
            "failing_remaining": state.failing_requests,
            "stk": [t.public() for t in state.stk.values()],
            "c2b": [p.public() for p in state.c2b],
            "transaction_status": list(state.status_queries),
        }
    )
