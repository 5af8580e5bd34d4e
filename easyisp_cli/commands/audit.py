"""`easyisp audit verify`: check that no audit row was deleted or edited."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from easyisp_cli.context import CliContext
from easyisp_core.services.audit import load_anchors, save_anchors, verify_chain


def register(sub: Any) -> None:
    parser = sub.add_parser("audit", help="the tamper-evident audit trail")
    asub = parser.add_subparsers(dest="audit_command", metavar="ACTION", required=True)
    verify = asub.add_parser("verify", help="verify the audit hash chain of every tenant")
    verify.add_argument(
        "--anchor",
        type=Path,
        metavar="FILE",
        help="check the heads saved in FILE by an earlier run, then save the current heads "
        "(keep FILE off the database server)",
    )
    verify.add_argument("--json", action="store_true", help="machine-readable output")
    verify.set_defaults(handler=_verify)


def _verify(ctx: CliContext, args: argparse.Namespace) -> int:
    anchors = load_anchors(args.anchor) if args.anchor else {}
    with ctx.unit_of_work() as session:
        report = verify_chain(session, anchors)
    if args.anchor and report.ok:
        save_anchors(args.anchor, report.heads)
    if ctx.json_output:
        ctx.emit(
            {
                "ok": report.ok,
                "rows": report.rows,
                "problems": report.problems,
                "heads": {t: h.__dict__ for t, h in report.heads.items()},
            }
        )
    else:
        for problem in report.problems:
            print(f"PROBLEM: {problem}")
        verdict = "intact" if report.ok else f"{len(report.problems)} problem(s)"
        print(f"Audit trail: {report.rows} rows in {len(report.heads)} tenant chain(s), {verdict}.")
    return 0 if report.ok else 1
