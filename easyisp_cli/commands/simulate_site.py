"""`easyisp simulate site`: one simulated MikroTik per registered router (the demo's), so a
new user sees the site service bring routers ONLINE with their figures.

Each router with an API user gets a RouterOS API simulator on a free local port, named after
the router; the router's API address, port and (fresh, random) password are pointed at it.
Stop with Ctrl-C: the routers then go OFFLINE in the console, as real ones would.
"""

from __future__ import annotations

import argparse
import asyncio
import secrets
from typing import Any

from easyisp_cli.context import CliContext
from easyisp_core.errors import EasyIspError
from easyisp_core.services.router_health import (
    ApiRouter,
    point_router_api,
    routers_with_api_user,
)


def register_site(peers: Any) -> None:
    site = peers.add_parser(
        "site",
        help="simulate every registered router's API on local ports (the demo's routers)",
        description=(
            "Start one RouterOS API simulator per router that has an API user, on free "
            "ports of --host, and point those routers' API address, port and password at "
            "them (this changes the routers' stored API settings). Run `easyisp service` "
            "alongside and the routers come ONLINE within a poll interval."
        ),
    )
    site.add_argument("--tenant", default=None, help="only this tenant's routers (default all)")
    site.add_argument("--host", default="127.0.0.1", help="address to listen on")
    site.add_argument("--routeros-version", default="7.16", help="RouterOS version to report")
    site.set_defaults(handler=handle_site)


def handle_site(ctx: CliContext, args: argparse.Namespace) -> int:
    from radius_service.simulator.routeros.server import RouterSimulator
    from radius_service.simulator.routeros.state import RouterState, parse_version

    try:
        parse_version(args.routeros_version)
    except ValueError as exc:
        raise EasyIspError(f"--routeros-version: {exc}") from exc
    with ctx.unit_of_work() as session:
        routers = routers_with_api_user(session, args.tenant)
    if not routers:
        raise EasyIspError("No router has an API user; load the demo with `easyisp demo` first.")
    box = ctx.secret_box()

    async def serve() -> None:
        simulators: list[RouterSimulator] = []
        try:
            for router in routers:
                password = secrets.token_urlsafe(12)
                state = RouterState(
                    args.routeros_version,
                    identity=router.name,
                    users={router.username: password},
                )
                simulator = RouterSimulator(state, listen=(args.host, 0))
                simulators.append(simulator)
                host, port = await simulator.start()
                await asyncio.to_thread(_point, router, host, port, password)
                print(f"{router.name}: RouterOS {state.version} API on {host}:{port}", flush=True)
            print(f"simulating {len(simulators)} router(s); Ctrl-C to stop", flush=True)
            await asyncio.gather(*(s.serve_forever() for s in simulators))
        finally:
            for simulator in simulators:
                await simulator.stop()

    def _point(router: ApiRouter, host: str, port: int, password: str) -> None:
        with ctx.unit_of_work() as session:
            point_router_api(
                session,
                box,
                router.nas_id,
                host=host,
                port=port,
                username=router.username,
                password=password,
            )

    try:
        asyncio.run(serve())
    except OSError as exc:
        raise EasyIspError(f"cannot listen on {args.host}: {exc.strerror or exc}") from exc
    return 0
