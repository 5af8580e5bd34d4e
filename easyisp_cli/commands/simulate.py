"""`easyisp simulate nas`: act as a MikroTik router and send one Access-Request.
`easyisp simulate router`: serve the RouterOS API like a MikroTik router (8728 / 8729).
`easyisp simulate mpesa`: serve the Daraja (M-Pesa) double for the demo and manual tests.
`easyisp simulate router-coa`: act as a router's `/radius incoming` (CoA/Disconnect).
`easyisp simulate sms`: serve the SMS gateway double (simulate_sms.py)."""

from __future__ import annotations

import argparse
from typing import Any

from easyisp_cli.commands.simulate_site import register_site
from easyisp_cli.commands.simulate_sms import register_sms
from easyisp_cli.context import CliContext


def register(sub: Any) -> None:
    parser = sub.add_parser("simulate", help="simulated peers of the site service")
    peers = parser.add_subparsers(dest="peer", required=True)
    nas = peers.add_parser(
        "nas",
        help="send one Access-Request like a MikroTik router and print the reply",
        description="Log a subscriber in through a RADIUS server the way RouterOS does "
        "(Message-Authenticator on, Calling-Station-Id AA:BB:CC:DD:EE:FF). Exit code 0 on "
        "Access-Accept, 1 on Access-Reject, 2 when no valid reply came.",
    )
    nas.add_argument("--server", required=True, type=_server, metavar="HOST:PORT")
    nas.add_argument("--secret", required=True, help="the router's RADIUS shared secret")
    nas.add_argument("--user", default=None, help="User-Name (a MAC for --method mac)")
    nas.add_argument("--password", default="", help="the subscriber's password")
    nas.add_argument("--method", choices=["pap", "chap", "mschapv2", "mac"], default="pap")
    nas.add_argument(
        "--service",
        choices=["pppoe", "hotspot"],
        default=None,
        help="pppoe (default) or hotspot (default for --method mac)",
    )
    nas.add_argument("--mac", default=None, help="Calling-Station-Id (default AA:BB:CC:DD:EE:FF)")
    nas.add_argument("--timeout", type=float, default=3.0, metavar="SECONDS")
    nas.add_argument(
        "--acct",
        choices=["start", "interim", "stop", "on", "off"],
        default=None,
        help="send this Accounting-Request instead of logging in (--server is then the "
        "accounting port); exit code 0 when a valid Accounting-Response came",
    )
    nas.add_argument("--session-id", default="81f00001", help="Acct-Session-Id")
    nas.add_argument("--session-time", type=int, default=0, metavar="SECONDS")
    nas.add_argument("--input-octets", type=int, default=0, help="bytes from the subscriber")
    nas.add_argument("--output-octets", type=int, default=0, help="bytes to the subscriber")
    nas.add_argument("--terminate-cause", type=int, default=None, help="RFC 2866 number")
    nas.set_defaults(handler=handle_nas)
    _register_router(peers)
    _register_mpesa(peers)
    _register_router_coa(peers)
    register_site(peers)
    register_sms(peers)


def _register_mpesa(peers: Any) -> None:
    mpesa = peers.add_parser(
        "mpesa",
        help="serve a Daraja (M-Pesa) double: OAuth, STK push/query, C2B, transaction status",
        description="A faithful HTTP double of Safaricom Daraja that validates requests as "
        "Daraja does and calls back with realistic payloads. The paying phone's last two "
        "digits pick the scenario: 01 cancelled, 02 timeout, 03 insufficient funds, "
        "04 duplicate callback, 05 late callback, 06 no callback, 07 wrong PIN, 08 expired; "
        "any other number pays. POST /simulator/scenario overrides the rule; "
        "GET /simulator/transactions lists what was done.",
    )
    mpesa.add_argument("--listen", default="127.0.0.1:8090", type=_server, metavar="HOST:PORT")
    mpesa.add_argument("--shortcode", default="174379", help="the paybill (sandbox 174379)")
    mpesa.add_argument("--passkey", default=None, help="Lipa Na M-Pesa passkey (sandbox's)")
    mpesa.add_argument("--consumer-key", default="easyisp-sim-key")
    mpesa.add_argument("--consumer-secret", default="easyisp-sim-secret")
    mpesa.add_argument("--token-ttl", type=int, default=3599, metavar="SECONDS")
    mpesa.add_argument(
        "--callback-delay", type=float, default=2.0, metavar="SECONDS", help="customer's think time"
    )
    mpesa.add_argument("--late-delay", type=float, default=120.0, metavar="SECONDS")
    mpesa.set_defaults(handler=handle_mpesa)


def handle_mpesa(ctx: CliContext, args: argparse.Namespace) -> int:
    # Imported here so the other commands never load starlette/uvicorn.
    from radius_service.simulator.daraja.runner import serve_forever
    from radius_service.simulator.daraja.state import SANDBOX_PASSKEY, SimulatorConfig

    if not (args.shortcode.isdigit() and 5 <= len(args.shortcode) <= 7):
        print(f"--shortcode {args.shortcode!r} is not a 5-7 digit M-Pesa shortcode")
        return 2
    config = SimulatorConfig(
        shortcode=args.shortcode,
        passkey=args.passkey or SANDBOX_PASSKEY,
        consumer_key=args.consumer_key,
        consumer_secret=args.consumer_secret,
        token_ttl=args.token_ttl,
        callback_delay=args.callback_delay,
        late_callback_delay=args.late_delay,
    )
    host, port = args.listen
    print(f"Daraja simulator on http://{host}:{port} (shortcode {config.shortcode})")
    serve_forever(config, host, port)
    return 0


