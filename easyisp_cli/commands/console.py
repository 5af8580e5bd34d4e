"""`easyisp console`: open the operator console (the PySide6 desktop app)."""

from __future__ import annotations

import argparse
import importlib.util
from typing import Any

from easyisp_cli.context import CliContext
from easyisp_core.errors import EasyIspError

INSTALL_HINT = "pip install 'easyisp[desktop]'"


def register(sub: Any) -> None:
    parser = sub.add_parser(
        "console",
        help="open the operator console (desktop app)",
        description="Open the operator console. It connects to the configured database "
        "(or starts the embedded one) in the background.",
    )
    parser.add_argument(
        "--demo",
        action="store_true",
        help="when the database has no tenant yet, load the demo ISPs first "
        "(same data as `easyisp demo`)",
    )
    parser.set_defaults(handler=handler)


def handler(ctx: CliContext, args: argparse.Namespace) -> int:
    if importlib.util.find_spec("PySide6") is None:
        raise EasyIspError(f"The console needs PySide6, which is not installed: {INSTALL_HINT}")
    try:
        # Imported here: the other commands (and headless servers) never load Qt.
        from easyisp_desktop.app import demo_preparer, run_console
    except ImportError as exc:
        # PySide6 is there but a system library it needs is not (libGL, libxkbcommon...).
        raise EasyIspError(
            f"The console cannot load Qt ({exc}). Reinstall with {INSTALL_HINT} and check "
            "the system's graphics libraries."
        ) from exc
    # The site key is read (or created) here, before any window: it is a file, not a query.
    prepare = demo_preparer(ctx.secret_box()) if args.demo else None
    return run_console(ctx.settings, prepare=prepare)
