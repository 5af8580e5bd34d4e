"""The main window's page list, grouped under section headers (Front desk, Network, …).

Every row is a page, so row n is page n of the window's stack and arrow keys, Home/End and
type-ahead only ever land on pages. A section's header is painted above its first page,
inside that row, and a click on a header selects nothing.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QModelIndex, QPersistentModelIndex, QRect, QSize, Qt
from PySide6.QtGui import (
    QCursor,
    QFont,
    QFontMetrics,
    QHoverEvent,
    QMouseEvent,
    QPainter,
    QPalette,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QListWidget,
    QListWidgetItem,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QWidget,
)

# The header painted above a row (None: the row continues the section above it).
SECTION_ROLE = Qt.ItemDataRole.UserRole + 1
ROW_PADDING = 12  # added to the font height: a comfortable row to click
INDENT = 16  # page titles sit under their header, indented
HEADER_GAP = 10  # space above a header that follows another section

AnyIndex = QModelIndex | QPersistentModelIndex


def header_font(font: QFont) -> QFont:
    result = QFont(font)
    result.setPointSizeF(font.pointSizeF() * 0.85)
    result.setBold(True)
    result.setCapitalization(QFont.Capitalization.AllUppercase)
    result.setLetterSpacing(QFont.SpacingType.PercentageSpacing, 106)
    return result


class _Delegate(QStyledItemDelegate):
    def __init__(self, view: NavigationList) -> None:
        super().__init__(view)
        self._view = view

    def sizeHint(self, option: QStyleOptionViewItem, index: AnyIndex) -> QSize:  # noqa: N802
        base = super().sizeHint(option, index)
        height = QFontMetrics(self._view.font()).height() + ROW_PADDING
        return QSize(base.width() + INDENT, height + self._view.header_height(index.row()))

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: AnyIndex) -> None:
        view = self._view
        header = view.header_height(index.row())
        full: QRect = option.rect
        if header:
            font = header_font(view.font())
            painter.save()
            painter.setFont(font)
            painter.setPen(view.palette().color(QPalette.ColorRole.PlaceholderText))
            text_rect = QRect(full.left() + 8, full.top(), full.width() - 12, header - 2)
            painter.drawText(
                text_rect,
                int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignBottom),
                str(index.data(SECTION_ROLE)),
            )
            painter.restore()
        item = QStyleOptionViewItem(option)
        self.initStyleOption(item, index)
        if header and view.viewport().mapFromGlobal(QCursor.pos()).y() < full.top() + header:
            item.state &= ~QStyle.StateFlag.State_MouseOver  # over the header, not the page
        item.rect = QRect(full.left(), full.top() + header, full.width(), full.height() - header)
        text = item.text
        item.text = ""  # drawn below, indented
        style = view.style()
        style.drawControl(QStyle.ControlElement.CE_ItemViewItem, item, painter, view)
        selected = bool(item.state & QStyle.StateFlag.State_Selected)
        group = (
            QPalette.ColorGroup.Active
            if item.state & QStyle.StateFlag.State_Active
            else QPalette.ColorGroup.Inactive
        )
        role = QPalette.ColorRole.HighlightedText if selected else QPalette.ColorRole.Text
        painter.save()
        painter.setPen(view.palette().color(group, role))
        text_rect = item.rect.adjusted(INDENT, 0, -6, 0)
        elided = QFontMetrics(view.font()).elidedText(
            text, Qt.TextElideMode.ElideRight, text_rect.width()
        )
        painter.drawText(
            text_rect, int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter), elided
        )
        painter.restore()


class NavigationList(QListWidget):
    """Pages in sections: `add_page(title, section)` starts a header when the section changes."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setItemDelegate(_Delegate(self))
        self.setUniformItemSizes(False)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setFrameShape(QListWidget.Shape.NoFrame)
        # The sidebar sits on the window's colour, the pages' content on the base colour.
        self.viewport().setBackgroundRole(QPalette.ColorRole.Window)
        self.setAutoFillBackground(True)
        self._last_section: str | None = None

    def add_page(self, title: str, section: str) -> QListWidgetItem:
        item = QListWidgetItem(title)
        if section != self._last_section:
            item.setData(SECTION_ROLE, section)
            self._last_section = section
        item.setData(Qt.ItemDataRole.AccessibleDescriptionRole, section)
        item.setToolTip(f"{section} › {title}")
        self.addItem(item)
        return item

    def sections(self) -> list[tuple[str, list[str]]]:
        """The headers and the page titles under each, top to bottom."""
        grouped: list[tuple[str, list[str]]] = []
        for row in range(self.count()):
            item = self.item(row)
            section = item.data(SECTION_ROLE)
            if section is not None:
                grouped.append((str(section), []))
            grouped[-1][1].append(item.text())
        return grouped

    def header_height(self, row: int) -> int:
        """How much of `row` its section header takes (0 for a row without one)."""
        item = self.item(row)
        if item is None or item.data(SECTION_ROLE) is None:
            return 0
        gap = HEADER_GAP if row else 4
        return QFontMetrics(header_font(self.font())).height() + gap + 6

    def header_rect(self, row: int) -> QRect:
        """Where `row`'s header is drawn, in viewport coordinates (empty when it has none)."""
        rect = self.visualItemRect(self.item(row))
        return QRect(rect.left(), rect.top(), rect.width(), self.header_height(row))

    def _on_header(self, event: QMouseEvent) -> bool:
        position = event.position().toPoint()
        index = self.indexAt(position)
        return index.isValid() and self.header_rect(index.row()).contains(position)

    def viewportEvent(self, event: QEvent) -> bool:  # noqa: N802 - Qt override
        # Qt repaints hover per row; a row with a header is repainted as the pointer crosses
        # from its header to its page, so the hover highlight follows the pointer.
        if isinstance(event, QHoverEvent):
            index = self.indexAt(event.position().toPoint())
            if index.isValid() and self.header_height(index.row()):
                self.viewport().update(self.visualRect(index))
        return super().viewportEvent(event)

    # A header is not a page: pressing on it selects nothing.
    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt override
        if self._on_header(event):
            event.accept()
            return
        super().mousePressEvent(event)

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt override
        if self._on_header(event):
            event.accept()
            return
        super().mouseDoubleClickEvent(event)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt override
        if event.buttons() and self._on_header(event):
            event.accept()  # no drag-selecting onto a page from a header
            return
        super().mouseMoveEvent(event)
