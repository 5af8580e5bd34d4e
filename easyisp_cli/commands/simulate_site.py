"""`easyisp simulate site`: a live demo of the whole site. One simulated MikroTik per
registered router (the demo's), so a new user sees the site service bring routers ONLINE with
their figures, and subscribers come online on them.

Each router with an API user gets a RouterOS API simulator on a free local port, named after
the router; the router's API address, port and (fresh, random) password are pointed at it.
Unless --no-sessions, each router also gets a loopback address 127.0.1.N (Linux answers for
all of 127.0.0.0/8 without aliases): its RADIUS packets come from there, as the nas table
says, and its CoA listener answers there. A handful of its ACTIVE PPPoE customers log in,
send accounting and show in /ppp/active; "Disconnect now" in the console ends them.
Stop with Ctrl-C: the routers then go OFFLINE in the console, as real ones would.
"""

from __future__ import annotations

import argparse
import asyncio
import ipaddress
import secrets
from typing import Any

from easyisp_cli.context import CliContext
from easyisp_core.errors import EasyIspError
from easyisp_core.schemas.gateway_config import MpesaCredentials
from easyisp_core.services.demo_site import (
    SimulatedGateways,
    move_router_to,
    point_payment_gateways,
    router_radius_secret,
    tenant_names,
)
from easyisp_core.services.router_health import (
    ApiRouter,
    point_router_api,
    routers_with_api_user,
)
from easyisp_core.settings import Settings


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
    site.add_argument(
        "--no-sessions",
        action="store_true",
        help="only the routers' APIs: no subscriber logins, accounting or CoA listeners",
    )
    site.add_argument(
        "--sessions-per-router", type=int, default=5, metavar="N",
        help="ACTIVE PPPoE customers each router logs in (default 5)",
    )  # fmt: skip
    site.add_argument(
        "--interim-seconds", type=float, default=60.0, metavar="S",
        help="seconds between Interim-Updates (default 60)",
    )  # fmt: skip
    site.add_argument(
        "--no-mpesa",
        action="store_true",
        help="no Daraja simulator (leave the payment gateways as they are)",
    )
    site.add_argument(
        "--daraja-port", type=int, default=0, metavar="PORT",
        help="port of the Daraja simulator on 127.0.0.1 (default: a free one)",
    )  # fmt: skip
    site.add_argument(
        "--radius-host", default="127.0.0.1",
        help="the site service's RADIUS address (ports from EASYISP_RADIUS_AUTH/ACCT_ADDR)",
    )  # fmt: skip
    site.set_defaults(handler=handle_site)


def handle_site(ctx: CliContext, args: argparse.Namespace) -> int:
    from radius_service.simulator.daraja.runner import DarajaSimulator
    from radius_service.simulator.live_router import LiveRouter
    from radius_service.simulator.routeros.server import RouterSimulator
    from radius_service.simulator.routeros.state import RouterState, parse_version

    try:
        parse_version(args.routeros_version)
    except ValueError as exc:
        raise EasyIspError(f"--routeros-version: {exc}") from exc
    if args.sessions_per_router < 0 or args.interim_seconds <= 0:
        raise EasyIspError("--sessions-per-router must be >= 0 and --interim-seconds > 0")
    with_sessions = not args.no_sessions
    auth_server = (args.radius_host, _port(ctx.settings.radius_auth_addr, "RADIUS_AUTH_ADDR"))
    acct_server = (args.radius_host, _port(ctx.settings.radius_acct_addr, "RADIUS_ACCT_ADDR"))
    with ctx.unit_of_work() as session:
        routers = routers_with_api_user(session, args.tenant)
    if not routers:
        raise EasyIspError("No router has an API user; load the demo with `easyisp demo` first.")
    box = ctx.secret_box()

    async def serve() -> None:
        simulators: list[RouterSimulator] = []
        live: list[LiveRouter] = []
        daraja: DarajaSimulator | None = None
        try:
            if not args.no_mpesa:
                daraja = await asyncio.to_thread(DarajaSimulator(port=args.daraja_port).start)
                pointed = await asyncio.to_thread(_point_gateways, daraja)
                for tenant in pointed:
                    print(
                        f"{tenant.tenant}: M-Pesa gateway {', '.join(tenant.gateways)} → "
                        f"Daraja simulator {daraja.url}",
                        flush=True,
                    )
                registered = register_c2b(daraja, ctx.settings, pointed)
                if registered is not None:
                    print(f"{registered}: C2B (paybill) payments go to the service", flush=True)
            for index, router in enumerate(routers, start=1):
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
                line = f"{router.name}: RouterOS {state.version} API on {host}:{port}"
                if with_sessions:
                    online = await asyncio.to_thread(_go_live, index, router, state, live)
                    line += f"; RADIUS from {live[-1].source_ip}, {online} subscriber(s) online"
                print(line, flush=True)
            print(f"simulating {len(simulators)} router(s); Ctrl-C to stop", flush=True)
            print(guide(ctx.settings, _tenant_names(), with_sessions, daraja is not None))
            await asyncio.gather(*(s.serve_forever() for s in simulators))
        finally:
            for live_router in live:
                await asyncio.to_thread(live_router.stop)
            for simulator in simulators:
                await simulator.stop()
            if daraja is not None:
                await asyncio.to_thread(daraja.stop)

    def _point_gateways(daraja: DarajaSimulator) -> list[SimulatedGateways]:
        config = daraja.config
        credentials = MpesaCredentials(
            consumer_key=config.consumer_key,
            consumer_secret=config.consumer_secret,
            passkey=config.passkey,
        )
        with ctx.unit_of_work() as session:
            return point_payment_gateways(
                session,
                box,
                tenant=args.tenant,
                base_url=daraja.url,
                shortcode=config.shortcode,
                credentials=credentials,
            )

    def _tenant_names() -> list[str]:
        if args.tenant is not None:
            return [args.tenant]
        with ctx.unit_of_work() as session:
            return tenant_names(session)

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

    def _go_live(index: int, router: ApiRouter, state: Any, live: list[LiveRouter]) -> int:
        from radius_service.simulator.live_router import Subscriber

        with ctx.unit_of_work() as session:
            secret = router_radius_secret(session, box, router.nas_id)
        live_router = LiveRouter(
            router.name,
            state,
            loopback_address(index),
            secret.encode("utf-8"),
            auth_server,
            acct_server,
            coa_port=0,
            interim_seconds=args.interim_seconds,
        )
        coa_port = live_router.listen()
        live.append(live_router)
        with ctx.unit_of_work() as session:
            logins = move_router_to(
                session,
                box,
                router.nas_id,
                ip_address=live_router.source_ip,
                coa_port=coa_port,
                logins=args.sessions_per_router,
            )
        subscribers = [Subscriber(x.username, x.password, x.mac_address) for x in logins]
        return live_router.start(subscribers)

    try:
        asyncio.run(serve())
    except OSError as exc:
        raise EasyIspError(f"cannot listen on {args.host}: {exc.strerror or exc}") from exc
    return 0


