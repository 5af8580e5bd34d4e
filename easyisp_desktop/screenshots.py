"""Save PNGs of the console on demo data: `python -m easyisp_desktop.screenshots [OUT_DIR]
[--dark]` (--dark: as with the OS in dark mode; docs/screenshots/dark/).

It starts a private embedded database in a temporary folder (or uses EASYISP_DATABASE_URL's
server for the data, still logging in as a demo staff member), loads the demo, logs in as the
demo administrator through the real login window and captures what an operator sees. Runs on
the offscreen Qt platform when there is no display, so it works on a headless build machine.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from functools import partial
from pathlib import Path

SIZE = (1366, 768)  # the smallest laptop screen the console must work on


def _wait(app: object, done: Callable[[], bool], seconds: float = 60.0) -> None:
    deadline = time.monotonic() + seconds
    while not done():
        if time.monotonic() > deadline:
            raise TimeoutError("the console did not get there in time")
        app.processEvents()  # type: ignore[attr-defined]
        time.sleep(0.02)


def _settle(app: object, seconds: float = 0.3) -> None:
    """Let layouts and pending signals finish before a picture is taken."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        app.processEvents()  # type: ignore[attr-defined]
        time.sleep(0.02)


def main(argv: list[str]) -> int:
    dark = "--dark" in argv
    paths = [a for a in argv[1:] if a != "--dark"]
    out = Path(paths[0] if paths else "docs/screenshots/dark" if dark else "docs/screenshots")
    out.mkdir(parents=True, exist_ok=True)
    if not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY"):
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    with tempfile.TemporaryDirectory(prefix="easyisp-shots-") as tmp:
        Path(tmp).chmod(0o755)
        os.environ["EASYISP_DATA_DIR"] = tmp
        return _capture(out, Path(tmp), dark=dark)


def _go_dark(app: object) -> None:
    """What the OS switching to dark mode does: ask Qt for the dark scheme; where the platform
    cannot (the offscreen one), use a dark palette like the OS's."""
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QColor, QPalette

    hints = app.styleHints()  # type: ignore[attr-defined]
    hints.setColorScheme(Qt.ColorScheme.Dark)
    if hints.colorScheme() != Qt.ColorScheme.Dark:
        palette = QPalette(QColor("#2d2d2d"))
        for role, colour in (
            (QPalette.ColorRole.Base, "#1e1e1e"),
            (QPalette.ColorRole.AlternateBase, "#262626"),
            (QPalette.ColorRole.Text, "#f0f0f0"),
            (QPalette.ColorRole.WindowText, "#f0f0f0"),
            (QPalette.ColorRole.ButtonText, "#f0f0f0"),
            (QPalette.ColorRole.Highlight, "#2f65ca"),
            (QPalette.ColorRole.HighlightedText, "#ffffff"),
            (QPalette.ColorRole.ToolTipBase, "#3a3a3a"),
            (QPalette.ColorRole.ToolTipText, "#f0f0f0"),
            (QPalette.ColorRole.PlaceholderText, "#a0a0a0"),
            # As the OS's dark schemes do: links readable on a dark window (the default is
            # a dark blue, near invisible there).
            (QPalette.ColorRole.Link, "#6cb4ff"),
            (QPalette.ColorRole.LinkVisited, "#c39bff"),
        ):
            palette.setColor(role, QColor(colour))
        app.setPalette(palette)  # type: ignore[attr-defined]


def _capture(out: Path, data_dir: Path, *, dark: bool = False) -> int:
    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication

    from easyisp_core.crypto import SecretBox, load_or_create_site_key
    from easyisp_core.db.engine import open_database, session_scope
    from easyisp_core.demo import load_demo
    from easyisp_core.demo.mpesa_examples import add_suspense_examples, example_statement
    from easyisp_core.settings import Settings
    from easyisp_desktop.login import LoginFlow
    from easyisp_desktop.main_window import MainWindow
    from easyisp_desktop.screenshot_site import answer_sync_preview, prepare_router_site

    settings = Settings(data_dir=data_dir, database_url=None)
    admin = open_database(settings)
    try:
        box = SecretBox.from_encoded(load_or_create_site_key(settings.resolved_site_key_file))
        with session_scope(admin.sessions) as session:
            result = load_demo(session, box)
            now = datetime.now(UTC)
            add_suspense_examples(session, result.tenants[0].name, now)
            statement = data_dir / "org-statement.csv"
            statement.write_text(example_statement(session, result.tenants[0].name, now))
            main = result.tenants[0]
            prepare_router_site(session, main.name, [r.name for r in main.routers])
        login = next(s for s in result.tenants[0].staff if s.role == "ADMIN")
        app = QApplication.instance() or QApplication([])
        if dark:
            _go_dark(app)
        ini = QSettings(str(data_dir / "console.ini"), QSettings.Format.IniFormat)
        flow = LoginFlow(
            settings,
            qsettings=ini,
            hint=f"Demo loaded. Log in as {login.username} (admin).",
            prefill=(login.username, login.password),
        )
        flow.dialog.show()
        _wait(app, lambda: flow.dialog.isVisible())
        flow.dialog.grab().save(str(out / "login.png"))
        flow.dialog.login_button.click()
        _wait(app, lambda: flow.database is not None or bool(flow.dialog.error.text()))
        database = flow.database
        if database is None:
            print(f"login failed: {flow.dialog.error.text()}", file=sys.stderr)
            return 1
        flow.dialog.hide()
        # This PC is the site server: it has the site key (router secrets, onboarding scripts).
        window = MainWindow(lambda *, progress: database, settings=ini, secret_box=box)
        window.resize(*SIZE)
        window.show()
        window.start()
        _wait(app, lambda: window.dashboard.state == "figures" and window.customers is not None)
        _settle(app)
        window.grab().save(str(out / "dashboard.png"))
        window.navigation.setCurrentRow(1)
        customers = window.customers
        assert customers is not None
        _wait(app, lambda: customers.model.rowCount() > 0)
        _settle(app)
        window.grab().save(str(out / "customers.png"))
        customers.search_box.setText("wanj")
        _wait(app, lambda: customers.model.query.text == "wanj" and not customers.model.loading)
        _settle(app)
        window.grab().save(str(out / "customers-search.png"))
        customers.table.setCurrentIndex(customers.model.index(0, 0))
        workspace = customers.open_current()
        assert workspace is not None
        workspace.resize(*SIZE)
        _wait(app, lambda: workspace.data is not None)
        # The sessions tab shows the usage columns; pick it when the customer has any.
        _settle(app)
        sessions_tab = next(
            i for i in range(workspace.tabs.count()) if workspace.tabs.tabText(i) == "Sessions"
        )
        if workspace.models["sessions"].rowCount():
            workspace.tabs.setCurrentIndex(sessions_tab)
        _settle(app)
        workspace.grab().save(str(out / "customer-workspace.png"))
        customers.close_workspaces()

        from easyisp_desktop.page_screenshots import capture_pages

        capture_pages(
            window,
            out,
            statement=statement,
            answer_sync=partial(answer_sync_preview, admin.sessions),
        )
        window.shutdown()
        database.close()
        print(f"saved {len(list(out.glob('*.png')))} screenshots in {out}")
        return 0
    finally:
        admin.close()


if __name__ == "__main__":
    sys.exit(main(sys.argv))
