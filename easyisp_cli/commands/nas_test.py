"""`easyisp nas test NAME`: log in to a router's API with its stored credentials and print
what it says about itself, or the plain reason it cannot be reached."""

from __future__ import annotations

import argparse
import asyncio
from typing import Any

from easyisp_cli.context import CliContext
from easyisp_core.errors import EasyIspError
from easyisp_core.services.router_health import PollTarget, load_router_api

DEFAULT_TIMEOUT = 10.0


def register_test(nsub: Any) -> None:
    test = nsub.add_parser(
        "test",
        help="connect to a router's API and print its identity, version, board and load",
        description=(
            "Log in to the router's RouterOS API with its stored API user (reading the "
            "password is audited) and print identity, version, board, uptime, CPU and memory."
        ),
    )
    test.add_argument("name")
    test.add_argument("--tenant", required=True)
    test.add_argument(
        "--timeout",
        type=float,
        default=DEFAULT_TIMEOUT,
        help=f"seconds to wait for each step (default {DEFAULT_TIMEOUT:g})",
    )
    test.add_argument("--json", action="store_true", help="machine-readable output")
    test.set_defaults(handler=run_test)


def run_test(ctx: CliContext, args: argparse.Namespace) -> int:
    if args.timeout <= 0:
        raise EasyIspError("--timeout must be positive.")
    with ctx.unit_of_work() as session:
        target = load_router_api(session, ctx.secret_box(), args.tenant, args.name)
    if not target.username:
        raise EasyIspError(
            f"Router {target.name} has no API user; set its API user name and password first."
        )
    info = asyncio.run(_fetch(target, args.timeout))
    record = {"name": target.name, "address": f"{target.host}:{target.port}", **info}
    ctx.emit(record, text=describe(record, tls=target.use_tls))
    return 0


async def _fetch(target: PollTarget, timeout: float) -> dict[str, Any]:
    # Imported here: the router client pulls in librouteros, which other commands never need.
    from radius_service.jobs.router_health import endpoint_for
    from radius_service.routers.client import RouterClient
    from radius_service.routers.queue import RouterCommandQueue

    endpoint = endpoint_for(target, timeout)
    queue = RouterCommandQueue(endpoint, connect_attempts=1)
    async with RouterClient(endpoint, queue=queue) as client:
        info = await client.test_connection()
    return {
        "identity": info.identity,
        "version": info.version,
        "board": info.board,
        "uptime": info.uptime,
        "cpu_load": info.cpu_load,
        "free_memory": info.free_memory,
        "total_memory": info.total_memory,
    }


def describe(record: dict[str, Any], *, tls: bool) -> str:
    free, total = record["free_memory"], record["total_memory"]
    return "\n".join(
        [
            f"Router {record['name']} answered at {record['address']}"
            + (" (API-SSL)" if tls else ""),
            f"  identity  {record['identity']}",
            f"  version   RouterOS {record['version']}",
            f"  board     {record['board']}",
            f"  uptime    {record['uptime']}",
            f"  cpu       {record['cpu_load']}%",
            f"  memory    {_mib(free)} free of {_mib(total)}",
        ]
    )


def _mib(size: int) -> str:
    return f"{size / (1024 * 1024):.1f} MiB"
