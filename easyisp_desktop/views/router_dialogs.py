"""The Routers page's dialogs: a router's onboarding script, and a command for the site service.

Neither touches a router: the script is generated from the database (in a worker), and
Test/Sync are queued as service_commands rows that the site service runs and answers in the
same row (QUEUED → RUNNING → DONE/FAILED). The dialog follows that row through the window's
live-update listener and re-reads it in a worker; without a listener it re-reads on a timer.
"""

from __future__ import annotations

from collections.abc import Callable
from html import escape
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QFontDatabase, QGuiApplication
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from easyisp_core.services.onboarding import OnboardingScript
from easyisp_core.services.service_commands import ServiceCommandInfo
from easyisp_desktop.framework.forms import failure_message
from easyisp_desktop.framework.live_updates import LiveChange, LiveUpdates
from easyisp_desktop.framework.worker import WorkerPool

# How long a queued command may wait for the site service before the dialog says so.
ANSWER_TIMEOUT_MS = 30_000
# Without a live-update listener the dialog re-reads its command this often.
POLL_MS = 2_000
NOTHING_TO_CHANGE = "Nothing to change."


def _monospace_view() -> QPlainTextEdit:
    view = QPlainTextEdit()
    view.setReadOnly(True)
    view.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
    view.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
    return view


