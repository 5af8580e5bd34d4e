"""The dashboard's painted parts: a figure tile, a titled panel and the revenue bar chart.

Everything is drawn from the widget's palette at paint time (no colour is written down
here), so the dashboard follows the light or dark theme, and a theme change, by itself.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import ROUND_CEILING, Decimal

from PySide6.QtCore import QEvent, QPointF, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFont, QFontMetrics, QHelpEvent, QPainter, QPaintEvent, QPalette
from PySide6.QtWidgets import QLabel, QSizePolicy, QToolTip, QVBoxLayout, QWidget

from easyisp_core.services.dashboard import DayRevenue

RADIUS = 6.0
PADDING = 12


def _card(painter: QPainter, widget: QWidget) -> None:
    """The rounded, bordered card every dashboard part sits on."""
    palette = widget.palette()
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setPen(palette.color(QPalette.ColorRole.Mid))
    painter.setBrush(palette.color(QPalette.ColorRole.Base))
    painter.drawRoundedRect(QRectF(widget.rect()).adjusted(0.5, 0.5, -0.5, -0.5), RADIUS, RADIUS)


def muted(palette: QPalette) -> QColor:
    """Secondary text: captions, axis labels (the palette's placeholder colour)."""
    return palette.color(QPalette.ColorRole.PlaceholderText)


def scaled_font(font: QFont, factor: float, *, bold: bool = False) -> QFont:
    result = QFont(font)
    result.setPointSizeF(font.pointSizeF() * factor)
    result.setBold(bold)
    return result


class Tile(QWidget):
    """One headline figure: a caption, the value in large type, and an optional detail line."""

    def __init__(self, caption: str, unit: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.caption = caption
        self.unit = unit  # drawn small before the value ("KES")
        self.value = "—"
        self.detail = ""
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setAccessibleName(caption)

    def set_value(self, value: str, detail: str = "") -> None:
        self.value, self.detail = value, detail
        self.setAccessibleDescription(f"{value} {detail}".strip())
        unit = f"{self.unit} " if self.unit else ""
        self.setToolTip(f"{self.caption}: {unit}{value}" + (f" ({detail})" if detail else ""))
        self.update()

    def _fonts(self) -> tuple[QFont, QFont, QFont]:
        font = self.font()
        return scaled_font(font, 0.95), scaled_font(font, 1.9, bold=True), scaled_font(font, 0.9)

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt override
        caption, value, detail = (QFontMetrics(f) for f in self._fonts())
        height = caption.height() + value.height() + detail.height() + 2 * PADDING + 4
        return QSize(150, height)

    def minimumSizeHint(self) -> QSize:  # noqa: N802 - Qt override
        return QSize(110, self.sizeHint().height())

    def paintEvent(self, _event: QPaintEvent) -> None:  # noqa: N802 - Qt override
        painter = QPainter(self)
        _card(painter, self)
        palette = self.palette()
        caption_font, value_font, detail_font = self._fonts()
        width = self.width() - 2 * PADDING
        y = PADDING
        y = self._line(painter, caption_font, self.caption, muted(palette), y, width)
        value_height = QFontMetrics(value_font).height()
        x = PADDING
        if self.unit:  # "KES" in the caption's size, on the value's baseline
            unit_metrics = QFontMetrics(caption_font)
            painter.setFont(caption_font)
            painter.setPen(muted(palette))
            painter.drawText(x, y + QFontMetrics(value_font).ascent(), self.unit)
            x += unit_metrics.horizontalAdvance(self.unit + " ")
        # A long amount shrinks to fit the tile rather than being cut.
        room = self.width() - PADDING - x
        while value_font.pointSizeF() > self.font().pointSizeF() and (
            QFontMetrics(value_font).horizontalAdvance(self.value) > room
        ):
            value_font.setPointSizeF(value_font.pointSizeF() - 0.5)
        metrics = QFontMetrics(value_font)
        painter.setFont(value_font)
        painter.setPen(palette.color(QPalette.ColorRole.Text))
        baseline = y + QFontMetrics(self._fonts()[1]).ascent()
        painter.drawText(
            x, baseline, metrics.elidedText(self.value, Qt.TextElideMode.ElideRight, room)
        )
        y += value_height + 2
        self._line(painter, detail_font, self.detail, muted(palette), y, width)

    @staticmethod
    def _line(painter: QPainter, font: QFont, text: str, colour: QColor, y: int, width: int) -> int:
        metrics = QFontMetrics(font)
        painter.setFont(font)
        painter.setPen(colour)
        painter.drawText(
            PADDING,
            y + metrics.ascent(),
            metrics.elidedText(text, Qt.TextElideMode.ElideRight, width),
        )
        return y + metrics.height() + 2


class Panel(QWidget):
    """A titled card holding other widgets (the routers list, the chart, …)."""

    def __init__(self, title: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.title = QLabel(title)
        self.title.setFont(scaled_font(self.font(), 1.05, bold=True))
        self.body = QVBoxLayout(self)
        self.body.setContentsMargins(PADDING, PADDING - 2, PADDING, PADDING)
        self.body.setSpacing(6)
        self.body.addWidget(self.title)

    def paintEvent(self, _event: QPaintEvent) -> None:  # noqa: N802 - Qt override
        _card(QPainter(self), self)


def axis_step(top: Decimal, lines: int = 4) -> Decimal:
    """A round gridline step (1, 2 or 5 × 10ⁿ) so `lines` steps reach at least `top`."""
    if top <= 0:
        return Decimal(1)
    rough = top / lines
    magnitude = Decimal(10) ** (len(str(int(rough))) - 1) if rough >= 1 else Decimal(1)
    for factor in (1, 2, 5, 10):
        if magnitude * factor >= rough:
            return magnitude * factor
    return magnitude * 10


def steps_to_reach(top: Decimal, step: Decimal) -> int:
    """How many gridline steps the axis needs so the tallest bar fits under it."""
    return max(1, int((top / step).to_integral_value(rounding=ROUND_CEILING)))


def compact_kes(amount: Decimal) -> str:
    """Axis labels: 950, 12.5k, 1.2M (whole shillings)."""
    if amount >= 1_000_000:
        return f"{amount / 1_000_000:.1f}M".replace(".0M", "M")
    if amount >= 1_000:
        return f"{amount / 1_000:.1f}k".replace(".0k", "k")
    return f"{amount:.0f}"


class RevenueChart(QWidget):
    """Completed payments per day as bars, today's bar in the highlight colour."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.days: tuple[DayRevenue, ...] = ()
        self.setMinimumSize(280, 160)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setAccessibleName("Revenue per day")
        self._bars: list[tuple[QRectF, DayRevenue]] = []

    def set_days(self, days: Sequence[DayRevenue]) -> None:
        self.days = tuple(days)
        self.setAccessibleDescription(
            "; ".join(f"{d.day:%d %b}: KES {d.total:,.2f}" for d in self.days)
        )
        self.update()

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt override
        return QSize(520, 220)

    def event(self, event: QEvent) -> bool:
        if event.type() == QEvent.Type.ToolTip and isinstance(event, QHelpEvent):
            position = QPointF(event.pos())
            for rect, day in self._bars:
                column = QRectF(rect.left(), 0, rect.width(), self.height())
                if column.contains(position):
                    QToolTip.showText(
                        event.globalPos(), f"{day.day:%a %d %b}: KES {day.total:,.2f}", self
                    )
                    return True
            QToolTip.hideText()
            event.ignore()
            return True
        return super().event(event)

    def paintEvent(self, _event: QPaintEvent) -> None:  # noqa: N802 - Qt override
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        palette = self.palette()
        font = scaled_font(self.font(), 0.85)
        painter.setFont(font)
        metrics = QFontMetrics(font)
        self._bars = []
        if not self.days:
            return
        top = max(d.total for d in self.days)
        if top <= 0:
            painter.setPen(muted(palette))
            painter.drawText(
                self.rect(), Qt.AlignmentFlag.AlignCenter, "No payments in these days yet"
            )
            return
        step = axis_step(top)
        lines = steps_to_reach(top, step)
        ceiling = step * lines
        labels = [compact_kes(step * n) for n in range(lines + 1)]
        left = max(metrics.horizontalAdvance(t) for t in labels) + 8
        bottom = metrics.height() + 6
        plot = QRectF(left, metrics.height() + 4, self.width() - left - 4, 0)
        plot.setBottom(self.height() - bottom)

        grid = palette.color(QPalette.ColorRole.Mid)
        grid.setAlphaF(0.5)
        for n, text in enumerate(labels):
            y = plot.bottom() - plot.height() * n / lines
            painter.setPen(grid)
            painter.drawLine(QPointF(plot.left(), y), QPointF(plot.right(), y))
            painter.setPen(muted(palette))
            painter.drawText(
                QRectF(0, y - metrics.height() / 2, left - 6, metrics.height()),
                int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter),
                text,
            )

        highlight = palette.color(QPalette.ColorRole.Highlight)
        earlier = QColor(highlight)
        earlier.setAlphaF(0.55)
        slot = plot.width() / len(self.days)
        width = max(4.0, slot * 0.62)
        painter.setPen(Qt.PenStyle.NoPen)
        for n, day in enumerate(self.days):
            height = float(day.total / ceiling) * plot.height()
            x = plot.left() + slot * n + (slot - width) / 2
            rect = QRectF(x, plot.bottom() - height, width, height)
            self._bars.append((rect, day))
            last = n == len(self.days) - 1
            painter.setBrush(highlight if last else earlier)
            painter.drawRoundedRect(rect, 2, 2)
            painter.setPen(palette.color(QPalette.ColorRole.Text) if last else muted(palette))
            label = f"{day.day.day}" if day.day.day != 1 and n else f"{day.day:%d %b}"
            painter.drawText(
                QRectF(plot.left() + slot * n - 10, plot.bottom() + 3, slot + 20, bottom),
                int(Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop),
                label,
            )
            if last and day.total > 0:  # today's figure above its bar
                painter.drawText(
                    QRectF(x - 30, rect.top() - metrics.height() - 2, width + 60, metrics.height()),
                    int(Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignBottom),
                    compact_kes(day.total),
                )
            painter.setPen(Qt.PenStyle.NoPen)
