"""`easyisp simulate router-coa`: act as a router's `/radius incoming` (CoA/Disconnect)."""

from __future__ import annotations

import argparse
from typing import Any

from easyisp_cli.commands.simulate_args import server_address
from easyisp_cli.context import CliContext


def register_router_coa(peers: Any) -> None:
    coa = peers.add_parser(
        "router-coa",
        help="listen for Disconnect-/CoA-Requests like a MikroTik's /radius incoming",
        description="Keep a list of active sessions (each announced with an Accounting-Start "
        "when --acct-server is given), answer Disconnect-Request / CoA-Request for them with "
        "ACK (and an Accounting-Stop, cause Admin-Reset, after a disconnect) or NAK 503 for "
        "unknown sessions. Prints the bound address, then what happened when it stops.",
    )
    coa.add_argument(
        "--listen", type=server_address, default=("127.0.0.1", 3799), metavar="HOST:PORT"
    )
    coa.add_argument("--secret", required=True, help="the router's RADIUS shared secret")
    coa.add_argument("--acct-server", type=server_address, default=None, metavar="HOST:PORT")
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
        deadline = None if args.seconds is None else time.monotonic() + args.seconds
        try:
            # Inside the try: a Ctrl-C sent as soon as the line is read ends the run cleanly
            # (it used to land before the try now and then and exit 130).
            print(f"listening on {host}:{port}", flush=True)
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
