"""`easyisp simulate router`: serve the RouterOS API like a MikroTik router (8728 / 8729)."""

from __future__ import annotations

import argparse
from typing import Any

from easyisp_cli.context import CliContext


def register_router(peers: Any) -> None:
    router = peers.add_parser(
        "router",
        help="serve the RouterOS API (8728, optionally API-SSL) like a MikroTik router",
        description="An in-memory MikroTik for demos and tests: login, print/add/set/remove on "
        "the menus EasyISP configures, /ppp/active and /ip/hotspot/active sessions (remove one "
        "to disconnect it). RouterOS 7.18 and later answer an empty print with !empty; "
        "RouterOS 6 has no /interface/wireguard; before 6.43 login uses the MD5 challenge. "
        "Runs until interrupted.",
    )
    router.add_argument(
        "--listen",
        default=("127.0.0.1", 8728),
        type=_tcp_address(8728),
        metavar="HOST:PORT",
        help="API address (default 127.0.0.1:8728; port 0 picks a free one)",
    )
    router.add_argument(
        "--tls-listen",
        default=None,
        type=_tcp_address(8729),
        metavar="HOST:PORT",
        help="also serve API-SSL here, with a fresh self-signed certificate",
    )
    router.add_argument(
        "--cert-out", default=None, metavar="FILE", help="save the API-SSL certificate (PEM)"
    )
    router.add_argument(
        "--version",
        dest="routeros_version",
        default="7.16",
        type=_routeros_version,
        metavar="X.Y[.Z]",
        help="RouterOS version to play, e.g. 6.49.10 or 7.16 (default)",
    )
    router.add_argument("--user", default="admin", help="API user name")
    router.add_argument("--password", default="", help="API user's password")
    router.add_argument("--identity", default="MikroTik", help="/system identity name")
    router.add_argument(
        "--sessions",
        type=int,
        default=0,
        metavar="N",
        help="seed N PPPoE (ppp0001…) and N hotspot (hs0001…) active sessions",
    )
    router.set_defaults(handler=handle_router)


def handle_router(ctx: CliContext, args: argparse.Namespace) -> int:
    import asyncio

    from radius_service.simulator.routeros.server import RouterSimulator
    from radius_service.simulator.routeros.sessions import seed_sessions
    from radius_service.simulator.routeros.state import RouterState
    from radius_service.simulator.routeros.tls import make_self_signed

    state = RouterState(
        args.routeros_version, identity=args.identity, users={args.user: args.password}
    )
    seed_sessions(state, args.sessions)
    tls_context = None
    if args.tls_listen is not None:
        certificate = make_self_signed(args.identity)
        tls_context = certificate.server_context()
        if args.cert_out:
            with open(args.cert_out, "wb") as handle:
                handle.write(certificate.cert_pem)
    simulator = RouterSimulator(
        state, listen=args.listen, tls_listen=args.tls_listen, tls_context=tls_context
    )

    async def serve() -> None:
        address = await simulator.start()
        print(f"RouterOS {state.version} API on {address[0]}:{address[1]}", flush=True)
        if simulator.tls_address is not None:
            tls = simulator.tls_address
            print(f"RouterOS {state.version} API-SSL on {tls[0]}:{tls[1]}", flush=True)
        try:
            await simulator.serve_forever()
        finally:
            await simulator.stop()

    try:
        asyncio.run(serve())
    except OSError as exc:
        print(f"cannot listen: {exc}")
        return 1
    return 0


def _tcp_address(default_port: int) -> Any:
    def parse(value: str) -> tuple[str, int]:
        host, colon, port = value.strip().rpartition(":")
        if not colon:
            host, port = port, str(default_port)
        host = host.strip("[]") or "127.0.0.1"
        if not (port.isascii() and port.isdigit()) or int(port) > 65535:
            raise argparse.ArgumentTypeError(f"not a TCP port: {port!r}")
        return (host, int(port))

    return parse


def _routeros_version(value: str) -> str:
    from radius_service.simulator.routeros.state import parse_version

    try:
        parse_version(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return value
