"""A table model over a keyset-paged list query: lazy pages, server-side sort and filter.

Every read runs in a Worker; the model only shows what comes back. A new sort or filter
starts a new "generation": the running query is cancelled (in the worker and on the server)
and whatever it still delivers is ignored. The rows on screen stay until the new first page
replaces them, so typing never flashes an empty table.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
    QTimer,
    Signal,
)

from easyisp_core.repositories.customer_list import RowCount
from easyisp_core.repositories.query_cancel import QueryCanceller
from easyisp_desktop.framework.errors import describe_error
from easyisp_desktop.framework.worker import Worker, WorkerPool

AnyIndex = QModelIndex | QPersistentModelIndex

LEFT = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter
RIGHT = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter

# The row object (a frozen dataclass) behind every cell of a row.
OBJECT_ROLE = Qt.ItemDataRole.UserRole
# The raw value of a cell, for sorting and comparing (not the formatted text).
SORT_ROLE = Qt.ItemDataRole.UserRole + 1


# data() runs for every role of every visible cell on each paint: compare plain ints (a
# PySide enum comparison costs microseconds) and answer the roles nobody asks for at once.
_DISPLAY = Qt.ItemDataRole.DisplayRole.value
_ALIGNMENT = Qt.ItemDataRole.TextAlignmentRole.value
_OBJECT = OBJECT_ROLE.value
_SORT = SORT_ROLE if isinstance(SORT_ROLE, int) else SORT_ROLE.value
_FOREGROUND = Qt.ItemDataRole.ForegroundRole.value
_TOOLTIP = Qt.ItemDataRole.ToolTipRole.value
_ANSWERED = frozenset({_DISPLAY, _ALIGNMENT, _OBJECT, _SORT, _FOREGROUND, _TOOLTIP})
_ROW_FLAGS = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable


def plain(value: Any) -> str:
    return "" if value is None else str(value)


@dataclass(frozen=True)
class Column:
    """One column: which field of the row it shows, under which header, how."""

    key: str
    header: str
    formatter: Callable[[Any], str] = plain
    alignment: Qt.AlignmentFlag = LEFT
    # The source's name for ordering by this column; None: the column cannot be sorted.
    sort_key: str | None = None
    # Shown until the operator hides it through the column chooser.
    visible: bool = True
    # The text colour for a value (a QColor, or None for the palette's), e.g. a status.
    foreground: Callable[[Any], Any] | None = None
    # A tooltip for a value (the whole text of a column that is often elided).
    tooltip: Callable[[Any], str] | None = None

    @property
    def sortable(self) -> bool:
        return self.sort_key is not None

    def value(self, row: Any) -> Any:
        return getattr(row, self.key)


@dataclass(frozen=True)
class TableQuery:
    sort: str
    descending: bool = False
    text: str = ""


@dataclass(frozen=True)
class Page:
    rows: Sequence[Any]
    count: RowCount
    # Source-specific state that the following pages need (e.g. how to read them).
    token: Any = None


class ListSource(Protocol):
    """Reads pages of a list; called on worker threads only."""

    def first(self, query: TableQuery, limit: int, canceller: QueryCanceller) -> Page: ...

    def after(
        self, query: TableQuery, last: Any, limit: int, token: Any, canceller: QueryCanceller
    ) -> Sequence[Any]: ...


@dataclass
class _Running:
    worker: Worker
    canceller: QueryCanceller = field(default_factory=QueryCanceller)

    def cancel(self) -> None:
        self.worker.cancel()
        # Reaching the server is network I/O: never on the GUI thread.
        threading.Thread(target=self.canceller.cancel, daemon=True).start()


class RecordTableModel(QAbstractTableModel):
    """Rows of a ListSource under `columns`; call refresh() to load the first page."""

    # A page arrived (the first page of a query, or one more).
    page_loaded = Signal()
    # The number of rows matching the query (RowCount), known with its first page.
    count_changed = Signal(object)
    # A read failed: the message for the operator.
    failed = Signal(str)
    loading_changed = Signal(bool)

    def __init__(
        self,
        columns: Sequence[Column],
        source: ListSource,
        workers: WorkerPool,
        *,
        default_sort: str | None = None,
        page_size: int = 100,
        debounce_ms: int = 200,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.columns = tuple(columns)
        self.source = source
        self.workers = workers
        self.page_size = page_size
        first_sortable = next(c.sort_key for c in self.columns if c.sort_key is not None)
        self._query = TableQuery(sort=default_sort or first_sortable)
        self._rows: list[Any] = []
        # Each row's formatted cells, filled in when first painted.
        self._formatted: list[tuple[str, ...] | None] = []
        self._count: RowCount | None = None
        self._token: Any = None
        self._has_more = False
        self._generation = 0
        self._running: _Running | None = None
        self._started = False
        self._interrupted = False
        self._pending_text = ""
        self._debounce = QTimer(self)
        self._debounce.setSingleShot(True)
        self._debounce.setInterval(debounce_ms)
        self._debounce.timeout.connect(self._apply_filter)

    # What is shown ----------------------------------------------------------------------

    @property
    def query(self) -> TableQuery:
        return self._query

    @property
    def count(self) -> RowCount | None:
        return self._count

    @property
    def loading(self) -> bool:
        return self._running is not None

    @property
    def rows(self) -> Sequence[Any]:
        return tuple(self._rows)

    def row_object(self, row: int) -> Any:
        return self._rows[row]

    def column_index(self, key: str) -> int:
        return next(i for i, c in enumerate(self.columns) if c.key == key)

    # Qt model interface ----------------------------------------------------------------

    def rowCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008, N802
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008, N802
        return 0 if parent.isValid() else len(self.columns)

    def data(self, index: AnyIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        role = role if isinstance(role, int) else role.value
        if role not in _ANSWERED or not index.isValid():
            return None
        number = index.row()
        if number >= len(self._rows):
            return None
        if role == _DISPLAY:
            return self._texts(number)[index.column()]
        column = self.columns[index.column()]
        if role == _ALIGNMENT:
            return column.alignment
        row = self._rows[number]
        if role == _OBJECT:
            return row
        if role == _FOREGROUND:
            return None if column.foreground is None else column.foreground(column.value(row))
        if role == _TOOLTIP:
            return None if column.tooltip is None else (column.tooltip(column.value(row)) or None)
        return column.value(row)

    def _texts(self, number: int) -> tuple[str, ...]:
        """A row's formatted cells, formatted once (a repaint asks for them again and again)."""
        texts = self._formatted[number]
        if texts is None:
            row = self._rows[number]
            texts = tuple(c.formatter(c.value(row)) for c in self.columns)
            self._formatted[number] = texts
        return texts

    def headerData(  # noqa: N802
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation != Qt.Orientation.Horizontal or not 0 <= section < len(self.columns):
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return self.columns[section].header
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return self.columns[section].alignment
        return None

    def flags(self, index: AnyIndex) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return _ROW_FLAGS

    def canFetchMore(self, parent: AnyIndex) -> bool:  # noqa: N802
        return not parent.isValid() and self._has_more and self._running is None

    def fetchMore(self, parent: AnyIndex) -> None:  # noqa: N802
        if not self.canFetchMore(parent):
            return
        query, last, token = self._query, self._rows[-1], self._token
        limit = self.page_size
        source = self.source
        self._start(
            lambda canceller: source.after(query, last, limit, token, canceller),
            self._on_more,
        )

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        if not 0 <= column < len(self.columns):
            return
        sort_key = self.columns[column].sort_key
        if sort_key is None:
            return
        self.set_sort(sort_key, descending=order == Qt.SortOrder.DescendingOrder)

    def set_sort(self, sort_key: str, *, descending: bool = False) -> None:
        """Order by the source's `sort_key` (a column's, or one no column shows)."""
        query = replace(self._query, sort=sort_key, descending=descending)
        if query == self._query:
            return
        self._query = query
        if self._started:
            self._reload()

    # Loading ----------------------------------------------------------------------------

    def refresh(self) -> None:
        """(Re)load the first page of the current query, with any filter text typed so far."""
        self._started = True
        self._debounce.stop()
        self._query = replace(self._query, text=self._pending_text)
        self._reload()

    def set_filter_text(self, text: str) -> None:
        """Filter as the operator types: the query runs once typing pauses (debounced)."""
        self._pending_text = text
        if self._running is not None:
            # The running read answers a question nobody asks any more.
            self._cancel_running()
            self._interrupted = True
        self._debounce.start()

    def apply_filter_now(self) -> None:
        self._debounce.stop()
        self._apply_filter()

    def cancel(self) -> None:
        """Stop the running read (at shutdown); the rows shown stay."""
        self._debounce.stop()
        self._cancel_running()

    def _apply_filter(self) -> None:
        if self._pending_text == self._query.text and not self._interrupted:
            return
        self._query = replace(self._query, text=self._pending_text)
        if self._started:
            self._reload()

    def _reload(self) -> None:
        self._interrupted = False
        self._has_more = False
        query, limit, source = self._query, self.page_size, self.source
        self._start(lambda canceller: source.first(query, limit, canceller), self._on_first)

    def _start(self, read: Callable[[QueryCanceller], Any], on_result: Callable[..., None]) -> None:
        self._cancel_running()
        self._generation += 1
        generation = self._generation
        canceller = QueryCanceller()
        worker = Worker(read, canceller)
        worker.signals.result.connect(lambda result: self._accept(generation, on_result, result))
        worker.signals.error.connect(lambda exc: self._on_error(generation, exc))
        self._running = _Running(worker, canceller)
        self.loading_changed.emit(True)
        self.workers.start(worker)

    def _cancel_running(self) -> None:
        if self._running is None:
            return
        self._running.cancel()
        self._running = None
        self._generation += 1
        self.loading_changed.emit(False)

    def _finish(self, generation: int) -> bool:
        """Whether a result belongs to the current read (stale ones are dropped)."""
        if generation != self._generation:
            return False
        self._running = None
        self.loading_changed.emit(False)
        return True

    def _accept(self, generation: int, handler: Callable[[Any], None], result: Any) -> None:
        if self._finish(generation):
            handler(result)

    def _on_first(self, page: Page) -> None:
        self.beginResetModel()
        self._rows = list(page.rows)
        self._formatted = [None] * len(self._rows)
        self._token = page.token
        self._count = page.count
        self._has_more = len(self._rows) >= self.page_size
        self.endResetModel()
        self.count_changed.emit(page.count)
        self.page_loaded.emit()

    def _on_more(self, rows: Sequence[Any]) -> None:
        self._has_more = len(rows) >= self.page_size
        if rows:
            first = len(self._rows)
            self.beginInsertRows(QModelIndex(), first, first + len(rows) - 1)
            self._rows.extend(rows)
            self._formatted.extend([None] * len(rows))
            self.endInsertRows()
            # The rows a table keeps are long-lived. Left to the cyclic collector, every full
            # collection walks all of them on the GUI thread: 175 ms at 100,000 customers.
            # Frozen, they are skipped (plain rows are still freed by reference counting).
            gc.freeze()
        self.page_loaded.emit()

    def _on_error(self, generation: int, exc: BaseException) -> None:
        if self._finish(generation):
            self.failed.emit(describe_error(exc))