def loopback_address(index: int) -> str:
    """The `index`-th (1…) router's RADIUS source: 127.0.1.1, 127.0.1.2, … (Linux answers for
    all of 127.0.0.0/8, so no interface alias is needed)."""
    return str(ipaddress.IPv4Address("127.0.1.0") + index)


def _port(address: str, name: str) -> int:
    if address == "off":
        raise EasyIspError(f"EASYISP_{name} is off: the service takes no RADIUS; use --no-sessions")
    return int(address.rpartition(":")[2])


def portal_base(settings: Settings) -> str | None:
    """Where a browser on this machine reaches the service's portal (None: HTTP is off)."""
    if settings.public_url:
        return settings.public_url.rstrip("/")
    if settings.http_addr == "off":
        return None
    host, _, port = settings.http_addr.rpartition(":")
    host = "127.0.0.1" if host in ("", "0.0.0.0", "::", "[::]") else host  # noqa: S104
    return f"http://{host}:{port}"


def guide(settings: Settings, tenants: list[str], sessions: bool, mpesa: bool) -> str:
    """What a new user does next, in the order it makes sense."""
    lines = [
        "",
        "What to do now:",
        "  1. Run `easyisp service` (if not yet) and `easyisp console`; log in with a staff",
        "     login `easyisp demo` printed.",
        "  2. Routers: watch them come ONLINE (one poll interval) with uptime, CPU and memory.",
    ]
    if sessions:
        lines += [
            "  3. Sessions: open a customer who is online (Sessions page); their traffic grows",
            '     with each interim update. Press "Disconnect now": the router drops the',
            "     session and sends its Accounting-Stop.",
        ]
    base = portal_base(settings)
    if mpesa and base is not None:
        lines.append("  4. Buy a package in a browser (phone ending 00 succeeds, 01 is cancelled):")
        lines += [f"       {base}/portal/{name}" for name in tenants]
    elif mpesa:
        lines.append("  4. The service's HTTP is off (EASYISP_HTTP_ADDR): no captive portal.")
    return "\n".join(lines)


def register_c2b(daraja: Any, settings: Settings, pointed: list[SimulatedGateways]) -> str | None:
    """Register the service's C2B URLs with the simulator, as `registerurl` would. The
    simulator has one shortcode, so only the first tenant's paybill is live; the tenant's
    name, or None when the service's HTTP is off."""
    from radius_service.simulator.daraja.state import C2bRegistration

    base = portal_base(settings)
    if base is None or not pointed or not pointed[0].callback_token:
        return None
    first = pointed[0]
    shortcode = daraja.config.shortcode
    daraja.state.c2b_urls[shortcode] = C2bRegistration(
        shortcode,
        "Completed",
        f"{base}/pay/{first.callback_token}/c2b/confirmation",
        f"{base}/pay/{first.callback_token}/c2b/validation",
        2,
    )
    return first.tenant
