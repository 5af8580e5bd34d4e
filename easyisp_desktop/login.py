"""Logging a staff member in: the dialog on the GUI thread, the connection in a worker."""

from __future__ import annotations

import logging
from collections.abc import Callable

from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QDialog

from easyisp_core.db.engine import Database, open_staff_database
from easyisp_core.db.profiles import ProfileStore, ServerProfile
from easyisp_core.db.revision import check_schema
from easyisp_core.settings import Settings
from easyisp_desktop.credentials import CredentialStore, KeyringUnavailable
from easyisp_desktop.framework.errors import describe_error
from easyisp_desktop.framework.gui_thread_guard import assert_not_gui_thread, install_guard
from easyisp_desktop.framework.worker import Worker, WorkerPool
from easyisp_desktop.login_dialog import LoginDialog, LoginRequest
from easyisp_desktop.main_window import ProgressFn

log = logging.getLogger(__name__)

# Runs with the embedded server's superuser before the staff login (the demo loader).
AdminPreparer = Callable[[Database, ProgressFn], None]


def connect_staff(
    settings: Settings,
    request: LoginRequest,
    prepare: AdminPreparer | None = None,
    *,
    progress: ProgressFn | None = None,
) -> Database:
    """Worker side of the login: open the staff member's own session and check the schema."""
    assert_not_gui_thread("logging in")
    report = progress or (lambda _line: None)

    def before_login(admin: Database) -> None:
        if prepare is not None:
            prepare(admin, report)

    report("Connecting…")
    database = open_staff_database(
        settings, request.profile, request.username, request.password, before_login=before_login
    )
    try:
        install_guard(database.engine)
        check_schema(database.engine)
    except BaseException:
        database.close()
        raise
    return database


class LoginFlow:
    """Shows the login dialog until a login succeeds (returns the Database) or is cancelled."""

    def __init__(
        self,
        settings: Settings,
        *,
        prepare: AdminPreparer | None = None,
        hint: str = "",
        credentials: CredentialStore | None = None,
        qsettings: QSettings | None = None,
        prefill: tuple[str, str] | None = None,
    ) -> None:
        self.settings = settings
        self.prepare = prepare
        self.credentials = credentials or CredentialStore()
        self.qsettings = qsettings if qsettings is not None else QSettings()
        self.profiles = ProfileStore(settings.data_dir / "profiles.json")
        self.notice = ""
        last = str(self.qsettings.value("login/username", "") or "")
        if prefill is not None:
            last = prefill[0]
        self.dialog = LoginDialog(self.profiles.load(), last_username=last, hint=hint)
        remembered = self.credentials.load(self.dialog.profile().name, last) if last else None
        if remembered:
            self.dialog.set_password(remembered)
        elif prefill is not None:
            self.dialog.password.setText(prefill[1])
        self.pool = WorkerPool(self.dialog)
        self.database: Database | None = None
        self.dialog.submitted.connect(self._submit)

    def _submit(self, request: LoginRequest) -> None:
        def work(worker: Worker) -> Database:
            return connect_staff(
                self.settings,
                request,
                self.prepare,
                progress=lambda line: worker.report_progress(0, line),
            )

        worker = Worker.controlled(work)
        worker.signals.result.connect(lambda database: self._succeeded(request, database))
        worker.signals.error.connect(lambda exc: self.dialog.show_error(describe_error(exc)))
        self.pool.start(worker)

    def _succeeded(self, request: LoginRequest, database: Database) -> None:
        self.database = database
        self.qsettings.setValue("login/username", request.username)
        if not request.profile.embedded:
            self.profiles.save(request.profile)
        self._remember(request.profile, request)
        warning = request.profile.tls_warning()
        if warning:
            self.notice = warning if not self.notice else f"{warning} {self.notice}"
        self.dialog.accept()

    def _remember(self, profile: ServerProfile, request: LoginRequest) -> None:
        if not request.remember:
            self.credentials.forget(profile.name, request.username)
            return
        try:
            self.credentials.save(profile.name, request.username, request.password)
        except KeyringUnavailable as exc:
            self.notice = str(exc)

    def run(self) -> Database | None:
        if self.dialog.exec() != QDialog.DialogCode.Accepted:
            self.pool.wait(5000)
            return None
        return self.database
