"""`easyisp gateway add-sms` / `list-sms`: a tenant's SMS gateways (Africa's Talking,
Advanta, Celcom) and the delivery-report URL to give the provider. The API key is read from
stdin or a prompt, never from argv (it would show in `ps` and shell history)."""

from __future__ import annotations

import argparse
import getpass
import sys
from typing import Any

from easyisp_cli.context import CliContext
from easyisp_core.errors import ValidationFailed
from easyisp_core.services.gateways import create_sms_gateway
from easyisp_core.services.sms_gateway_admin import dlr_url, list_sms_gateways

PROVIDERS = {"africastalking": "AFRICASTALKING", "advanta": "ADVANTA", "celcom": "CELCOM"}


def register_sms_gateway(gsub: Any) -> None:
    add = gsub.add_parser(
        "add-sms",
        help="configure a tenant's SMS gateway (Africa's Talking, Advanta, Celcom)",
        allow_abbrev=False,
        description="The API key comes from stdin with --api-key-stdin, else from a prompt. "
        "See docs/sms.md.",
    )
    add.add_argument("name")
    add.add_argument("--tenant", required=True)
    add.add_argument("--provider", choices=sorted(PROVIDERS), required=True)
    add.add_argument("--username", help="Africa's Talking username (sandbox: sandbox)")
    add.add_argument("--partner-id", help="Advanta/Celcom partner ID")
    add.add_argument("--base-url", help="API address (the simulator's, or AT's sandbox)")
    add.add_argument("--sender-id", help="registered sender ID (11 characters at most)")
    add.add_argument("--default", action="store_true", help="the tenant's default gateway")
    add.add_argument("--api-key-stdin", action="store_true")
    add.add_argument("--json", action="store_true", help="machine-readable output")
    add.set_defaults(handler=_add)

    listing = gsub.add_parser("list-sms", help="list a tenant's SMS gateways (no secrets)")
    listing.add_argument("--tenant", required=True)
    listing.add_argument("--json", action="store_true", help="machine-readable output")
    listing.set_defaults(handler=_list)


def _api_key(args: argparse.Namespace) -> str:
    if args.api_key_stdin:
        key = sys.stdin.readline().strip()
    elif sys.stdin.isatty():
        key = getpass.getpass("API key: ").strip()
    else:
        raise ValidationFailed({"API key": "no terminal to prompt on; use --api-key-stdin"})
    if not key:
        raise ValidationFailed({"API key": "is empty"})
    return key


def _add(ctx: CliContext, args: argparse.Namespace) -> int:
    config: dict[str, Any] = {}
    for key in ("username", "partner_id", "base_url"):
        if getattr(args, key):
            config[key] = getattr(args, key)
    data = {
        "tenant": args.tenant,
        "name": args.name,
        "provider": PROVIDERS[args.provider],
        "sender_id": args.sender_id,
        "config": config,
        "credentials": {"api_key": _api_key(args)},
        "is_default": args.default,
    }
    with ctx.unit_of_work() as session:
        info = create_sms_gateway(session, ctx.secret_box(), data)
    assert info.callback_token is not None
    public_url = ctx.settings.public_url
    url = dlr_url(public_url, info.callback_token) if public_url else None
    lines = [f"Added SMS gateway {info.name} ({info.provider})"]
    if url is None:
        print(
            "easyisp: warning: EASYISP_PUBLIC_URL is not set; the delivery-report URL is "
            f"<public URL>/sms/{info.callback_token}/dlr",
            file=sys.stderr,
        )
    else:
        lines.append(f"Delivery-report URL to give the provider: {url}")
    ctx.emit({"id": info.id, "name": info.name, "dlr_url": url}, text="\n".join(lines))
    return 0


def _list(ctx: CliContext, args: argparse.Namespace) -> int:
    with ctx.unit_of_work() as session:
        rows = list_sms_gateways(session, args.tenant)
    ctx.emit_table(rows, ["name", "provider", "sender_id", "is_default", "is_active", "dlr_path"])
    return 0
