"""`easyisp db`: migrate, inspect and maintain the database schema."""

from __future__ import annotations

import argparse
from datetime import date
from pathlib import Path
from typing import Any

from easyisp_cli.context import CliContext
from easyisp_core.db import revision


def register(sub: Any) -> None:
    parser = sub.add_parser("db", help="database schema: upgrade, current, check, partitions")
    db_sub = parser.add_subparsers(dest="db_command", metavar="ACTION", required=True)

    upgrade = db_sub.add_parser("upgrade", help="migrate the database to this version's schema")
    upgrade.add_argument("--revision", default="head", help="target revision (default: head)")
    upgrade.set_defaults(handler=_upgrade)

    current = db_sub.add_parser("current", help="show the database's schema revision")
    current.add_argument("--json", action="store_true", help="machine-readable output")
    current.set_defaults(handler=_current)

    check = db_sub.add_parser(
        "check", help="exit non-zero unless the schema is exactly this version's"
    )
    check.set_defaults(handler=_check)

    login = db_sub.add_parser(
        "service-login", help="let the site service log in as easyisp_service with a password"
    )
    source = login.add_mutually_exclusive_group()
    source.add_argument("--password-stdin", action="store_true", help="read it from stdin")
    source.add_argument(
        "--generate-password", action="store_true", help="generate one and print it once"
    )
    login.set_defaults(handler=_service_login)

    partitions = db_sub.add_parser("partitions", help="monthly partitions of sessions/sms_logs")
    part_sub = partitions.add_subparsers(dest="partitions_command", metavar="ACTION", required=True)
    ensure = part_sub.add_parser("ensure", help="create the coming months' partitions now")
    ensure.add_argument("--months-ahead", type=int, default=3, metavar="N")
    ensure.add_argument("--json", action="store_true", help="machine-readable output")
    ensure.set_defaults(handler=_partitions_ensure)
    archive = part_sub.add_parser(
        "archive", help="export months before a date to .csv.gz files, then drop them"
    )
    archive.add_argument(
        "--before",
        type=date.fromisoformat,
        required=True,
        metavar="YYYY-MM-DD",
        help="archive every monthly partition that ends on or before this date",
    )
    archive.add_argument("--out", type=Path, required=True, metavar="DIR")
    archive.add_argument("--json", action="store_true", help="machine-readable output")
    archive.set_defaults(handler=_partitions_archive)


def _upgrade(ctx: CliContext, args: argparse.Namespace) -> int:
    db = ctx.database(check_revision=False)
    before = revision.current_revision(db.engine)
    revision.upgrade(db.engine, args.revision)
    after = revision.current_revision(db.engine)
    if before == after:
        print(f"Schema already at {after} ({db.description}).")
    else:
        print(f"Schema upgraded {before or 'empty'} -> {after} ({db.description}).")
    return 0


def _current(ctx: CliContext, args: argparse.Namespace) -> int:
    db = ctx.database(check_revision=False)
    current = revision.current_revision(db.engine)
    head = revision.head_revision()
    ctx.emit(
        {
            "database": db.description,
            "current": current,
            "head": head,
            "up_to_date": current == head,
        },
        text=f"{current or '(empty)'}{' (head)' if current == head else f' (head is {head})'}",
    )
    return 0


def _check(ctx: CliContext, args: argparse.Namespace) -> int:
    db = ctx.database(check_revision=False)
    current = revision.check_schema(db.engine)  # raises SchemaMismatch with the fix
    print(f"OK: schema at {current} ({db.description}).")
    return 0


def _service_login(ctx: CliContext, args: argparse.Namespace) -> int:
    from easyisp_cli.passwords import read_password
    from easyisp_core.passwords import scram_verifier
    from easyisp_core.repositories.roles import SERVICE_ROLE, RoleRepository

    password, generated = read_password(
        from_stdin=args.password_stdin, generate=args.generate_password
    )
    with ctx.unit_of_work() as session:
        RoleRepository(session).enable_service_login(scram_verifier(password))
    print(f"{SERVICE_ROLE} may now log in" + (f"; password: {password}" if generated else "."))
    return 0


def _partitions_ensure(ctx: CliContext, args: argparse.Namespace) -> int:
    from easyisp_core.services.maintenance import ensure_all_partitions

    with ctx.unit_of_work() as session:
        created = ensure_all_partitions(session, months_ahead=args.months_ahead)
    made = [name for names in created.values() for name in names]
    ctx.emit(created, text=f"Created {len(made)} partition(s): {', '.join(made) or 'none needed'}")
    return 0


def _partitions_archive(ctx: CliContext, args: argparse.Namespace) -> int:
    from easyisp_core.services.maintenance import archive_partitions

    with ctx.unit_of_work() as session:
        archived = archive_partitions(session, before=args.before, out_dir=args.out)
    if ctx.json_output:
        ctx.emit({"archived": archived})
    else:
        for item in archived:
            print(f"{item.name}: {item.rows} rows -> {item.path}")
        print(f"Archived {len(archived)} partition(s).")
    return 0
