"""Pick one customer of the tenant: type a username, name, phone or account number; the
matches load in a worker as you type (the customers table's own source and model)."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QLabel,
    QLineEdit,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from easyisp_desktop.framework.entity_page import PageContext
from easyisp_desktop.framework.table_model import RecordTableModel
from easyisp_desktop.views.customers import COLUMNS, CustomerSource

# Enough to tell customers apart; the rest of the customers table is noise here.
PICKER_COLUMNS = tuple(
    c for c in COLUMNS if c.key in ("full_name", "username", "phone", "account_number")
)


class CustomerPicker(QDialog):
    """accepted → `chosen` holds the CustomerRow picked."""

    picked = Signal(object)

    def __init__(self, context: PageContext, intro: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Choose the customer")
        self.setWindowModality(Qt.WindowModality.WindowModal)
        self.chosen: Any | None = None
        self.model = RecordTableModel(
            PICKER_COLUMNS,
            CustomerSource(context.sessions, context.tenant_id),
            context.workers,
            default_sort="full_name",
            parent=self,
        )
        self.search_box = QLineEdit()
        self.search_box.setPlaceholderText("Username, name, phone or account number")
        self.search_box.setClearButtonEnabled(True)
        self.search_box.textChanged.connect(self.model.set_filter_text)
        self.search_box.returnPressed.connect(self.model.apply_filter_now)
        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.verticalHeader().setVisible(False)
        self.table.doubleClicked.connect(lambda _index: self.accept())
        self.status = QLabel("")
        self.model.failed.connect(self.status.setText)
        self.model.count_changed.connect(self._show_count)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.ok_button = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.ok_button.setText("Assign")
        self.ok_button.setEnabled(False)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        self.table.selectionModel().selectionChanged.connect(self._selection_changed)
        self.model.modelReset.connect(self._selection_changed)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel(intro))
        layout.addWidget(self.search_box)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.status)
        layout.addWidget(self.buttons)
        self.resize(640, 420)
        self.model.refresh()

    def select_row(self, row: int) -> None:
        self.table.selectRow(row)

    def _current(self) -> Any | None:
        selected = self.table.selectionModel().selectedRows()
        if not selected or selected[0].row() >= self.model.rowCount():
            return None
        return self.model.row_object(selected[0].row())

    def _selection_changed(self, *_args: object) -> None:
        self.ok_button.setEnabled(self._current() is not None)

    def _show_count(self, count: object) -> None:
        self.status.setText("" if count is None else f"{getattr(count, 'value', count)} found")

    def accept(self) -> None:
        row = self._current()
        if row is None:
            return
        self.chosen = row
        super().accept()
        self.picked.emit(row)
