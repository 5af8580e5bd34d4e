"""`easyisp demo`: fill the configured database with demo ISPs and print their logins."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from easyisp_cli.context import CliContext
from easyisp_core.demo import DemoOptions, DemoResult, load_demo
from easyisp_core.demo.loader import MIN_CUSTOMERS, check_options

DEFAULTS = DemoOptions()


def register(sub: Any) -> None:
    parser = sub.add_parser(
        "demo",
        help="fill the database with demo ISPs (staff, routers, plans, customers, payments)",
        description=(
            "Create demo tenants with staff of every role, routers, PPPoE and hotspot plans, "
            "customers with their payments, sessions, vouchers, invoices and expenses. "
            "Refuses when the demo tenants already exist. Run it as the database superuser "
            "(as with the embedded database): bulk rows are then audited by one summary row "
            "per tenant instead of one row each."
        ),
    )
    parser.add_argument(
        "--customers",
        type=int,
        default=DEFAULTS.customers,
        metavar="N",
        help=f"customers across all demo tenants (default {DEFAULTS.customers}, "
        f"at least {MIN_CUSTOMERS}); 1000000 loads in a few minutes",
    )
    parser.add_argument(
        "--tenants",
        type=int,
        default=DEFAULTS.tenants,
        metavar="N",
        help=f"demo tenants (default {DEFAULTS.tenants}): the second shows tenant isolation",
    )
    parser.add_argument(
        "--seed",
        type=int,
        default=DEFAULTS.seed,
        help=f"random seed; the same seed gives the same customers and history "
        f"(default {DEFAULTS.seed})",
    )
    parser.add_argument("--json", action="store_true", help="print the logins as JSON")
    parser.set_defaults(handler=_run)


def _run(ctx: CliContext, args: argparse.Namespace) -> int:
    options = DemoOptions(customers=args.customers, tenants=args.tenants, seed=args.seed)
    # Bad arguments are refused before the database (maybe an embedded one) is opened.
    check_options(options)
    show_progress = not args.json and (args.verbose or sys.stderr.isatty())
    box = ctx.secret_box()
    with ctx.unit_of_work() as session:
        result = load_demo(
            session, box, options, progress=print_progress if show_progress else None
        )
    if args.json:
        ctx.emit(result)
    else:
        print(describe_result(result))
    return 0


def print_progress(message: str) -> None:
    print(f"easyisp demo: {message}", file=sys.stderr, flush=True)


def describe_result(result: DemoResult) -> str:
    counts = result.counts
    lines = [
        f"Loaded {len(result.tenants)} demo tenant(s) in {result.seconds:.1f} s: "
        f"{counts.get('customers', 0):,} customers, {counts.get('payments', 0):,} payments, "
        f"{counts.get('sessions', 0):,} sessions, {counts.get('vouchers', 0):,} vouchers, "
        f"{counts.get('invoices', 0):,} invoices.",
    ]
    for tenant in result.tenants:
        lines += ["", f"{tenant.display_name} (tenant {tenant.name}, paybill {tenant.paybill})"]
        lines.append("  Staff logins (database logins; passwords shown once):")
        width = max(len(s.username) for s in tenant.staff)
        for staff in tenant.staff:
            lines.append(
                f"    {staff.username:<{width}}  {staff.password}  {staff.role:<13}  "
                f"{staff.full_name}"
            )
        shown = tenant.routers[:3]
        more = len(tenant.routers) - len(shown)
        lines.append(
            f"  Routers ({len(tenant.routers)}; RADIUS secret shown once)"
            + (f", first {len(shown)}:" if more else ":")
        )
        name_width = max(len(r.name) for r in shown)
        for router in shown:
            lines.append(
                f"    {router.name:<{name_width}}  {router.ip_address:<10}  "
                f"secret {router.radius_secret}  ({router.location})"
            )
        lines.append("  Subscribers to try:")
        user_width = max((len(s.username) for s in tenant.subscribers), default=0)
        for sub in tenant.subscribers:
            login = f"password {sub.password}" if sub.password else "phone login, no password"
            lines.append(
                f"    {sub.connection_type:<7}  {sub.username:<{user_width}}  {login}  "
                f"({sub.package})"
            )
        if tenant.vouchers:
            lines.append(f"  Unused vouchers: {', '.join(tenant.vouchers)}")
    lines += [
        "",
        "Change a staff password with `easyisp user password USERNAME`.",
        "See it live: run `easyisp service` and `easyisp simulate site` (a simulated MikroTik "
        "per router with subscribers online, and M-Pesa through the Daraja simulator).",
    ]
    return "\n".join(lines)
