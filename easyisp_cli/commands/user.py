"""`easyisp user`: staff users, their login roles, roles and permissions."""

from __future__ import annotations

import argparse
from typing import Any

from easyisp_cli.context import CliContext
from easyisp_cli.passwords import read_password
from easyisp_core.models.enums import StaffRole, UserStatus
from easyisp_core.repositories.staff import StaffRepository
from easyisp_core.repositories.tenants import TenantRepository
from easyisp_core.rules.permissions import PERMISSIONS
from easyisp_core.services import staff as staff_service
from easyisp_core.services.results import StaffInfo


def _password_options(parser: argparse.ArgumentParser) -> None:
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--password-stdin", action="store_true", help="read it from stdin")
    source.add_argument(
        "--generate-password", action="store_true", help="generate one and print it once"
    )


def register(sub: Any) -> None:
    parser = sub.add_parser("user", help="staff users (each is a database login with a role)")
    usub = parser.add_subparsers(dest="user_command", metavar="ACTION", required=True)

    create = usub.add_parser("create", help="create a staff user and its database login")
    create.add_argument("username", help="3-40 lower-case letters, digits, . _ -")
    create.add_argument("--tenant", required=True, help="tenant name")
    create.add_argument("--role", required=True, choices=[r.value for r in StaffRole])
    create.add_argument("--full-name", required=True)
    create.add_argument("--email")
    create.add_argument("--phone")
    _password_options(create)
    create.add_argument("--json", action="store_true", help="machine-readable output")
    create.set_defaults(handler=_create)

    listing = usub.add_parser("list", help="list staff users")
    listing.add_argument("--tenant", help="only this tenant")
    listing.add_argument("--json", action="store_true", help="machine-readable output")
    listing.set_defaults(handler=_list)

    for action, status, text in (
        ("suspend", UserStatus.SUSPENDED, "disable the login and cut open connections"),
        ("reactivate", UserStatus.ACTIVE, "allow a suspended user to log in again"),
        ("delete", UserStatus.DELETED, "drop the login (the row stays for the audit trail)"),
    ):
        cmd = usub.add_parser(action, help=text)
        cmd.add_argument("username")
        cmd.set_defaults(handler=_set_status, status=status)

    role = usub.add_parser("role", help="change a user's role")
    role.add_argument("username")
    role.add_argument("role", choices=[r.value for r in StaffRole])
    role.set_defaults(handler=_set_role)

    perms = usub.add_parser(
        "permissions", help="set a user's overrides of the role's default permissions"
    )
    perms.add_argument("username")
    perms.add_argument("--add", nargs="*", default=[], metavar="PERMISSION")
    perms.add_argument("--remove", nargs="*", default=[], metavar="PERMISSION")
    perms.add_argument("--json", action="store_true", help="machine-readable output")
    perms.set_defaults(handler=_set_permissions)

    catalogue = usub.add_parser("permission-list", help="list every permission name")
    catalogue.add_argument("--json", action="store_true", help="machine-readable output")
    catalogue.set_defaults(handler=_permission_list)

    password = usub.add_parser("password", help="set a user's password")
    password.add_argument("username")
    _password_options(password)
    password.set_defaults(handler=_password)


def _create(ctx: CliContext, args: argparse.Namespace) -> int:
    data = {
        "tenant": args.tenant,
        "username": args.username,
        "full_name": args.full_name,
        "role": args.role,
        "email": args.email,
        "phone": args.phone,
    }
    password, generated = read_password(
        from_stdin=args.password_stdin, generate=args.generate_password
    )
    with ctx.unit_of_work() as session:
        info = staff_service.create_staff(session, data, password)
    text = f"Created {info.role} {info.username} ({info.full_name})"
    if generated:
        text += f"\nPassword: {password}"
    ctx.emit({**info.__dict__, "password": password if generated else None}, text=text)
    return 0


def _list(ctx: CliContext, args: argparse.Namespace) -> int:
    with ctx.unit_of_work() as session:
        tenant_id = TenantRepository(session).get_by_name(args.tenant).id if args.tenant else None
        rows = [StaffInfo.of(u) for u in StaffRepository(session).list(tenant_id)]
    ctx.emit_table(rows, ["username", "full_name", "role", "status"])
    return 0


def _set_status(ctx: CliContext, args: argparse.Namespace) -> int:
    with ctx.unit_of_work() as session:
        info = staff_service.set_status(session, args.username, args.status)
    print(f"{info.username} is now {info.status}")
    return 0


def _set_role(ctx: CliContext, args: argparse.Namespace) -> int:
    with ctx.unit_of_work() as session:
        info = staff_service.set_role(session, args.username, StaffRole(args.role))
    print(f"{info.username} is now {info.role}")
    return 0


def _set_permissions(ctx: CliContext, args: argparse.Namespace) -> int:
    with ctx.unit_of_work() as session:
        staff_service.set_permissions(session, args.username, args.add, args.remove)
        user = StaffRepository(session).get_by_username(args.username)
        result = {
            "username": user.username,
            "added": list(user.added_permissions),
            "removed": list(user.removed_permissions),
        }
    ctx.emit(result)
    return 0


def _permission_list(ctx: CliContext, args: argparse.Namespace) -> int:
    rows = [{"name": name, "description": text} for name, text in PERMISSIONS.items()]
    ctx.emit_table(rows, ["name", "description"])
    return 0


def _password(ctx: CliContext, args: argparse.Namespace) -> int:
    password, generated = read_password(
        from_stdin=args.password_stdin, generate=args.generate_password
    )
    with ctx.unit_of_work() as session:
        staff_service.change_password(session, args.username, password)
    print(f"Password changed for {args.username}" + (f": {password}" if generated else ""))
    return 0
