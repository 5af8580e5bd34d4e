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
    if args.demo and ctx.settings.database_url is None:
        # This PC's own database: load the demo here, before any window exists, so the login
        # window can offer the demo administrator's login.
        prefill, hint = _load_embedded_demo(ctx)
        return run_console(ctx.settings, login_prefill=prefill, login_hint=hint)
    # The site key is read (or created) here, before any window: it is a file, not a query.
    prepare = demo_preparer(ctx.secret_box()) if args.demo else None
    return run_console(ctx.settings, prepare=prepare)


def _load_embedded_demo(ctx: CliContext) -> tuple[tuple[str, str] | None, str]:
    from easyisp_cli.commands.demo import describe_result, print_progress
    from easyisp_core.db.profiles import EMBEDDED_PROFILE
    from easyisp_core.demo import load_demo
    from easyisp_core.repositories.tenants import TenantRepository
    from easyisp_desktop.credentials import CredentialStore, KeyringUnavailable

    box = ctx.secret_box()
    with ctx.unit_of_work() as session:
        if TenantRepository(session).list():
            return None, (
                "Demo data is already loaded on this PC. Log in with a staff login printed when "
                "it was loaded (the console remembers it if you ticked 'Remember')."
            )
        result = load_demo(session, box, progress=print_progress)
    print(describe_result(result))
    admin = next(s for s in result.tenants[0].staff if s.role in ("ADMIN", "SUPER_ADMIN"))
    try:
        CredentialStore().save(EMBEDDED_PROFILE, admin.username, admin.password)
        remembered = " It is remembered in this computer's keyring."
    except KeyringUnavailable:
        remembered = ""
    hint = (
        f"Demo loaded. Log in as {admin.username} ({admin.role.lower().replace('_', ' ')}); "
        f"the other demo logins are printed in the terminal.{remembered}"
    )
    return (admin.username, admin.password), hint
