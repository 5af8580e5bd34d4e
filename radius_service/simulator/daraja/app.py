"""The Daraja double as a Starlette application: Daraja's paths plus the /simulator/ controls."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from radius_service.simulator.daraja import c2b, control, oauth, stk
from radius_service.simulator.daraja.state import SimulatorConfig, SimulatorState
from radius_service.simulator.daraja.wire import SimContext

Handler = Callable[[SimContext, Request], Awaitable[Response]]


def build_app(config: SimulatorConfig) -> tuple[Starlette, SimulatorState]:
    """The application and the state it serves (readable by an in-process owner)."""
    ctx = SimContext(SimulatorState(config))

    def bound(handler: Handler) -> Callable[[Request], Awaitable[Response]]:
        async def endpoint(request: Request) -> Response:
            return await handler(ctx, request)

        return endpoint

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await ctx.start()
        try:
            yield
        finally:
            await ctx.stop()

    routes = [
        Route("/oauth/v1/generate", bound(oauth.generate_token), methods=["GET", "POST"]),
        Route("/mpesa/stkpush/v1/processrequest", bound(stk.stk_push), methods=["POST"]),
        Route("/mpesa/stkpushquery/v1/query", bound(stk.stk_query), methods=["POST"]),
        Route("/mpesa/c2b/v{version:int}/registerurl", bound(c2b.register_urls), methods=["POST"]),
        Route("/mpesa/c2b/v{version:int}/simulate", bound(c2b.simulate), methods=["POST"]),
        Route("/mpesa/transactionstatus/v1/query", bound(c2b.transaction_status), methods=["POST"]),
        Route("/simulator/scenario", bound(control.scenario), methods=["GET", "POST"]),
        Route("/simulator/rate-limit", bound(control.rate_limit), methods=["POST"]),
        Route("/simulator/outage", bound(control.outage), methods=["POST"]),
        Route("/simulator/tokens/expire", bound(control.expire_tokens), methods=["POST"]),
        Route("/simulator/status-timeout", bound(control.status_timeout), methods=["POST"]),
        Route(
            "/simulator/stk/{checkout_request_id}/release",
            bound(control.release),
            methods=["POST"],
        ),
        Route("/simulator/transactions", bound(control.transactions), methods=["GET"]),
    ]
    return Starlette(routes=routes, lifespan=lifespan), ctx.state