class OnboardingScriptDialog(QDialog):
    """The router's one-paste RouterOS script: v7 (WireGuard) by default, v6 on request."""

    script_shown = Signal(str)
    failed = Signal(str)

    def __init__(
        self,
        router: str,
        generate: Callable[[int], OnboardingScript],
        workers: WorkerPool,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Onboarding script for {router}")
        self.resize(760, 560)
        self._generate = generate
        self.workers = workers
        self.script: OnboardingScript | None = None
        self.busy = False
        self._generation = 0

        self.version = QComboBox()
        self.version.addItem("RouterOS 7 (WireGuard to this site)", 7)
        self.version.addItem("RouterOS 6 (no VPN: reached at its own address)", 6)
        self.version.currentIndexChanged.connect(lambda _i: self.generate())
        self.message = QLabel("")
        self.message.setWordWrap(True)
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.view = _monospace_view()
        self.copy_button = QPushButton("Copy")
        self.copy_button.clicked.connect(self.copy)
        self.save_button = QPushButton("Save .rsc…")
        self.save_button.clicked.connect(self.save_as)
        close = QPushButton("Close")
        close.clicked.connect(self.reject)
        # Where "Save .rsc…" writes without asking (tests); None: a file dialog asks.
        self.save_path_chooser: Callable[[str], str | None] = self._ask_path

        top = QHBoxLayout()
        top.addWidget(QLabel("Router runs:"))
        top.addWidget(self.version, 1)
        buttons = QHBoxLayout()
        buttons.addWidget(self.copy_button)
        buttons.addWidget(self.save_button)
        buttons.addStretch()
        buttons.addWidget(close)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(
            QLabel(f"Paste this into the terminal of {router} (or import the .rsc file):")
        )
        layout.addWidget(self.view, 1)
        layout.addWidget(self.message)
        layout.addLayout(buttons)
        self._set_script(None)

    @property
    def routeros_major(self) -> int:
        return int(self.version.currentData())

    def generate(self) -> None:
        # A newer request (the operator switched versions) makes older answers stale.
        self._generation += 1
        generation = self._generation
        self.busy = True
        self._set_script(None)
        self.message.setText("Generating the script…")
        major = self.routeros_major

        def shown(script: OnboardingScript) -> None:
            if generation == self._generation:
                self._on_script(script)

        def failed(exc: BaseException) -> None:
            if generation == self._generation:
                self._on_failed(exc)

        # Closed while generating: the answer is dropped, not shown in a deleted dialog.
        self.workers.run(
            lambda: self._generate(major), on_result=shown, on_error=failed, context=self
        )

    def _on_script(self, script: OnboardingScript) -> None:
        self.busy = False
        self._set_script(script)
        self.message.setText(
            "RouterOS 6 has no WireGuard: the site reaches this router at its own address."
            if script.routeros_major == 6
            else "The router comes ONLINE once its tunnel reaches this site."
        )
        self.script_shown.emit(script.text)

    def _on_failed(self, exc: BaseException) -> None:
        self.busy = False
        text = failure_message(exc)
        self.message.setText(text)
        self.failed.emit(text)

    def _set_script(self, script: OnboardingScript | None) -> None:
        self.script = script
        self.view.setPlainText("" if script is None else script.text)
        self.copy_button.setEnabled(script is not None)
        self.save_button.setEnabled(script is not None)

    def copy(self) -> None:
        if self.script is not None:
            QGuiApplication.clipboard().setText(self.script.text)
            self.message.setText("Copied to the clipboard.")

    def _ask_path(self, filename: str) -> str | None:
        path, _filter = QFileDialog.getSaveFileName(
            self, "Save the onboarding script", filename, "RouterOS script (*.rsc)"
        )
        return path or None

    def save_as(self) -> None:
        script = self.script
        if script is None:
            return
        path = self.save_path_chooser(script.filename)
        if path is None:
            return
        text = script.text

        def write() -> str:
            Path(path).write_text(text, encoding="utf-8")
            return path

        self.workers.run(
            write,
            on_result=lambda p: self.message.setText(f"Saved {p}"),
            on_error=self._on_failed,
            context=self,
        )


class RouterCommandDialog(QDialog):
    """Queues one command for the site service and shows its progress and result.

    A sync first asks for a preview (`{"apply": false}`); when there is something to change
    the dialog offers "Apply these changes", which queues `{"apply": true}`. Ticking
    "Re-send the RADIUS secret" previews again with `"resend_secret": true`, and Apply then
    carries it too: RouterOS hides the secret from our API user, so a secret typed over on
    the router by hand is only repaired on request."""

    # The command as last read (ServiceCommandInfo), each time it changes.
    command_changed = Signal(object)
    finished_command = Signal(object)
    failed = Signal(str)

    def __init__(
        self,
        *,
        title: str,
        kind: str,
        queue: Callable[[dict[str, Any]], ServiceCommandInfo],
        read: Callable[[int], ServiceCommandInfo],
        workers: WorkerPool,
        live: LiveUpdates | None,
        service_running: Callable[[], bool | None],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.resize(640, 420)
        self.kind = kind
        self._queue = queue
        self._read = read
        self.workers = workers
        self._service_running = service_running
        self.command: ServiceCommandInfo | None = None
        self.payload: dict[str, Any] = {}
        self.timed_out = False

        heading = QLabel(f"<b>{escape(title)}</b>")
        self.state_label = QLabel("")
        self.state_label.setWordWrap(True)
        self.state_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.result_view = _monospace_view()
        self.apply_button = QPushButton("Apply these changes")
        self.apply_button.setVisible(False)
        self.apply_button.clicked.connect(lambda: self.start(self._sync_payload(apply=True)))
        self.resend_secret = QCheckBox("Re-send the RADIUS secret")
        self.resend_secret.setToolTip(
            "RouterOS does not show the secret to EasyISP, so a secret changed by hand on the "
            "router cannot be noticed. Tick this to write the secret again."
        )
        self.resend_secret.setVisible(kind == "ROUTER_SYNC")
        self.resend_secret.toggled.connect(lambda _on: self.start(self._sync_payload(apply=False)))
        close = QPushButton("Close")
        close.clicked.connect(self.reject)
        buttons = QHBoxLayout()
        buttons.addWidget(self.apply_button)
        buttons.addWidget(self.resend_secret)
        buttons.addStretch()
        buttons.addWidget(close)
        layout = QVBoxLayout(self)
        layout.addWidget(heading)
        layout.addWidget(self.state_label)
        layout.addWidget(self.result_view, 1)
        layout.addLayout(buttons)

        self._timeout = QTimer(self)
        self._timeout.setSingleShot(True)
        self._timeout.setInterval(ANSWER_TIMEOUT_MS)
        self._timeout.timeout.connect(self._on_timeout)
        self._poll = QTimer(self)
        self._poll.setInterval(POLL_MS)
        self._poll.timeout.connect(self._reread)
        self._live = live
        if live is not None:
            live.changed.connect(self._on_live_change)
        self.finished.connect(self._stop_following)

    # Queueing and following -------------------------------------------------------------

    def _sync_payload(self, *, apply: bool) -> dict[str, Any]:
        payload: dict[str, Any] = {"apply": apply}
        if self.resend_secret.isChecked():
            payload["resend_secret"] = True
        return payload

    def start(self, payload: dict[str, Any]) -> None:
        self.payload = dict(payload)
        self.command = None
        self.timed_out = False
        self.apply_button.setVisible(False)
        self.resend_secret.setEnabled(False)  # one command at a time
        self.result_view.setPlainText("")
        self.state_label.setText("Queueing the command for the site service…")
        queue = self._queue
        self.workers.run(
            lambda: queue(payload), on_result=self._on_queued, on_error=self._on_failed
        )

    def _on_queued(self, command: ServiceCommandInfo) -> None:
        self._show(command)
        self._timeout.start()
        if self._live is None:
            self._poll.start()

    def _on_live_change(self, change: LiveChange) -> None:
        if (
            change.table == "service_commands"
            and self.command is not None
            and change.id == str(self.command.id)
        ):
            self._reread()

    def _reread(self) -> None:
        if self.command is None:
            return
        read, command_id = self._read, self.command.id
        self.workers.run(
            lambda: read(command_id), on_result=self._on_read, on_error=self._on_failed
        )

    def _on_read(self, command: ServiceCommandInfo) -> None:
        if self.command is None or command.id != self.command.id:
            return  # an answer about the preview after "Apply" was queued
        self._show(command)

    def _show(self, command: ServiceCommandInfo) -> None:
        self.command = command
        if command.status == "QUEUED":
            state = "Queued: waiting for the site service to pick it up…"
            if self.timed_out:
                state = self._timeout_text()
        elif command.status == "RUNNING":
            state = "Running on the site service…"
        elif command.status == "DONE":
            state = self._done_text(command)
        else:
            state = "Failed: the site service reports:"
        self.state_label.setText(state)
        self.result_view.setPlainText(command.result or "")
        if command.finished:
            self._stop_following()
            self.apply_button.setVisible(self._offers_apply(command))
            self.resend_secret.setEnabled(True)
            self.finished_command.emit(command)
        elif command.status == "RUNNING":
            self._timeout.stop()  # the service answered; it has its own router timeouts
        self.command_changed.emit(command)

    def _done_text(self, command: ServiceCommandInfo) -> str:
        if self.kind != "ROUTER_SYNC" or command.payload.get("apply") is not False:
            return "Done."
        if (command.result or "").strip() == NOTHING_TO_CHANGE:
            return "The router already matches the database."
        return "The router differs from the database; nothing has been changed yet:"

    def _offers_apply(self, command: ServiceCommandInfo) -> bool:
        return (
            self.kind == "ROUTER_SYNC"
            and command.status == "DONE"
            and command.payload.get("apply") is False
            and (command.result or "").strip() != NOTHING_TO_CHANGE
        )

    def _on_timeout(self) -> None:
        if self.command is not None and self.command.status == "QUEUED":
            self.timed_out = True
            self.state_label.setText(self._timeout_text())

    def _timeout_text(self) -> str:
        seconds = ANSWER_TIMEOUT_MS // 1000
        running = self._service_running()
        if running is False:
            return (
                f"No answer after {seconds} s: the site service is not running, so nothing "
                "can reach the router. Start it on the site server (`easyisp service`); the "
                "command stays queued and runs then."
            )
        return (
            f"No answer after {seconds} s: no site service has picked this command up yet. "
            "It stays queued; the result appears here when the service runs it."
        )

    def _on_failed(self, exc: BaseException) -> None:
        self._stop_following()
        self.resend_secret.setEnabled(True)
        text = failure_message(exc)
        self.state_label.setText(text)
        self.failed.emit(text)

    def _stop_following(self, *_args: object) -> None:
        self._timeout.stop()
        self._poll.stop()
