"""`easyisp simulate nas`: act as a MikroTik router and send one Access-Request (or one
Accounting-Request)."""

from __future__ import annotations

import argparse
from typing import Any

from easyisp_cli.commands.simulate_args import server_address
from easyisp_cli.context import CliContext


def register_nas(peers: Any) -> None:
    nas = peers.add_parser(
        "nas",
        help="send one Access-Request like a MikroTik router and print the reply",
        description="Log a subscriber in through a RADIUS server the way RouterOS does "
        "(Message-Authenticator on, Calling-Station-Id AA:BB:CC:DD:EE:FF). Exit code 0 on "
        "Access-Accept, 1 on Access-Reject, 2 when no valid reply came.",
    )
    nas.add_argument("--server", required=True, type=server_address, metavar="HOST:PORT")
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
