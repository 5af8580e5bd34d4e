"""`easyisp nas sync`: show the changes that bring a router to what the database says it
should hold, then apply them (unless --dry-run)."""

from __future__ import annotations

import argparse
import asyncio
from typing import Any

from easyisp_cli.context import CliContext
from easyisp_core.repositories.nas import NasRepository
from easyisp_core.repositories.tenants import TenantRepository
from radius_service.routers.sync_command import execute_sync, prepare_sync


def register(nsub: Any) -> None:
    sync = nsub.add_parser(
        "sync",
        help="bring a router's RADIUS, profiles, firewall and walled garden up to date",
    )
    sync.add_argument("name")
    sync.add_argument("--tenant", required=True)
    sync.add_argument("--dry-run", action="store_true", help="print the plan, change nothing")
    sync.add_argument(
        "--resend-secret",
        action="store_true",
        help="write the RADIUS secret even when its check matches (after a hand edit on the "
        "router, which RouterOS hides from the API user)",
    )
    sync.add_argument("--json", action="store_true", help="machine-readable output")
    sync.set_defaults(handler=run)


def run(ctx: CliContext, args: argparse.Namespace) -> int:
    with ctx.unit_of_work() as session:
        tenant = TenantRepository(session).get_by_name(args.tenant)
        nas = NasRepository(session).get_by_name(tenant.id, args.name)
        job = prepare_sync(session, ctx.secret_box(), ctx.settings, nas.id)
    outcome = asyncio.run(
        execute_sync(job, apply=not args.dry_run, resend_secrets=args.resend_secret)
    )
    header = f"Router {job.router} ({job.endpoint.address}):"
    ctx.emit(
        {
            "router": outcome.router,
            "address": job.endpoint.address,
            "applied": outcome.applied,
            "changes": outcome.plan_lines if outcome.changes else [],
            "summary": outcome.summary,
        },
        text="\n".join([header, *outcome.plan_lines, outcome.summary]),
    )
    return 0
