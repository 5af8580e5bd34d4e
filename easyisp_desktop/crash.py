"""The console's last line of defence: an exception nobody caught.

Expected failures (validation, permission, conflict, lost connection) get a plain message;
anything else is a bug: it is written to a rotating log file in the data directory and shown
in a crash dialog whose details can be copied into a report. Tests replace `show_dialog`."""

from __future__ import annotations

import logging
import sys
import traceback
from collections.abc import Callable
from logging.handlers import RotatingFileHandler
from pathlib import Path
from types import TracebackType

from PySide6.QtWidgets import QApplication, QMessageBox
from sqlalchemy.exc import DBAPIError

from easyisp_core.errors import EasyIspError
from easyisp_desktop.framework.errors import describe_error

log = logging.getLogger("easyisp.console.crash")

LOG_NAME = "console.log"
LOG_BYTES = 1_000_000
LOG_BACKUPS = 5

# (title, message, details or "" for an expected failure)
DialogFn = Callable[[str, str, str], None]


def crash_log_path(data_dir: Path) -> Path:
    return data_dir / "logs" / LOG_NAME


def is_expected(exc: BaseException) -> bool:
    return isinstance(exc, EasyIspError | DBAPIError)


def show_qt_dialog(title: str, message: str, details: str) -> None:
    """A message box; for a bug, with the traceback under "Show Details…" (selectable)."""
    if QApplication.instance() is None:
        return
    box = QMessageBox(
        QMessageBox.Icon.Critical if details else QMessageBox.Icon.Warning, title, message
    )
    if details:
        box.setDetailedText(details)
    box.exec()


class CrashHandler:
    """sys.excepthook for the console: log bugs to the file, then tell the operator."""

    def __init__(self, log_file: Path, show_dialog: DialogFn = show_qt_dialog) -> None:
        self.log_file = log_file
        self.show_dialog = show_dialog
        log_file.parent.mkdir(parents=True, exist_ok=True)
        self.handler = RotatingFileHandler(
            log_file, maxBytes=LOG_BYTES, backupCount=LOG_BACKUPS, encoding="utf-8"
        )
        self.handler.setFormatter(
            logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
        )
        log.addHandler(self.handler)
        self._previous = sys.excepthook

    def __call__(
        self,
        kind: type[BaseException],
        exc: BaseException,
        tb: TracebackType | None,
    ) -> None:
        if issubclass(kind, KeyboardInterrupt):
            self._previous(kind, exc, tb)
            return
        if is_expected(exc):
            self.show_dialog("EasyISP", describe_error(exc), "")
            return
        details = "".join(traceback.format_exception(kind, exc, tb))
        log.error("unexpected error in the console\n%s", details.rstrip())
        self.handler.flush()
        self.show_dialog(
            "EasyISP hit a problem",
            f"Something went wrong that EasyISP did not expect ({kind.__name__}: {exc}).\n"
            f"The details were saved to {self.log_file}; please send them with a report.",
            details,
        )

    def uninstall(self) -> None:
        if sys.excepthook is self:
            sys.excepthook = self._previous
        log.removeHandler(self.handler)
        self.handler.close()


def install_crash_hook(data_dir: Path, show_dialog: DialogFn = show_qt_dialog) -> CrashHandler:
    handler = CrashHandler(crash_log_path(data_dir), show_dialog)
    sys.excepthook = handler
    return handler
