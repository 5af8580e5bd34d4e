"""`easyisp nas`: routers (RADIUS clients)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from easyisp_cli.commands import nas_sync
from easyisp_cli.commands.nas_test import register_test
from easyisp_cli.context import CliContext
from easyisp_core.repositories.nas import NasRepository
from easyisp_core.repositories.tenants import TenantRepository
from easyisp_core.services.nas import create_nas
from easyisp_core.services.onboarding import onboarding_script
from easyisp_core.services.results import NasInfo


def register(sub: Any) -> None:
    parser = sub.add_parser("nas", help="routers (MikroTik NAS)")
    nsub = parser.add_subparsers(dest="nas_command", metavar="ACTION", required=True)

    add = nsub.add_parser("add", help="register a router as a RADIUS client")
    add.add_argument("name")
    add.add_argument("--tenant", required=True)
    add.add_argument("--ip", required=True, help="the address RADIUS packets come from")
    add.add_argument("--secret", help="RADIUS shared secret (generated when omitted)")
    add.add_argument("--api-username")
    add.add_argument("--api-password")
    add.add_argument("--location")
    add.add_argument(
        "--no-require-message-authenticator",
        action="store_true",
        help="accept requests without Message-Authenticator (old RouterOS only)",
    )
    add.add_argument("--json", action="store_true", help="machine-readable output")
    add.set_defaults(handler=_add)

    listing = nsub.add_parser("list", help="list a tenant's routers")
    listing.add_argument("--tenant", required=True)
    listing.add_argument("--json", action="store_true", help="machine-readable output")
    listing.set_defaults(handler=_list)

    script = nsub.add_parser(
        "script",
        help="print the one RouterOS script that onboards a router (v7: WireGuard to the site)",
    )
    script.add_argument("name")
    script.add_argument("--tenant", required=True)
    script.add_argument(
        "--routeros",
        type=int,
        choices=(6, 7),
        help="RouterOS major version (default: the router's known version, else 7)",
    )
    script.add_argument("--out", type=Path, help="also write the script to this .rsc file")
    script.add_argument("--json", action="store_true", help="machine-readable output")
    script.set_defaults(handler=_script)
    register_test(nsub)

    nas_sync.register(nsub)


def _add(ctx: CliContext, args: argparse.Namespace) -> int:
    data = {
        "tenant": args.tenant,
        "name": args.name,
        "ip_address": args.ip,
        "secret": args.secret,
        "api_username": args.api_username,
        "api_password": args.api_password,
        "location": args.location,
        "require_message_authenticator": not args.no_require_message_authenticator,
    }
    with ctx.unit_of_work() as session:
        info, secret = create_nas(session, ctx.secret_box(), data)
    ctx.emit(
        {**info.__dict__, "secret": secret},
        text=f"Registered router {info.name} at {info.ip_address}\nRADIUS secret: {secret}",
    )
    return 0


def _list(ctx: CliContext, args: argparse.Namespace) -> int:
    with ctx.unit_of_work() as session:
        tenant = TenantRepository(session).get_by_name(args.tenant)
        rows = [NasInfo.of(n) for n in NasRepository(session).list(tenant.id)]
    ctx.emit_table(rows, ["name", "ip_address", "status", "require_message_authenticator"])
    return 0


def _script(ctx: CliContext, args: argparse.Namespace) -> int:
    with ctx.unit_of_work() as session:
        result = onboarding_script(
            session, ctx.secret_box(), args.tenant, args.name, routeros_major=args.routeros
        )
    if args.out is not None:
        # The script holds the router's private key and secrets: owner-only file.
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.touch(mode=0o600, exist_ok=True)
        args.out.write_text(result.text, encoding="ascii")
    ctx.emit(
        {**result.__dict__, "written_to": None if args.out is None else str(args.out)},
        text=result.text.rstrip("\n"),
    )
    return 0
