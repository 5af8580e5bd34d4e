"""The customer workspace window: header, history tabs and the front-desk actions.

Every read and write runs in a worker through easyisp_core services; the window only shows
results. Action buttons appear only with the permission, and the database refuses the write
anyway. Esc closes the window."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtPrintSupport import QPrintDialog, QPrinter
from PySide6.QtWidgets import (
    QDialog,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QTableView,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)
from sqlalchemy.orm import Session, sessionmaker

from easyisp_core.crypto import SecretBox
from easyisp_core.db.engine import session_scope
from easyisp_core.errors import ValidationFailed
from easyisp_core.services import customer_actions as actions
from easyisp_core.services.customer_actions import Receipt
from easyisp_core.services.customer_removal import delete_customer, why_not_deletable
from easyisp_core.services.customer_workspace import CustomerProfile, package_choices
from easyisp_core.services.mpesa_status import StatusQuestion, ask_status
from easyisp_core.services.secrets import reveal_customer_password
from easyisp_desktop.framework.entity_page import ask
from easyisp_desktop.framework.errors import describe_error
from easyisp_desktop.framework.live_updates import LiveChange, LiveUpdates
from easyisp_desktop.framework.theme import Tone, set_tone
from easyisp_desktop.framework.worker import WorkerPool
from easyisp_desktop.workspace import dialogs, tabs
from easyisp_desktop.workspace.formatting import kes, moment, time_left
from easyisp_desktop.workspace.history_model import HistoryModel
from easyisp_desktop.workspace.loading import WorkspaceData, load_workspace
from easyisp_desktop.workspace.site_key import default_secret_box

# Several notifications in a burst (a payment and its ledger row) cause one re-read.
LIVE_DEBOUNCE_MS = 150

# action -> (button text, permission)
ACTIONS: dict[str, tuple[str, str]] = {
    "edit": ("Edit profile", "customers.write"),
    "package": ("Change package", "customers.write"),
    "payment": ("Take payment", "payments.create"),
    # Same permission as taking a payment: the answer may credit the customer.
    "check_receipt": ("Check an M-Pesa receipt…", "payments.create"),
    "top_up": ("Top up wallet", "wallet.adjust"),
    "suspend": ("Suspend", "customers.write"),
    "disconnect": ("Disconnect now", "sessions.disconnect"),
    "reset_mac": ("Reset MAC", "customers.write"),
    "reveal": ("Reveal password", "customers.password.reveal"),
    "delete": ("Delete", "customers.delete"),
}

TABS = (
    ("ledger", "Wallet", tabs.LEDGER),
    ("payments", "Payments", tabs.PAYMENTS),
    ("mpesa_checks", "M-Pesa checks", tabs.MPESA_CHECKS),
    ("sessions", "Sessions", tabs.SESSIONS),
    ("invoices", "Invoices", tabs.INVOICES),
    ("commands", "Commands", tabs.COMMANDS),
    ("audit", "Audit trail", tabs.AUDIT),
)

PROFILE_FIELDS = (
    ("account_number", "Account no."),
    ("username", "Username"),
    ("phone", "Phone"),
    ("email", "Email"),
    ("id_number", "ID number"),
    ("address", "Address"),
    ("connection_type", "Connection"),
    ("mac_address", "Bound MAC"),
    ("static_ip", "Static IP"),
    ("notes", "Notes"),
)


class CustomerWorkspace(QWidget):
    loaded = Signal(object)  # WorkspaceData
    action_done = Signal(str)  # action name
    action_failed = Signal(str, str)  # action name, message
    receipt_saved = Signal(str)  # path
    receipt_printed = Signal(str)  # receipt number
    deleted = Signal(str)  # the customer's name; the window closes

    def __init__(
        self,
        sessions: sessionmaker[Session],
        workers: WorkerPool,
        customer_id: uuid.UUID,
        *,
        permissions: frozenset[str] | None = None,
        secret_box: Callable[[], SecretBox] = default_secret_box,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent, Qt.WindowType.Window)
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose, False)
        self.setWindowTitle("Customer")
        self.sessions = sessions
        self.workers = workers
        self.customer_id = customer_id
        self.permissions = permissions
        self._secret_box = secret_box
        self.data: WorkspaceData | None = None
        self.last_receipt: Receipt | None = None
        self.revealed_password: str | None = None
        # Where a receipt is saved or printed; tests replace the dialogs with a fixed path
        # and a PDF-file printer.
        self.choose_receipt_path: Callable[[str], Path | None] = self._ask_receipt_path
        self.choose_printer: Callable[[], QPrinter | None] = self._ask_printer
        self._loading = False
        self._reload_again = False
        self.dialog: dialogs.FieldDialog | None = None
        # A yes/no question; tests replace it to answer without a modal loop.
        self.confirm: Callable[[str, str], bool] = lambda t, q: ask(self, t, q)
        self.is_deleted = False

        self.title = QLabel("Loading…")
        self.title.setStyleSheet("font-size: 16pt; font-weight: 600;")
        self.title.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.header = {key: QLabel("—") for key in ("status", "package", "expiry", "wallet")}
        header_row = QHBoxLayout()
        for key, caption in (
            ("status", "Status"),
            ("package", "Package"),
            ("expiry", "Expires"),
            ("wallet", "Wallet"),
        ):
            box = QVBoxLayout()
            label = QLabel(caption)
            label.setStyleSheet("color: palette(placeholder-text);")
            box.addWidget(label)
            self.header[key].setStyleSheet("font-size: 11pt; font-weight: 600;")
            self.header[key].setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            box.addWidget(self.header[key])
            header_row.addLayout(box)
            header_row.addSpacing(24)
        header_row.addStretch()

        self.buttons: dict[str, QPushButton] = {}
        action_row = QHBoxLayout()
        for name, (text, _permission) in ACTIONS.items():
            button = QPushButton(text)
            button.setVisible(False)
            button.clicked.connect(getattr(self, f"act_{name}"))
            self.buttons[name] = button
            action_row.addWidget(button)
        # The receipt of the payment selected on the Payments tab, else of the one just taken.
        self.print_receipt_button = QPushButton("Print receipt…")
        self.print_receipt_button.setVisible(False)
        self.print_receipt_button.clicked.connect(self.print_receipt)
        action_row.addWidget(self.print_receipt_button)
        self.save_receipt_button = QPushButton("Save receipt…")
        self.save_receipt_button.setVisible(False)
        self.save_receipt_button.clicked.connect(self.save_receipt)
        action_row.addWidget(self.save_receipt_button)
        action_row.addStretch()

        self.message = QLabel()
        self.message.setWordWrap(True)
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.message.hide()

        self.tabs = QTabWidget()
        self.profile_values = {key: QLabel() for key, _ in PROFILE_FIELDS}
        self.password_value = QLabel("hidden")
        profile_page = QWidget()
        form = QFormLayout(profile_page)
        for key, caption in PROFILE_FIELDS:
            self.profile_values[key].setTextInteractionFlags(
                Qt.TextInteractionFlag.TextSelectableByMouse
            )
            self.profile_values[key].setWordWrap(True)
            form.addRow(f"{caption}:", self.profile_values[key])
        self.password_value.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        form.addRow("PPPoE password:", self.password_value)
        self.tabs.addTab(profile_page, "Profile")
        self.models: dict[str, HistoryModel] = {}
        self.views: dict[str, QTableView] = {}
        for key, caption, columns in TABS:
            model = HistoryModel(columns, self)
            view = QTableView()
            view.setModel(model)
            view.setSelectionBehavior(QTableView.SelectionBehavior.SelectRows)
            view.verticalHeader().hide()
            view.horizontalHeader().setStretchLastSection(True)
            view.setAlternatingRowColors(True)
            self.models[key] = model
            self.views[key] = view
            self.tabs.addTab(view, caption)
            self.tabs.setTabVisible(self.tabs.count() - 1, False)

        layout = QVBoxLayout(self)
        layout.addWidget(self.title)
        layout.addLayout(header_row)
        layout.addLayout(action_row)
        layout.addWidget(self.message)
        layout.addWidget(self.tabs, 1)

        escape = QShortcut(QKeySequence(Qt.Key.Key_Escape), self)
        escape.activated.connect(self.close)
        self._live_timer = QTimer(self)
        self._live_timer.setSingleShot(True)
        self._live_timer.setInterval(LIVE_DEBOUNCE_MS)
        self._live_timer.timeout.connect(self.reload)
        self.resize(1100, 640)

    # Loading ---------------------------------------------------------------------------

    def reload(self) -> None:
        if self.is_deleted:
            return
        if self._loading:
            self._reload_again = True
            return
        self._loading = True
        self.workers.run(
            partial(load_workspace, self.sessions, self.customer_id, self.permissions),
            on_result=self._on_loaded,
            on_error=self._on_load_failed,
        )

    def follow(self, live: LiveUpdates) -> None:
        """Re-read when a payment, session or command of this customer changes."""
        live.changed.connect(self._on_live_change)

    def stop_following(self, live: LiveUpdates) -> None:
        self._live_timer.stop()
        live.changed.disconnect(self._on_live_change)

    def _on_live_change(self, change: LiveChange) -> None:
        if change.customer_id == self.customer_id:
            self._live_timer.start()

    def _on_loaded(self, data: WorkspaceData) -> None:
        self._loading = False
        self.data = data
        self.permissions = data.permissions
        self._show(data)
        self.loaded.emit(data)
        if self._reload_again:
            self._reload_again = False
            self.reload()

    def _on_load_failed(self, exc: BaseException) -> None:
        self._loading = False
        self.show_message(describe_error(exc), error=True)

    def _show(self, data: WorkspaceData) -> None:
        p = data.profile
        self.setWindowTitle(f"{p.full_name} — {p.account_number}")
        self.title.setText(f"{p.full_name}  ·  {p.account_number}")
        self.header["status"].setText(p.status.capitalize())
        self.header["package"].setText(
            f"{p.package_name} ({kes(p.package_price)})" if p.package_name else "No package"
        )
        left = time_left(p.expires_at, data.read_at) if data.read_at else ""
        self.header["expiry"].setText(
            f"{moment(p.expires_at)} ({left})" if p.expires_at else "No expiry set"
        )
        self.header["wallet"].setText(kes(p.wallet_balance))
        for key, _caption in PROFILE_FIELDS:
            value = getattr(p, key)
            self.profile_values[key].setText("—" if value in (None, "") else str(value))
        for name, (_text, permission) in ACTIONS.items():
            self.buttons[name].setVisible(permission in data.permissions)
        self.buttons["suspend"].setText("Reactivate" if p.status == "SUSPENDED" else "Suspend")
        self.buttons["reset_mac"].setEnabled(p.mac_address is not None)
        self.buttons["delete"].setToolTip(
            why_not_deletable(p.full_name, data.history)
            if data.history
            else "Delete a customer registered by mistake"
        )
        for index, (key, _caption, _columns) in enumerate(TABS, start=1):
            rows = data.tabs.get(key)
            self.tabs.setTabVisible(index, rows is not None)
            self.models[key].set_rows(rows or [])
        for view in self.views.values():
            view.resizeColumnsToContents()
        self._show_receipt_buttons()

    @property
    def profile(self) -> CustomerProfile | None:
        return None if self.data is None else self.data.profile

    def show_message(self, text: str, *, error: bool = False) -> None:
        set_tone(self.message, Tone.ERROR if error else None)
        self.message.setText(text)
        self.message.setVisible(bool(text))

    # Running actions -------------------------------------------------------------------

    def _run(
        self,
        name: str,
        work: Callable[[Session], Any],
        on_done: Callable[[Any], None] | None = None,
        dialog: dialogs.FieldDialog | None = None,
    ) -> None:
        """Run `work` in one unit of work on a worker; then re-read the workspace."""
        sessions = self.sessions

        def run() -> Any:
            with session_scope(sessions) as session:
                return work(session)

        def done(result: Any) -> None:
            if dialog is not None:
                dialog.accept()
            if on_done is not None:
                on_done(result)
            self.action_done.emit(name)
            self.reload()

        def failed(exc: BaseException) -> None:
            message = describe_error(exc)
            if dialog is not None and isinstance(exc, ValidationFailed):
                dialog.show_errors(exc.field_errors)
            elif dialog is not None:
                dialog.show_message(message)
            else:
                self.show_message(message, error=True)
            self.action_failed.emit(name, message)

        self.workers.run(run, on_result=done, on_error=failed)

    def _open_dialog(
        self,
        dialog: dialogs.FieldDialog,
        name: str,
        work: Callable[[Session, dict[str, Any]], Any],
        on_done: Callable[[Any], None] | None = None,
    ) -> dialogs.FieldDialog:
        self.dialog = dialog
        dialog.submitted.connect(
            lambda values: self._run(name, lambda s: work(s, values), on_done, dialog)
        )
        dialog.open()
        return dialog

    def act_edit(self) -> None:
        if (p := self.profile) is None:
            return
        customer = self.customer_id
        self._open_dialog(
            dialogs.profile_dialog(p, self),
            "edit",
            lambda s, values: actions.update_profile(s, customer, values),
        )

    def act_package(self) -> None:
        if (p := self.profile) is None:
            return
        customer = self.customer_id

        def show(packages: Any) -> None:
            self._open_dialog(
                dialogs.package_dialog(p, packages, self),
                "package",
                lambda s, values: actions.change_package(s, customer, values["package_id"]),
            )

        sessions = self.sessions

        def read() -> Any:
            with session_scope(sessions) as session:
                return package_choices(session, p.tenant_id)

        self.workers.run(read, on_result=show, on_error=self._on_load_failed)

    def act_payment(self) -> None:
        if (p := self.profile) is None:
            return
        customer = self.customer_id
        self._open_dialog(
            dialogs.payment_dialog(p, self),
            "payment",
            lambda s, values: actions.take_payment(s, customer, values),
            self._on_payment,
        )

    def act_check_receipt(self) -> None:
        """Ask M-Pesa (Transaction Status) about a receipt we do not hold; the site service
        sends the question and its answer credits the customer once."""
        if (p := self.profile) is None:
            return
        customer, tenant = self.customer_id, p.tenant_id

        def ask(session: Session, values: dict[str, Any]) -> StatusQuestion:
            return ask_status(
                session,
                tenant_id=tenant,
                customer_id=customer,
                receipt=values["receipt"],
                origin="console",
            )

        def asked(question: StatusQuestion) -> None:
            self.show_message(
                f"Receipt {question.receipt} is being checked with M-Pesa; "
                "the M-Pesa checks tab shows the answer."
                if question.new
                else f"Receipt {question.receipt} is already being checked with M-Pesa."
            )
            self.tabs.setCurrentWidget(self.views["mpesa_checks"])

        self._open_dialog(dialogs.receipt_check_dialog(p, self), "check_receipt", ask, asked)

    def _on_payment(self, receipt: Receipt) -> None:
        self.last_receipt = receipt
        self._show_receipt_buttons()
        self.show_message(
            f"Payment of {kes(receipt.payment.amount)} recorded, receipt {receipt.number}."
        )
        # The customer is at the counter: offer the printer straight away (Cancel skips).
        self._print(receipt)

    def _show_receipt_buttons(self) -> None:
        has_payments = self.last_receipt is not None or (
            "payments" in self.models and self.models["payments"].rowCount() > 0
        )
        self.print_receipt_button.setVisible(has_payments)
        self.save_receipt_button.setVisible(has_payments)

    def select_payment(self, row: int) -> None:
        """Select a row of the Payments tab (the receipt buttons then act on it)."""
        self.tabs.setCurrentWidget(self.views["payments"])
        self.views["payments"].selectRow(row)

    def print_receipt(self) -> None:
        self._with_receipt(self._print)

    def save_receipt(self) -> None:
        self._with_receipt(self._save)

    def _with_receipt(self, use: Callable[[Receipt], None]) -> None:
        """Run `use` on the receipt of the selected payment (read in a worker), or of the
        payment just taken when none is selected."""
        view = self.views.get("payments")
        selected = view.selectionModel().selectedRows() if view is not None else []
        if view is None or self.tabs.currentWidget() is not view or not selected:
            if self.last_receipt is None:
                self.show_message("Select a payment on the Payments tab first.", error=True)
                return
            use(self.last_receipt)
            return
        payment = self.models["payments"].rows[selected[0].row()]
        customer = self.customer_id

        def read() -> Receipt:
            with session_scope(self.sessions) as session:
                return actions.payment_receipt(session, customer, payment.id)

        self.workers.run(
            read,
            on_result=use,
            on_error=lambda exc: self.show_message(describe_error(exc), error=True),
        )

    def _print(self, receipt: Receipt) -> None:
        printer = self.choose_printer()
        if printer is None:
            return
        from easyisp_desktop.workspace.receipt import print_receipt

        print_receipt(receipt, printer)
        self.show_message(
            f"Receipt {receipt.number} sent to {printer.printerName() or 'the printer'}."
        )
        self.receipt_printed.emit(receipt.number)

    def _save(self, receipt: Receipt) -> None:
        path = self.choose_receipt_path(f"receipt-{receipt.number}.pdf")
        if path is None:
            return
        from easyisp_desktop.workspace.receipt import write_receipt_pdf

        try:
            write_receipt_pdf(receipt, path)
        except OSError as exc:
            self.show_message(f"The receipt could not be saved: {exc}", error=True)
            return
        self.receipt_saved.emit(str(path))

    def _ask_printer(self) -> QPrinter | None:
        printer = QPrinter(QPrinter.PrinterMode.HighResolution)
        dialog = QPrintDialog(printer, self)
        dialog.setWindowTitle("Print the receipt")
        return printer if dialog.exec() == QDialog.DialogCode.Accepted else None

    def _ask_receipt_path(self, suggested: str) -> Path | None:
        chosen, _filter = QFileDialog.getSaveFileName(
            self, "Save the receipt", suggested, "PDF files (*.pdf)"
        )
        return Path(chosen) if chosen else None

    def act_top_up(self) -> None:
        if (p := self.profile) is None:
            return
        customer = self.customer_id
        self._open_dialog(
            dialogs.top_up_dialog(p, self),
            "top_up",
            lambda s, values: actions.top_up_wallet(s, customer, values),
        )

    def act_suspend(self) -> None:
        if (p := self.profile) is None:
            return
        customer, suspend = self.customer_id, p.status != "SUSPENDED"
        self._run("suspend", lambda s: actions.set_suspended(s, customer, suspend))

    def act_reset_mac(self) -> None:
        customer = self.customer_id
        self._run("reset_mac", lambda s: actions.reset_mac_binding(s, customer))

    def act_disconnect(self) -> None:
        customer = self.customer_id
        self._run(
            "disconnect",
            lambda s: actions.disconnect_now(s, customer),
            lambda command: self.show_message(
                f"Disconnect queued for the site service (command {command.id}: {command.status})."
            ),
        )

    def act_reveal(self) -> None:
        customer, box = self.customer_id, self._secret_box

        def work(session: Session) -> str | None:
            return reveal_customer_password(session, box(), customer)

        def show(password: str | None) -> None:
            self.revealed_password = password
            self.password_value.setText(password or "(no password stored)")
            self.tabs.setCurrentIndex(0)

        self._run("reveal", work, show)

    def act_delete(self) -> None:
        """Only a customer with nothing on record (a mistaken registration) is deleted; one
        with payments, wallet entries, invoices or sessions is offered Suspend instead."""
        if (p := self.profile) is None or self.data is None:
            return
        may_suspend = ACTIONS["suspend"][1] in self.data.permissions
        decision, reason = dialogs.decide_delete(
            p.full_name, p.account_number, p.status, self.data.history, may_suspend, self.confirm
        )
        if decision == "suspend":
            self.act_suspend()
        elif decision == "refuse":
            self.show_message(reason, error=True)
        elif decision == "delete":
            customer = self.customer_id
            self._run("delete", lambda s: delete_customer(s, customer), self._on_deleted)

    def _on_deleted(self, name: str) -> None:
        self.is_deleted = True
        self.deleted.emit(name)
        self.close()
