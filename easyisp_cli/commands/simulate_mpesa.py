"""`easyisp simulate mpesa`: serve the Daraja (M-Pesa) double for the demo and manual tests."""

from __future__ import annotations

import argparse
from typing import Any

from easyisp_cli.commands.simulate_args import server_address
from easyisp_cli.context import CliContext


def register_mpesa(peers: Any) -> None:
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
    mpesa.add_argument(
        "--listen", default="127.0.0.1:8090", type=server_address, metavar="HOST:PORT"
    )
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
