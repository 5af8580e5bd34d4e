"""`easyisp service`: run the site service (RADIUS, payments, background jobs) in the foreground."""

from __future__ import annotations

import argparse
import logging
from typing import Any

from easyisp_cli.context import CliContext


def register(sub: Any) -> None:
    parser = sub.add_parser(
        "service",
        help="run the site service in the foreground (stop with Ctrl+C or SIGTERM)",
        description="Run the site service until SIGTERM or Ctrl+C. It checks the database "
        "schema first and refuses to start against an unmigrated database.",
    )
    parser.add_argument(
        "--heartbeat-interval",
        type=_positive_seconds,
        default=None,
        metavar="SECONDS",
        help="seconds between heartbeats the console watches (default 10)",
    )
    parser.add_argument(
        "--radius-auth-addr",
        type=_address,
        # Absent unless given (argparse would run `type` on a string default).
        default=argparse.SUPPRESS,
        metavar="HOST:PORT",
        help="where the RADIUS authentication listener binds, or 'off' (default "
        "$EASYISP_RADIUS_AUTH_ADDR, else 0.0.0.0:1812)",
    )
    parser.add_argument(
        "--radius-acct-addr",
        type=_acct_address,
        default=argparse.SUPPRESS,
        metavar="HOST:PORT",
        help="where the RADIUS accounting listener binds, or 'off' (default "
        "$EASYISP_RADIUS_ACCT_ADDR, else 0.0.0.0:1813)",
    )
    parser.set_defaults(handler=handler)


def handler(ctx: CliContext, args: argparse.Namespace) -> int:
    # Imported here so the other commands never pay for (or need) the service's dependencies.
    from radius_service.app import run_service
    from radius_service.jobs.heartbeat import DEFAULT_INTERVAL

    # A daemon's log is its only voice: honour EASYISP_LOG_LEVEL even without --verbose.
    root = logging.getLogger()
    level = logging.getLevelName(ctx.settings.log_level.upper())
    if isinstance(level, int):
        root.setLevel(min(level, root.level))
    # The schema check goes through alembic, whose INFO lines mean nothing to an operator.
    logging.getLogger("alembic").setLevel(max(logging.WARNING, root.level))
    interval = args.heartbeat_interval or DEFAULT_INTERVAL
    return run_service(
        ctx.settings,
        heartbeat_interval=interval,
        # A parsed address, None for "off", or "env": EASYISP_RADIUS_AUTH_ADDR via Settings.
        radius_auth_addr=getattr(args, "radius_auth_addr", "env"),
        radius_acct_addr=getattr(args, "radius_acct_addr", "env"),
        secret_box=ctx.secret_box(),
    )


def _address(value: str) -> tuple[str, int] | None:
    from radius_service.radius.listener import parse_address

    try:
        return parse_address(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _acct_address(value: str) -> tuple[str, int] | None:
    from radius_service.radius.listener import parse_address

    try:
        return parse_address(value, default_port=1813)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _positive_seconds(value: str) -> float:
    try:
        seconds = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {value!r}") from None
    if not 0 < seconds <= 3600:
        raise argparse.ArgumentTypeError("use a number of seconds above 0 and up to 3600")
    return seconds
