"""`easyisp package`: internet plans."""

from __future__ import annotations

import argparse
from typing import Any

from easyisp_cli.context import CliContext
from easyisp_core.models.enums import PackageType, ValidityUnit
from easyisp_core.repositories.packages import PackageRepository
from easyisp_core.repositories.tenants import TenantRepository
from easyisp_core.services.packages import create_package
from easyisp_core.services.results import PackageInfo


def register(sub: Any) -> None:
    parser = sub.add_parser("package", help="internet packages (plans)")
    psub = parser.add_subparsers(dest="package_command", metavar="ACTION", required=True)

    add = psub.add_parser("add", help="add a package")
    add.add_argument("name")
    add.add_argument("--tenant", required=True)
    add.add_argument("--type", required=True, choices=[t.value for t in PackageType])
    add.add_argument("--price", required=True, help="KES, e.g. 1500 or 1500.00")
    add.add_argument("--down", required=True, help="download Mbps")
    add.add_argument("--up", required=True, help="upload Mbps")
    add.add_argument("--validity", required=True, type=int, help="how many units")
    add.add_argument("--unit", required=True, choices=[u.value for u in ValidityUnit])
    add.add_argument("--shared-users", type=int, default=1)
    add.add_argument("--json", action="store_true", help="machine-readable output")
    add.set_defaults(handler=_add)

    listing = psub.add_parser("list", help="list a tenant's packages")
    listing.add_argument("--tenant", required=True)
    listing.add_argument("--json", action="store_true", help="machine-readable output")
    listing.set_defaults(handler=_list)


def _add(ctx: CliContext, args: argparse.Namespace) -> int:
    data = {
        "tenant": args.tenant,
        "name": args.name,
        "type": args.type,
        "price": args.price,
        "download_speed": args.down,
        "upload_speed": args.up,
        "validity_value": args.validity,
        "validity_unit": args.unit,
        "shared_users": args.shared_users,
    }
    with ctx.unit_of_work() as session:
        info = create_package(session, data)
    ctx.emit(info, text=f"Created package {info.name}: KES {info.price}, {info.validity}")
    return 0


def _list(ctx: CliContext, args: argparse.Namespace) -> int:
    with ctx.unit_of_work() as session:
        tenant = TenantRepository(session).get_by_name(args.tenant)
        rows = [PackageInfo.of(p) for p in PackageRepository(session).list(tenant.id)]
    ctx.emit_table(rows, ["name", "type", "price", "download_speed", "upload_speed", "validity"])
    return 0