def _register_router_coa(peers: Any) -> None:
    coa = peers.add_parser(
        "router-coa",
        help="listen for Disconnect-/CoA-Requests like a MikroTik's /radius incoming",
        description="Keep a list of active sessions (each announced with an Accounting-Start "
        "when --acct-server is given), answer Disconnect-Request / CoA-Request for them with "
        "ACK (and an Accounting-Stop, cause Admin-Reset, after a disconnect) or NAK 503 for "
        "unknown sessions. Prints the bound address, then what happened when it stops.",
    )
    coa.add_argument("--listen", type=_server, default=("127.0.0.1", 3799), metavar="HOST:PORT")
    coa.add_argument("--secret", required=True, help="the router's RADIUS shared secret")
    coa.add_argument("--acct-server", type=_server, default=None, metavar="HOST:PORT")
    coa.add_argument(
        "--session",
        action="append",
        default=[],
        metavar="USER,SESSION_ID[,FRAMED_IP]",
        help="an active session (repeat for more)",
    )
    coa.add_argument("--mode", choices=["answer", "silent", "nak", "ack-no-stop"], default="answer")
    coa.add_argument("--nak-cause", type=int, default=506, help="Error-Cause for --mode nak")
    coa.add_argument("--seconds", type=float, default=None, help="stop after this long")
    coa.set_defaults(handler=handle_router_coa)


def handle_router_coa(ctx: CliContext, args: argparse.Namespace) -> int:
    import time

    from radius_service.simulator.coa_listener import CoaListener, ListenerMode
    from radius_service.simulator.nas import NasSimulator

    secret = args.secret.encode("utf-8")
    nas = None if args.acct_server is None else NasSimulator(args.acct_server, secret)
    listener = CoaListener(
        secret, nas, args.listen, ListenerMode(args.mode), nak_cause=args.nak_cause
    )
    host, port = listener.start()
    try:
        for spec in args.session:
            parts = spec.split(",")
            if len(parts) not in (2, 3):
                print(f"--session {spec!r}: give USER,SESSION_ID[,FRAMED_IP]")
                return 2
            listener.connect(parts[0], parts[1], parts[2] if len(parts) == 3 else None)
        print(f"listening on {host}:{port}", flush=True)
        deadline = None if args.seconds is None else time.monotonic() + args.seconds
        try:
            while deadline is None or time.monotonic() < deadline:
                time.sleep(0.1)
        except KeyboardInterrupt:
            pass
    finally:
        listener.stop()
    ctx.emit(
        {
            "received": [
                {"code": p.code, "User-Name": p.text("User-Name")} for p in listener.received
            ],
            "active": sorted(listener.sessions),
        }
    )
    return 0


def handle_nas(ctx: CliContext, args: argparse.Namespace) -> int:
    # Imported here so the other commands never load pyrad.
    from radius_service.simulator.nas import DEFAULT_MAC, NasSimulator, ReplyRejected

    simulator = NasSimulator(
        args.server,
        args.secret.encode("utf-8"),
        calling_station_id=args.mac or DEFAULT_MAC,
        timeout=args.timeout,
    )
    if args.acct is not None:
        return _account(ctx, simulator, args)
    if args.user is None:
        print("--user is required to log in")
        return 2
    try:
        reply = simulator.login(args.user, args.password, method=args.method, service=args.service)
    except ReplyRejected as exc:
        print(f"the reply failed a router's checks: {exc}")
        return 2
    if reply is None:
        print(f"no reply from {args.server[0]}:{args.server[1]} within {args.timeout:g} s")
        return 2
    ctx.emit(reply.summary())
    return 0 if reply.accepted else 1


def _account(ctx: CliContext, simulator: Any, args: argparse.Namespace) -> int:
    from radius_service.simulator.nas import ReplyRejected

    try:
        answered = simulator.account(
            args.acct,
            args.session_id,
            args.user or "",
            session_time=args.session_time,
            input_octets=args.input_octets,
            output_octets=args.output_octets,
            terminate_cause=args.terminate_cause,
        )
    except ReplyRejected as exc:
        print(f"the reply failed a router's checks: {exc}")
        return 2
    if not answered:
        print(f"no Accounting-Response from {args.server[0]}:{args.server[1]}")
        return 2
    ctx.emit({"code": "Accounting-Response", "status": args.acct})
    return 0


def _server(value: str) -> tuple[str, int]:
    from radius_service.radius.listener import parse_address

    try:
        address = parse_address(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    if address is None:
        raise argparse.ArgumentTypeError("give the server as HOST:PORT")
    return address


def _register_router(peers: Any) -> None:
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
