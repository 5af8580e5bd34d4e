"""`easyisp tenant`: create and list tenants."""

from __future__ import annotations

import argparse
import json
from typing import Any

from easyisp_cli.context import CliContext
from easyisp_core.errors import ValidationFailed
from easyisp_core.models.enums import TenantStatus
from easyisp_core.repositories.tenants import TenantRepository
from easyisp_core.services.results import TenantInfo
from easyisp_core.services.tenants import create_tenant


def register(sub: Any) -> None:
    parser = sub.add_parser("tenant", help="create and list tenants (ISPs or brands)")
    tsub = parser.add_subparsers(dest="tenant_command", metavar="ACTION", required=True)

    create = tsub.add_parser("create", help="create a tenant")
    create.add_argument("name", help="internal name: lower-case letters, digits, dashes")
    create.add_argument("--display-name", required=True, help="name shown to staff and customers")
    create.add_argument(
        "--status", choices=[s.value for s in TenantStatus], default=TenantStatus.ACTIVE.value
    )
    create.add_argument("--timezone", default=None, help="IANA zone (default Africa/Nairobi)")
    create.add_argument("--config", default=None, metavar="JSON", help="full configuration JSON")
    create.add_argument("--json", action="store_true", help="machine-readable output")
    create.set_defaults(handler=_create)

    listing = tsub.add_parser("list", help="list tenants")
    listing.add_argument("--json", action="store_true", help="machine-readable output")
    listing.set_defaults(handler=_list)


def _create(ctx: CliContext, args: argparse.Namespace) -> int:
    config: dict[str, Any] = {}
    if args.config:
        try:
            config = json.loads(args.config)
        except json.JSONDecodeError as exc:
            raise ValidationFailed({"config": f"not valid JSON ({exc.msg})"}) from exc
    if args.timezone:
        config["timezone"] = args.timezone
    data = {
        "name": args.name,
        "display_name": args.display_name,
        "status": args.status,
        "config": config,
    }
    with ctx.unit_of_work() as session:
        info = create_tenant(session, data)
    ctx.emit(info, text=f"Created tenant {info.name} ({info.display_name}), id {info.id}")
    return 0


def _list(ctx: CliContext, args: argparse.Namespace) -> int:
    with ctx.unit_of_work() as session:
        rows = [TenantInfo.of(t) for t in TenantRepository(session).list()]
    ctx.emit_table(rows, ["name", "display_name", "status", "id"])
    return 0
