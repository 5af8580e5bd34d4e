"""Composition root of the console: the QApplication, the database connection, the main window.

Opening the database can take seconds (starting the embedded server, a remote site over a
slow link), so it happens in a worker while the window already shows "Connecting…".
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence

from PySide6.QtWidgets import QApplication

from easyisp_core import __version__
from easyisp_core.crypto import SecretBox
from easyisp_core.db.engine import Database, open_database, session_scope
from easyisp_core.db.revision import check_schema
from easyisp_core.repositories.tenants import TenantRepository
from easyisp_core.settings import Settings
from easyisp_desktop.crash import install_crash_hook
from easyisp_desktop.framework.gc_tuning import GuiThreadCollector, freeze_startup_objects
from easyisp_desktop.framework.gui_thread_guard import assert_not_gui_thread, install_guard
from easyisp_desktop.main_window import MainWindow, ProgressFn

# Work done once the schema is known good, before the first page loads (in the worker).
Preparer = Callable[[Database, ProgressFn], None]

APPLICATION_NAME = "easyisp-console"
# QSettings (window geometry) are stored under these names.
ORGANIZATION = "EasyISP"
PRODUCT = "EasyISP Console"


def connect_database(
    settings: Settings,
    prepare: Preparer | None = None,
    *,
    progress: ProgressFn | None = None,
) -> Database:
    """Open the database and check its schema; runs in a worker, never on the GUI thread.

    `prepare` runs once the schema is known good (the demo loader, for `easyisp console
    --demo`). On any failure the half-opened database is closed again before raising, so a
    Retry starts clean. `progress` receives one line per step for the "Connecting…" page."""
    assert_not_gui_thread("opening the database")
    report = progress or _ignore
    if settings.database_url is None:
        report("Starting the embedded database…")
    else:
        report("Connecting…")
    database = open_database(settings, application_name=APPLICATION_NAME)
    try:
        install_guard(database.engine)
        report("Checking the database schema…")
        check_schema(database.engine)
        if prepare is not None:
            prepare(database, report)
    except BaseException:
        database.close()
        raise
    return database


def demo_preparer(box: SecretBox) -> Preparer:
    """For `easyisp console --demo`: load the demo ISPs when the site has no tenant yet."""

    def prepare(database: Database, progress: ProgressFn) -> None:
        # Only --demo pays for importing the generator and its name lists.
        from easyisp_core.demo import load_demo

        with session_scope(database.sessions) as session:
            if TenantRepository(session).list():
                return
            progress("Loading the demo ISPs…")
            load_demo(session, box, progress=lambda line: progress(f"Loading the demo: {line}"))

    return prepare


def site_box(settings: Settings) -> SecretBox | None:
    """The site key when this PC holds it (the site server); router secrets need it.
    A front-desk PC has none, and is never given one by starting the console."""
    if settings.site_key:
        return SecretBox.from_encoded(settings.site_key)
    path = settings.resolved_site_key_file
    if path.exists():
        return SecretBox.from_encoded(path.read_text(encoding="ascii").strip())
    return None


def _ignore(_message: str) -> None:
    pass


def run_console(
    settings: Settings,
    argv: Sequence[str] | None = None,
    *,
    prepare: Preparer | None = None,
    login_hint: str = "",
    login_prefill: tuple[str, str] | None = None,
) -> int:
    """Show the console until its window closes; returns the process exit code.

    With EASYISP_DATABASE_URL set (an administrator's own URL) the console connects with it;
    otherwise each staff member logs in with their own database role."""
    # Before any window or connection exists: only what the imports left alive is frozen.
    freeze_startup_objects()
    existing = QApplication.instance()
    app = (
        existing if isinstance(existing, QApplication) else QApplication(list(argv or sys.argv[:1]))
    )
    app.setOrganizationName(ORGANIZATION)
    app.setApplicationName(PRODUCT)
    app.setApplicationVersion(__version__)
    crash_hook = install_crash_hook(settings.data_dir)
    # Cycles holding Qt objects are collected on the GUI thread, never on a worker's.
    collector = GuiThreadCollector(app)

    # Every database the workers opened, so it is closed even when the window went away
    # before the connection finished (its result signal is then never delivered).
    opened: list[Database] = []
    notice = ""

    if settings.database_url is None:
        from easyisp_desktop.login import LoginFlow

        flow = LoginFlow(settings, prepare=prepare, hint=login_hint, prefill=login_prefill)
        logged_in = flow.run()
        if logged_in is None:
            return 0
        opened.append(logged_in)
        notice = flow.notice

        def connect(*, progress: ProgressFn) -> Database:
            return logged_in

    else:

        def connect(*, progress: ProgressFn) -> Database:
            database = connect_database(settings, prepare, progress=progress)
            opened.append(database)
            return database

    window = MainWindow(connect, timezone=settings.default_timezone, secret_box=site_box(settings))
    window.show()
    if notice:
        window.statusBar().showMessage(notice, 15_000)
    window.start()
    try:
        code = app.exec()
    finally:
        window.shutdown()
        for database in opened:
            database.close()
        crash_hook.uninstall()
        collector.stop()
    return code
