"""The page every entity list shares: search box, table, column chooser, count and CSV export.

An entity module only declares its columns and its ListSource (see views/customers.py).
The page loads its first rows when it is first shown, never on the GUI thread.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial
from pathlib import Path
from typing import Any

from PySide6.QtCore import QByteArray, QPoint, QSettings, Qt, Signal
from PySide6.QtGui import QKeySequence, QShortcut, QShowEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMenu,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from easyisp_core.repositories.customer_list import RowCount
from easyisp_core.repositories.query_cancel import QueryCanceller
from easyisp_desktop.framework.cancellable import CancellableWork
from easyisp_desktop.framework.csv_export import export_csv
from easyisp_desktop.framework.errors import describe_error
from easyisp_desktop.framework.table_model import Column, ListSource, RecordTableModel
from easyisp_desktop.framework.worker import Worker, WorkerPool


class TablePage(QWidget):
    export_finished = Signal(str, int)  # path, rows written
    export_failed = Signal(str)

    def __init__(
        self,
        *,
        title: str,
        columns: Sequence[Column],
        source: ListSource,
        workers: WorkerPool,
        settings: QSettings,
        settings_key: str,
        nouns: tuple[str, str] = ("row", "rows"),
        default_sort: str | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.title = title
        self.nouns = nouns
        self.workers = workers
        self._settings = settings
        self._header_key = f"tables/{settings_key}/header"
        self._export: CancellableWork | None = None
        self.model = RecordTableModel(
            columns, source, workers, default_sort=default_sort, parent=self
        )

        self.search_box = QLineEdit()
        self.search_box.setPlaceholderText("Search (Ctrl+F)")
        self.search_box.setClearButtonEnabled(True)
        self.search_box.textChanged.connect(self.model.set_filter_text)
        self.search_box.returnPressed.connect(self.model.apply_filter_now)
        find = QShortcut(QKeySequence(QKeySequence.StandardKey.Find), self)
        find.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        find.activated.connect(self.focus_search)

        self.count_label = QLabel("")
        self.status_label = QLabel("")
        self.export_button = QPushButton("Export CSV…")
        self.export_button.clicked.connect(self._choose_export_file)
        self.cancel_export_button = QPushButton("Cancel export")
        self.cancel_export_button.setVisible(False)
        self.cancel_export_button.clicked.connect(self.cancel_export)

        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setAlternatingRowColors(True)
        self.table.setWordWrap(False)
        self.table.verticalHeader().setVisible(False)
        # Fixed row heights: Qt never measures a million rows.
        self.table.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        header = self.table.horizontalHeader()
        header.setSectionsMovable(True)
        # Empty space stays at the right rather than stretching the last column (a balance).
        header.setStretchLastSection(False)
        sort_column = next(i for i, c in enumerate(columns) if c.sort_key == self.model.query.sort)
        header.setSortIndicator(sort_column, Qt.SortOrder.AscendingOrder)
        self.table.setSortingEnabled(True)
        for index, column in enumerate(columns):
            header.setSectionHidden(index, not column.visible)
        self._fitted = self._restore_header()
        header.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        header.customContextMenuRequested.connect(self._show_column_menu)
        header.sectionResized.connect(self._save_header)
        header.sectionMoved.connect(self._save_header)

        self.model.count_changed.connect(self._show_count)
        self.model.page_loaded.connect(self._fit_columns_once)
        self.model.failed.connect(self._show_error)
        self.model.loading_changed.connect(self._show_loading)

        top = QHBoxLayout()
        top.addWidget(QLabel(f"<b>{title}</b>"))
        top.addWidget(self.search_box, 1)
        top.addWidget(self.export_button)
        top.addWidget(self.cancel_export_button)
        bottom = QHBoxLayout()
        bottom.addWidget(self.count_label)
        bottom.addStretch()
        bottom.addWidget(self.status_label)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.table, 1)
        layout.addLayout(bottom)
        self._shown_once = False

    # Loading and searching --------------------------------------------------------------

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802 - Qt override
        super().showEvent(event)
        if not self._shown_once:
            self._shown_once = True
            self.model.refresh()

    def selected_row(self) -> Any | None:
        """The selected row's object (else the current row's), None when none is loaded."""
        index = self.table.currentIndex()
        selected = self.table.selectionModel().selectedRows()
        if selected:
            index = selected[0]
        if not index.isValid() or index.row() >= self.model.rowCount():
            return None
        return self.model.row_object(index.row())

    def focus_search(self) -> None:
        self.search_box.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.search_box.selectAll()

    def visible_columns(self) -> list[Column]:
        header = self.table.horizontalHeader()
        order = sorted(
            (header.visualIndex(i), i)
            for i in range(len(self.model.columns))
            if not header.isSectionHidden(i)
        )
        return [self.model.columns[i] for _visual, i in order]

    def set_column_visible(self, index: int, visible: bool) -> None:
        header = self.table.horizontalHeader()
        shown = len(self.visible_columns())
        if not visible and shown <= 1:
            return  # the table keeps at least one column
        header.setSectionHidden(index, not visible)
        self._save_header()

    def _show_count(self, count: RowCount) -> None:
        singular, plural = self.nouns
        noun = singular if count.value == 1 else plural
        if count.exact:
            self.count_label.setText(f"{count.value:,} {noun}")
        else:
            self.count_label.setText(f"about {count.value:,} {noun}")

    def _show_loading(self, loading: bool) -> None:
        if self._export is None:
            self.status_label.setText("Loading…" if loading else "")

    def _show_error(self, message: str) -> None:
        self.status_label.setText(message)

    # Column chooser and widths ----------------------------------------------------------

    def _show_column_menu(self, position: QPoint) -> None:
        menu = self.column_menu()
        menu.exec(self.table.horizontalHeader().mapToGlobal(position))

    def column_menu(self) -> QMenu:
        menu = QMenu(self)
        header = self.table.horizontalHeader()
        for index, column in enumerate(self.model.columns):
            action = menu.addAction(column.header)
            action.setCheckable(True)
            action.setChecked(not header.isSectionHidden(index))
            action.toggled.connect(partial(self.set_column_visible, index))
        return menu

    def _save_header(self, *_args: object) -> None:
        self._settings.setValue(self._header_key, self.table.horizontalHeader().saveState())

    def _restore_header(self) -> bool:
        """Put back the user's column widths and order; False when there are none yet."""
        state = self._settings.value(self._header_key)
        if isinstance(state, QByteArray | bytes):
            return bool(self.table.horizontalHeader().restoreState(QByteArray(state)))
        return False

    def _fit_columns_once(self) -> None:
        # First time ever: size the columns to the first page's contents (a hundred rows, not
        # the whole table); from then on the user's own widths are remembered.
        if not self._fitted and self.model.rowCount() > 0:
            self._fitted = True
            self.table.resizeColumnsToContents()

    # Export -----------------------------------------------------------------------------

    def _choose_export_file(self) -> None:
        name, _filter = QFileDialog.getSaveFileName(
            self, f"Export {self.title}", f"{self.title.lower()}.csv", "CSV files (*.csv)"
        )
        if name:
            self.export_to(Path(name))

    def export_to(self, path: Path) -> Worker:
        """Export every row matching the current search, in a worker, with progress."""
        columns = self.visible_columns()
        source, query = self.model.source, self.model.query
        canceller = QueryCanceller()

        def work(worker: Worker) -> int:
            return export_csv(worker, source, query, columns, path, canceller=canceller)

        worker = Worker.controlled(work)
        worker.signals.progress.connect(lambda _done, line: self.status_label.setText(line))
        worker.signals.result.connect(lambda rows: self._export_done(path, rows))
        worker.signals.error.connect(self._export_error)
        worker.signals.finished.connect(self._export_ended)
        self._export = CancellableWork(worker, canceller)
        self.export_button.setEnabled(False)
        self.cancel_export_button.setVisible(True)
        self.status_label.setText("Exporting…")
        return self.workers.start(worker)

    def cancel_export(self) -> None:
        if self._export is not None:
            self._export.cancel()  # the page's query stops on the server too
            self.status_label.setText("Export cancelled")

    def _export_done(self, path: Path, rows: int) -> None:
        self.status_label.setText(f"Exported {rows:,} rows to {path.name}")
        self.export_finished.emit(str(path), rows)

    def _export_error(self, exc: BaseException) -> None:
        message = describe_error(exc)
        self.status_label.setText(message)
        self.export_failed.emit(message)

    def _export_ended(self) -> None:
        self._export = None
        self.export_button.setEnabled(True)
        self.cancel_export_button.setVisible(False)
