"""A table model over a keyset-paged list query: lazy pages, server-side sort and filter.

Every read runs in a Worker; the model only shows what comes back. A new sort or filter
starts a new "generation": the running query is cancelled (in the worker and on the server)
and whatever it still delivers is ignored. The rows on screen stay until the new first page
replaces them, so typing never flashes an empty table.

Rows held are capped (`max_rows`): scrolling far down keeps the row count growing, but the
pages far from what is shown are dropped, keeping only the row before each page (its keyset
anchor). A dropped page that comes back into view is read again from its anchor.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
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
from easyisp_desktop.framework.cancellable import CancellableWork
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
class _Slot:
    """One page of rows: held, or dropped and read again from `anchor` when shown."""

    # The row just before this page (None: the first page); the keyset to read it again.
    anchor: Any
    rows: list[Any] | None
    # Each row's formatted cells, filled in when first painted.
    texts: list[tuple[str, ...] | None] | None


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
        max_rows: int = 10_000,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.columns = tuple(columns)
        self.source = source
        self.workers = workers
        self.page_size = page_size
        first_sortable = next(c.sort_key for c in self.columns if c.sort_key is not None)
        self._query = TableQuery(sort=default_sort or first_sortable)
        # At least the pages a screen shows plus one either side stay held.
        self.max_pages = max(3, max_rows // page_size)
        self._slots: list[_Slot] = []
        self._held: set[int] = set()
        self._row_count = 0
        # The last row read in order: where the next page starts.
        self._tail: Any = None
        # The page painted last (data() was asked about it); far pages are dropped first.
        self._focus = 0
        # Dropped pages that were painted, waiting to be read again; one read at a time.
        self._wanted: set[int] = set()
        self._rereading: CancellableWork | None = None
        # Changes with every new first page: a re-read of an older query is ignored.
        self._epoch = 0
        self._reread_timer = QTimer(self)
        self._reread_timer.setSingleShot(True)
        self._reread_timer.setInterval(0)
        self._reread_timer.timeout.connect(self._reread_next)
        self._count: RowCount | None = None
        self._token: Any = None
        self._has_more = False
        self._generation = 0
        self._running: CancellableWork | None = None
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
        """Every row in order; None for one whose page is dropped (not held now)."""
        shown: list[Any] = []
        for number, slot in enumerate(self._slots):
            size = min(self.page_size, self._row_count - number * self.page_size)
            rows = (slot.rows or [])[:size]
            shown.extend(rows)
            shown.extend([None] * (size - len(rows)))
        return tuple(shown)

    @property
    def held_rows(self) -> int:
        return sum(len(self._slots[i].rows or ()) for i in self._held)

    def row_object(self, row: int) -> Any:
        """The row's object, or None when its page is dropped (it is read again if shown)."""
        if not 0 <= row < self._row_count:
            raise IndexError(row)
        slot = self._slots[row // self.page_size]
        rows = slot.rows
        offset = row % self.page_size
        return None if rows is None or offset >= len(rows) else rows[offset]

    def column_index(self, key: str) -> int:
        return next(i for i, c in enumerate(self.columns) if c.key == key)

    # Qt model interface ----------------------------------------------------------------

    def rowCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008, N802
        return 0 if parent.isValid() else self._row_count

    def columnCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008, N802
        return 0 if parent.isValid() else len(self.columns)

    def data(self, index: AnyIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        role = role if isinstance(role, int) else role.value
        if role not in _ANSWERED or not index.isValid():
            return None
        number = index.row()
        if number >= self._row_count:
            return None
        if role == _ALIGNMENT:
            return self.columns[index.column()].alignment
        page, offset = divmod(number, self.page_size)
        self._focus = page
        slot = self._slots[page]
        rows, formatted = slot.rows, slot.texts
        if rows is None or formatted is None:
            self._want(page)
            return None
        if offset >= len(rows):
            return None  # a page read again came back shorter (rows deleted meanwhile)
        if role == _DISPLAY:
            return self._texts(rows, formatted, offset)[index.column()]
        column = self.columns[index.column()]
        row = rows[offset]
        if role == _OBJECT:
            return row
        if role == _FOREGROUND:
            return None if column.foreground is None else column.foreground(column.value(row))
        if role == _TOOLTIP:
            return None if column.tooltip is None else (column.tooltip(column.value(row)) or None)
        return column.value(row)

    def _texts(
        self, rows: list[Any], formatted: list[tuple[str, ...] | None], offset: int
    ) -> tuple[str, ...]:
        """A row's formatted cells, formatted once (a repaint asks for them again and again)."""
        texts = formatted[offset]
        if texts is None:
            row = rows[offset]
            texts = tuple(c.formatter(c.value(row)) for c in self.columns)
            formatted[offset] = texts
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
        query, last, token = self._query, self._tail, self._token
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
        self._cancel_reread()

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
        self._running = CancellableWork(worker, canceller)
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
        self._cancel_reread()
        self._epoch += 1
        rows = list(page.rows)
        self.beginResetModel()
        self._slots = [_Slot(None, rows, [None] * len(rows))] if rows else []
        self._held = {0} if rows else set()
        self._row_count = len(rows)
        self._tail = rows[-1] if rows else None
        self._focus = 0
        self._token = page.token
        self._count = page.count
        self._has_more = len(rows) >= self.page_size
        self.endResetModel()
        self.count_changed.emit(page.count)
        self.page_loaded.emit()

    def _on_more(self, rows: Sequence[Any]) -> None:
        self._has_more = len(rows) >= self.page_size
        if rows:
            first, anchor = self._row_count, self._tail
            # Set before the signals: a view (or the model tester) may fetch more from them.
            self._tail = rows[-1]
            self.beginInsertRows(QModelIndex(), first, first + len(rows) - 1)
            self._slots.append(_Slot(anchor, list(rows), [None] * len(rows)))
            self._held.add(len(self._slots) - 1)
            self._row_count += len(rows)
            self.endInsertRows()
            # Scrolling down: what is shown is the page just read, not the one painted last.
            self._focus = len(self._slots) - 1
            self._drop_far_pages()
        self.page_loaded.emit()

    # Holding a window of pages -----------------------------------------------------------

    def _drop_far_pages(self) -> None:
        """Drop the pages farthest from the one shown until at most max_pages are held.

        A dropped page keeps its anchor (one row), so it can be read again in order; its
        rows and formatted cells go (freed by reference counting, no collector pass)."""
        if len(self._held) <= self.max_pages:
            return
        focus = self._focus
        farthest = sorted(self._held, key=lambda page: abs(page - focus), reverse=True)
        for page in farthest[: len(self._held) - self.max_pages]:
            slot = self._slots[page]
            slot.rows = None
            slot.texts = None
            self._held.discard(page)

    def _want(self, page: int) -> None:
        """A dropped page is being painted: read it again soon (not from inside paint)."""
        self._wanted.add(page)
        if self._rereading is None and not self._reread_timer.isActive():
            self._reread_timer.start()

    def _reread_next(self) -> None:
        if self._rereading is not None:
            return
        focus = self._focus
        # Pages scrolled past meanwhile are not read (they are asked for again if shown).
        wanted = [
            page
            for page in self._wanted
            if abs(page - focus) <= 2 and page < len(self._slots) and self._slots[page].rows is None
        ]
        self._wanted.clear()
        if not wanted:
            return
        page = min(wanted, key=lambda p: abs(p - focus))
        self._wanted.update(p for p in wanted if p != page)
        query, anchor, token = self._query, self._slots[page].anchor, self._token
        limit, source, epoch = self.page_size, self.source, self._epoch
        canceller = QueryCanceller()
        worker = Worker(lambda c: source.after(query, anchor, limit, token, c), canceller)
        worker.signals.result.connect(lambda rows: self._on_reread(epoch, page, rows))
        worker.signals.error.connect(lambda exc: self._on_reread_error(epoch, exc))
        self._rereading = CancellableWork(worker, canceller)
        self.workers.start(worker)

    def _on_reread(self, epoch: int, page: int, rows: Sequence[Any]) -> None:
        if epoch != self._epoch:
            return
        self._rereading = None
        slot = self._slots[page]
        if slot.rows is None:
            slot.rows = list(rows[: self.page_size])
            slot.texts = [None] * len(slot.rows)
            self._held.add(page)
            first = page * self.page_size
            last = min(first + self.page_size, self._row_count) - 1
            self.dataChanged.emit(self.index(first, 0), self.index(last, len(self.columns) - 1))
            self._focus = page
            self._drop_far_pages()
        self._reread_next()

    def _on_reread_error(self, epoch: int, exc: BaseException) -> None:
        if epoch != self._epoch:
            return
        self._rereading = None
        self._wanted.clear()
        self.failed.emit(describe_error(exc))

    def _cancel_reread(self) -> None:
        self._reread_timer.stop()
        self._wanted.clear()
        if self._rereading is not None:
            self._rereading.cancel()
            self._rereading = None

    def _on_error(self, generation: int, exc: BaseException) -> None:
        if self._finish(generation):
            self.failed.emit(describe_error(exc))
