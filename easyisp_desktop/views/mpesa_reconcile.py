"""Reconcile an M-Pesa organisation statement (the portal's CSV) against our payments:
read, parse and compare in a worker (cancellable), then three lists; a receipt the statement
has and we never recorded can be credited (services.mpesa_reconciliation.credit_missing)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QTableView,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from easyisp_core.db.engine import session_scope
from easyisp_core.errors import NotFound
from easyisp_core.repositories.query_cancel import QueryCanceller
from easyisp_core.schemas.mpesa_statement import StatementLine, parse_statement
from easyisp_core.services.mpesa_credit import Credit
from easyisp_core.services.mpesa_reconciliation import (
    Reconciliation,
    credit_missing,
    reconcile,
)
from easyisp_desktop.framework.cancellable import CancellableWork
from easyisp_desktop.framework.entity_page import PageContext, ask
from easyisp_desktop.framework.forms import failure_message
from easyisp_desktop.framework.static_table_model import StaticTableModel
from easyisp_desktop.framework.table_model import RIGHT, Column
from easyisp_desktop.framework.worker import Worker
from easyisp_desktop.views import formatting as fmt
from easyisp_desktop.views.customer_picker import CustomerPicker

LINE_COLUMNS = (
    Column("receipt", "Receipt", fmt.text),
    Column("completed_at", "Completed", fmt.moment),
    Column("paid_in", "Paid in", fmt.kes, alignment=RIGHT),
    Column("account", "A/C No.", fmt.text),
    Column("other_party", "Other party", fmt.text),
)
OURS_COLUMNS = (
    Column("receipt", "Receipt", fmt.text),
    Column("paid_at", "Paid at", fmt.moment),
    Column("amount", "Amount", fmt.kes, alignment=RIGHT),
)


def _read_and_reconcile(
    worker: Worker,
    context: PageContext,
    tenant_id: uuid.UUID,
    path: Path,
    canceller: QueryCanceller,
) -> tuple[list[StatementLine], Reconciliation]:
    worker.report_progress(0, f"Reading {path.name}…")
    text = path.read_text(encoding="utf-8-sig")
    worker.raise_if_cancelled()
    worker.report_progress(30, "Reading the statement lines…")
    lines = parse_statement(text)
    worker.raise_if_cancelled()
    worker.report_progress(60, f"Comparing {len(lines)} receipts with our payments…")
    # Attached: Cancel stops the comparison's queries on the server too.
    with session_scope(context.sessions) as session, canceller.attached(session):
        result = reconcile(session, tenant_id, lines)
    worker.raise_if_cancelled()
    worker.report_progress(100, "Done")
    return lines, result


class ReconcileDialog(QDialog):
    # The comparison is on screen (tests wait for it).
    reconciled = Signal()
    # A missing receipt was credited (the page reloads).
    credited = Signal()
    # Something finished: the line shown under the lists.
    message = Signal(str)

    def __init__(self, context: PageContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        assert context.tenant_id is not None
        self.context = context
        self.tenant_id: uuid.UUID = context.tenant_id
        self.path: Path | None = None
        self.lines: list[StatementLine] = []
        self.outcome: Reconciliation | None = None
        self.worker: Worker | None = None
        self._running: CancellableWork | None = None
        self.confirm: Callable[[str, str], bool] = lambda t, q: ask(self, t, q)
        self.picker: CustomerPicker | None = None
        self.setWindowTitle("Reconcile M-Pesa statement")
        self.setWindowModality(Qt.WindowModality.WindowModal)

        self.file_label = QLabel("Choose the statement exported from the M-Pesa org portal.")
        self.choose_button = QPushButton("Choose CSV file…")
        self.choose_button.clicked.connect(self.choose_file)
        self.progress = QProgressBar()
        self.progress.setRange(0, 100)
        self.progress.setVisible(False)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setVisible(False)
        self.cancel_button.clicked.connect(self.cancel)

        self.matched = StaticTableModel(LINE_COLUMNS, self)
        self.differs = StaticTableModel(
            (*LINE_COLUMNS[:3], Column("ours", "Ours", fmt.kes, alignment=RIGHT)), self
        )
        self.missing = StaticTableModel(LINE_COLUMNS, self)
        self.not_listed = StaticTableModel(OURS_COLUMNS, self)
        self.tabs = QTabWidget()
        self.views: dict[str, QTableView] = {}
        for key, model in (
            ("matched", self.matched),
            ("missing", self.missing),
            ("not_listed", self.not_listed),
            ("differs", self.differs),
        ):
            view = QTableView()
            view.setModel(model)
            view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
            view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
            view.verticalHeader().setVisible(False)
            view.setAlternatingRowColors(True)
            view.setWordWrap(False)
            self.views[key] = view
            self.tabs.addTab(view, "")
        self.views["missing"].selectionModel().selectionChanged.connect(self._update_credit)
        self.credit_button = QPushButton("Credit…")
        self.credit_button.setEnabled(False)
        self.credit_button.clicked.connect(lambda: self.credit_selected())
        self.status = QLabel("")
        self.status.setWordWrap(True)
        self.message.connect(self.status.setText)
        close = QPushButton("Close")
        close.clicked.connect(self.reject)

        top = QHBoxLayout()
        top.addWidget(self.file_label, 1)
        top.addWidget(self.choose_button)
        busy = QHBoxLayout()
        busy.addWidget(self.progress, 1)
        busy.addWidget(self.cancel_button)
        bottom = QHBoxLayout()
        bottom.addWidget(self.status, 1)
        bottom.addWidget(self.credit_button)
        bottom.addWidget(close)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addLayout(busy)
        layout.addWidget(self.tabs, 1)
        layout.addLayout(bottom)
        self._show_counts()
        self.resize(900, 520)

    # Reading the statement ---------------------------------------------------------------

    def choose_file(self) -> None:
        name, _filter = QFileDialog.getOpenFileName(
            self, "M-Pesa statement", "", "CSV files (*.csv);;All files (*)"
        )
        if name:
            self.load_file(Path(name))

    def load_file(self, path: Path) -> Worker:
        """Read, parse and reconcile `path` in a worker; the lists fill when it is done."""
        self.cancel()
        self.path = path
        self.file_label.setText(f"Statement: {path.name}")
        canceller = QueryCanceller()
        worker = Worker.controlled(
            lambda w: _read_and_reconcile(w, self.context, self.tenant_id, path, canceller)
        )
        worker.signals.progress.connect(lambda done, line: self._on_progress(worker, done, line))
        worker.signals.result.connect(self._on_reconciled)
        worker.signals.error.connect(self._on_failed)
        worker.signals.finished.connect(lambda: self._set_busy(False, worker))
        self.worker = worker
        self._running = CancellableWork(worker, canceller)
        self._set_busy(True, worker)
        self.message.emit("Reading…")
        return self.context.workers.start(worker)

    def cancel(self) -> None:
        """Stop reading: the worker stops reporting and the running query stops on the server."""
        if self.worker is not None and self._running is not None:
            self._running.cancel()
            self._set_busy(False, self.worker)
            self.worker = None
            self._running = None
            self.message.emit("Cancelled")

    def _set_busy(self, busy: bool, worker: Worker) -> None:
        if not busy and worker is not self.worker and self.worker is not None:
            return  # an older, cancelled run finishing late
        if not busy:
            self.worker = None
            self._running = None
        self.progress.setVisible(busy)
        self.cancel_button.setVisible(busy)
        self.choose_button.setEnabled(not busy)
        if busy:
            self.progress.setValue(0)

    def _on_progress(self, worker: Worker, done: int, text: str) -> None:
        if worker is not self.worker:
            return  # a cancelled run's last words, queued before the cancel
        self.progress.setValue(done)
        self.status.setText(text)

    def _on_reconciled(self, outcome: tuple[list[StatementLine], Reconciliation]) -> None:
        self.lines, result = outcome
        self.outcome = result
        self.matched.set_rows(result.matched)
        self.differs.set_rows([_Differs(line, ours) for line, ours in result.amount_differs])
        self.missing.set_rows(result.missing_in_ours)
        self.not_listed.set_rows(result.missing_in_statement)
        self._show_counts()
        for view in self.views.values():
            view.resizeColumnsToContents()
        self._update_credit()
        if not self.status.text().startswith(("Credited", "Already")):
            self.message.emit(f"{len(self.lines)} receipts in the statement")
        self.reconciled.emit()

    def _on_failed(self, exc: BaseException) -> None:
        self.message.emit(failure_message(exc))

    def _show_counts(self) -> None:
        titles = (
            f"Matched ({self.matched.rowCount()})",
            f"In the statement, not ours ({self.missing.rowCount()})",
            f"Ours, not in the statement ({self.not_listed.rowCount()})",
            f"Amount differs ({self.differs.rowCount()})",
        )
        for index, title in enumerate(titles):
            self.tabs.setTabText(index, title)
        # Differences are rare; the tab shows only when there are some.
        self.tabs.setTabVisible(3, self.differs.rowCount() > 0)

    # Crediting a missing receipt ---------------------------------------------------------

    def selected_missing(self) -> StatementLine | None:
        rows = self.views["missing"].selectionModel().selectedRows()
        if not rows or rows[0].row() >= self.missing.rowCount():
            return None
        line: StatementLine = self.missing.row_object(rows[0].row())
        return line

    def select_missing(self, row: int) -> None:
        self.tabs.setCurrentIndex(1)
        self.views["missing"].selectRow(row)

    def _update_credit(self, *_args: object) -> None:
        self.credit_button.setEnabled(self.selected_missing() is not None)

    def credit_selected(self) -> None:
        line = self.selected_missing()
        if line is None:
            return
        to = f"account {line.account}" if line.account else "the customer you choose"
        question = f"Credit receipt {line.receipt}, {fmt.kes(line.paid_in)}, to {to}?"
        if self.confirm("Credit M-Pesa receipt", question):
            self.credit(line)

    def credit(self, line: StatementLine, customer_id: uuid.UUID | None = None) -> Worker:
        def work() -> Credit:
            with session_scope(self.context.sessions) as session:
                return credit_missing(session, self.tenant_id, line, datetime.now(UTC), customer_id)

        self.message.emit(f"Crediting {line.receipt}…")
        return self.context.workers.run(
            work,
            on_result=lambda credit: self._on_credited(line, credit),
            on_error=lambda exc: self._on_credit_failed(line, exc),
            context=self,  # closed meanwhile: the credit stands, nothing left to show it in
        )

    def _on_credited(self, line: StatementLine, credit: Credit) -> None:
        if not credit.new:
            self.message.emit(
                f"Already credited: receipt {line.receipt} was recorded before; nothing changed."
            )
        else:
            renewed = (
                f"; package renewed until {fmt.moment(credit.renewed_until)}"
                if credit.renewed_until
                else ""
            )
            self.message.emit(f"Credited {line.receipt}, {fmt.kes(line.paid_in)}{renewed}")
            self.credited.emit()
        if self.path is not None:
            self._recompare()

    def _on_credit_failed(self, line: StatementLine, exc: BaseException) -> None:
        self.message.emit(failure_message(exc))
        if isinstance(exc, NotFound):
            # The A/C No. names nobody: let staff say whose money it is.
            picker = CustomerPicker(
                self.context,
                f"Receipt <b>{line.receipt}</b>, {fmt.kes(line.paid_in)} "
                f"(A/C No. {line.account or 'none'}) names no customer. Whose is it?",
                parent=self,
            )
            picker.picked.connect(lambda customer: self.credit(line, customer.id))
            picker.finished.connect(picker.deleteLater)
            self.picker = picker
            picker.open()

    def _recompare(self) -> None:
        lines = self.lines

        def work() -> tuple[list[StatementLine], Reconciliation]:
            with session_scope(self.context.sessions) as session:
                return lines, reconcile(session, self.tenant_id, lines)

        self.context.workers.run(work, on_result=self._on_reconciled, on_error=self._on_failed)


class _Differs:
    """A statement line whose amount is not the one we recorded."""

    def __init__(self, line: StatementLine, ours: Any) -> None:
        self.receipt = line.receipt
        self.completed_at = line.completed_at
        self.paid_in = line.paid_in
        self.ours = ours
