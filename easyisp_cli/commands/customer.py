"""`easyisp customer`: subscribers."""

from __future__ import annotations

import argparse
from datetime import datetime
from typing import Any

from easyisp_cli.context import CliContext
from easyisp_core.models.enums import ConnectionType
from easyisp_core.repositories.customers import CustomerRepository
from easyisp_core.repositories.tenants import TenantRepository
from easyisp_core.services.customers import register_customer
from easyisp_core.services.results import CustomerInfo


def register(sub: Any) -> None:
    parser = sub.add_parser("customer", help="subscribers")
    csub = parser.add_subparsers(dest="customer_command", metavar="ACTION", required=True)

    add = csub.add_parser("add", help="register a subscriber")
    add.add_argument("username")
    add.add_argument("--tenant", required=True)
    add.add_argument("--full-name", required=True)
    add.add_argument(
        "--type", required=True, dest="connection_type", choices=[c.value for c in ConnectionType]
    )
    add.add_argument("--phone", help="Kenyan mobile, e.g. 0712 345 678")
    add.add_argument("--email")
    add.add_argument("--package", help="package name")
    add.add_argument("--expires-at", type=datetime.fromisoformat, metavar="ISO-TIME")
    add.add_argument("--password", help="PPPoE password (generated when omitted)")
    add.add_argument("--mac", dest="mac_address")
    add.add_argument("--static-ip")
    add.add_argument("--router", help="router (NAS) name")
    add.add_argument("--json", action="store_true", help="machine-readable output")
    add.set_defaults(handler=_add)

    listing = csub.add_parser("list", help="list subscribers by name")
    listing.add_argument("--tenant", required=True)
    listing.add_argument("--limit", type=int, default=50)
    listing.add_argument("--json", action="store_true", help="machine-readable output")
    listing.set_defaults(handler=_list)


def _add(ctx: CliContext, args: argparse.Namespace) -> int:
    fields = [
        "username",
        "tenant",
        "full_name",
        "connection_type",
        "phone",
        "email",
        "package",
        "expires_at",
        "password",
        "mac_address",
        "static_ip",
        "router",
    ]
    data = {name: getattr(args, name) for name in fields if getattr(args, name) is not None}
    with ctx.unit_of_work() as session:
        info, password = register_customer(session, ctx.secret_box(), data)
    lines = f"Registered {info.full_name} as {info.username} (account {info.account_number})"
    if password and not args.password:
        lines += f"\nPPPoE password: {password}"
    ctx.emit({**info.__dict__, "password": password}, text=lines)
    return 0


def _list(ctx: CliContext, args: argparse.Namespace) -> int:
    with ctx.unit_of_work() as session:
        tenant = TenantRepository(session).get_by_name(args.tenant)
        customers = CustomerRepository(session).page_by_name(tenant.id, limit=args.limit)
        rows = [CustomerInfo.of(c) for c in customers]
    ctx.emit_table(
        rows, ["account_number", "username", "full_name", "phone", "status", "expires_at"]
    )
    return 0
