"""`easyisp user`: staff users."""

from __future__ import annotations

import argparse
from typing import Any

from easyisp_cli.context import CliContext
from easyisp_core.models.enums import StaffRole
from easyisp_core.repositories.staff import StaffRepository
from easyisp_core.repositories.tenants import TenantRepository
from easyisp_core.services.results import StaffInfo
from easyisp_core.services.staff import create_staff


def register(sub: Any) -> None:
    parser = sub.add_parser("user", help="staff users (operators) and their roles")
    usub = parser.add_subparsers(dest="user_command", metavar="ACTION", required=True)

    create = usub.add_parser("create", help="create a staff user with a role")
    create.add_argument("username", help="3-40 lower-case letters, digits, . _ -")
    create.add_argument("--tenant", required=True, help="tenant name")
    create.add_argument("--role", required=True, choices=[r.value for r in StaffRole])
    create.add_argument("--full-name", required=True)
    create.add_argument("--email")
    create.add_argument("--phone")
    create.add_argument("--json", action="store_true", help="machine-readable output")
    create.set_defaults(handler=_create)

    listing = usub.add_parser("list", help="list staff users")
    listing.add_argument("--tenant", help="only this tenant")
    listing.add_argument("--json", action="store_true", help="machine-readable output")
    listing.set_defaults(handler=_list)


def _create(ctx: CliContext, args: argparse.Namespace) -> int:
    data = {
        "tenant": args.tenant,
        "username": args.username,
        "full_name": args.full_name,
        "role": args.role,
        "email": args.email,
        "phone": args.phone,
    }
    with ctx.unit_of_work() as session:
        info = create_staff(session, data)
    ctx.emit(info, text=f"Created {info.role} {info.username} ({info.full_name})")
    return 0


def _list(ctx: CliContext, args: argparse.Namespace) -> int:
    with ctx.unit_of_work() as session:
        tenant_id = TenantRepository(session).get_by_name(args.tenant).id if args.tenant else None
        rows = [StaffInfo.of(u) for u in StaffRepository(session).list(tenant_id)]
    ctx.emit_table(rows, ["username", "full_name", "role", "status"])
    return 0
