"""`easyisp simulate sms`: serve the SMS gateway double (Africa's Talking, Advanta/Celcom)."""

from __future__ import annotations

import argparse
from decimal import Decimal, InvalidOperation
from typing import Any

from easyisp_cli.context import CliContext


def register_sms(peers: Any) -> None:
    sms = peers.add_parser(
        "sms",
        help="serve an SMS gateway double: Africa's Talking and the Advanta/Celcom API",
        description="A faithful HTTP double of Africa's Talking's SMS API (POST "
        "/version1/messaging, apiKey header) and of the Advanta/Celcom send API (POST "
        "/api/services/sendsms/). It checks credentials (401 / 1006), refuses invalid numbers "
        "per recipient, charges a balance (InsufficientBalance when it runs out) and posts a "
        "delivery report to --callback-url: a number ending 99 is rejected, 98 never reports. "
        "GET /simulator/messages lists what was sent; POST /simulator/account changes the "
        "balance or callback URL.",
    )
    sms.add_argument("--listen", default="127.0.0.1:8091", type=_address, metavar="HOST:PORT")
    sms.add_argument("--username", default="sandbox", help="Africa's Talking username")
    sms.add_argument("--api-key", default="easyisp-sim-key")
    sms.add_argument("--partner-id", default="1001", help="Advanta/Celcom partner ID")
    sms.add_argument("--balance", default="100", type=_money, help="KES on the account")
    sms.add_argument("--cost", default="0.8", type=_money, help="KES per message")
    sms.add_argument(
        "--callback-url",
        default=None,
        help="where delivery reports go: the site's /sms/<token>/dlr URL (`easyisp gateway "
        "list` does not show it; see docs/sms.md)",
    )
    sms.add_argument("--dlr-delay", type=float, default=2.0, metavar="SECONDS")
    sms.set_defaults(handler=handle_sms)


def handle_sms(ctx: CliContext, args: argparse.Namespace) -> int:
    # Imported here so the other commands never load starlette/uvicorn.
    from radius_service.simulator.sms.runner import serve_forever
    from radius_service.simulator.sms.state import SmsSimulatorConfig

    config = SmsSimulatorConfig(
        username=args.username,
        api_key=args.api_key,
        partner_id=args.partner_id,
        balance=args.balance,
        cost=args.cost,
        callback_url=args.callback_url,
        dlr_delay=args.dlr_delay,
    )
    host, port = args.listen
    print(f"SMS gateway simulator on http://{host}:{port} (username {config.username})")
    serve_forever(config, host, port)
    return 0


def _money(value: str) -> Decimal:
    try:
        amount = Decimal(value)
    except InvalidOperation as exc:
        raise argparse.ArgumentTypeError(f"{value!r} is not an amount") from exc
    if amount < 0:
        raise argparse.ArgumentTypeError("must not be negative")
    return amount


def _address(value: str) -> tuple[str, int]:
    host, _, port = value.rpartition(":")
    if not host or not port.isdigit():
        raise argparse.ArgumentTypeError(f"{value!r} is not HOST:PORT")
    return host, int(port)
