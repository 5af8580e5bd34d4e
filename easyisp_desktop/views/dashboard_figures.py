"""The dashboard's figures laid out: tiles, the revenue chart, routers, M-Pesa, expiring customers.

It only shows a DashboardFigures it is given (DashboardPage loads them); the links and lists
ask, through signals, for another page or a customer's workspace.
"""

from __future__ import annotations

import re
import uuid
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from PySide6.QtCore import QModelIndex, Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QScrollArea,
    QStyle,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from easyisp_core.services.dashboard import (
    DEFAULT_TIMEZONE,
    DashboardFigures,
    ExpiringCustomer,
    OfflineRouter,
)
from easyisp_desktop.framework.static_table_model import StaticTableModel
from easyisp_desktop.framework.table_model import Column
from easyisp_desktop.views import formatting as fmt
from easyisp_desktop.views.customers import format_phone
from easyisp_desktop.views.dashboard_widgets import Panel, RevenueChart, Tile, scaled_font

ICON_SIZE = 16
TAGS = re.compile(r"<[^>]+>")


def count(n: int, one: str, many: str | None = None) -> str:
    return f"{n:,} {one if n == 1 else (many or one + 's')}"


def time_left(until: datetime, now: datetime) -> str:
    minutes = max(0, int((until - now).total_seconds() // 60))
    hours, minutes = divmod(minutes, 60)
    return f"in {hours} h {minutes:02d} min" if hours else f"in {minutes} min"


def link(page: str, text: str) -> str:
    """Rich text that asks for `page` when clicked (QLabel.linkActivated); in the palette's
    link colour, not underlined (a desktop window, not a web page)."""
    return f'<a href="{page}" style="text-decoration: none">{text}</a>'


class FiguresView(QWidget):
    """Every part of the dashboard; `show(figures)` fills them."""

    # A customer chosen in the "expiring" list (its id): the window opens their workspace.
    customer_activated = Signal(object)
    # A page the dashboard points to ("Routers", "M-Pesa suspense"): the window shows it.
    page_requested = Signal(str)

    def __init__(self, timezone: str = DEFAULT_TIMEZONE, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._zone = ZoneInfo(timezone)
        self.heading = QLabel("Dashboard")
        self.heading.setFont(scaled_font(self.font(), 1.5, bold=True))
        self.service_icon = QLabel()
        self.service_text = QLabel()
        self.updated_label = QLabel()
        self.refresh_button = QPushButton("Refresh")
        self.refresh_button.setToolTip("Reload the figures now (they also update by themselves)")
        header = QHBoxLayout()
        header.addWidget(self.heading)
        header.addStretch()
        header.addWidget(self.service_icon)
        header.addWidget(self.service_text)
        header.addSpacing(16)
        header.addWidget(self.updated_label)
        header.addWidget(self.refresh_button)

        self.tiles = {
            "online_now": Tile("Online now"),
            "active": Tile("Active customers"),
            "expired": Tile("Expired"),
            "suspended": Tile("Suspended"),
            "revenue_today": Tile("Revenue today", "KES"),
            "revenue_month": Tile("Revenue this month", "KES"),
        }
        tiles = QHBoxLayout()
        tiles.setSpacing(10)
        for tile in self.tiles.values():
            tiles.addWidget(tile)

        self.revenue_panel = Panel("Revenue, last 14 days (KES)")
        self.chart = RevenueChart()
        self.revenue_panel.body.addWidget(self.chart, 1)

        self.routers_panel = Panel("Routers")
        self.routers_summary = self._link_label()
        self.offline_model = StaticTableModel(
            (
                Column("name", "Offline router"),
                Column("problem", "Problem", lambda v: v or "not answering", tooltip=fmt.text),
                Column("last_seen_at", "Last seen", fmt.moment),
            ),
            self,
        )
        self.offline_table = self._table(self.offline_model, stretch=1)
        self.offline_table.activated.connect(lambda _index: self.page_requested.emit("Routers"))
        self.routers_panel.body.addWidget(self.routers_summary)
        self.routers_panel.body.addWidget(self.offline_table, 1)

        self.mpesa_panel = Panel("M-Pesa waiting")
        self.mpesa_icon = QLabel()
        self.mpesa_text = self._link_label()
        self.mpesa_text.setWordWrap(True)
        mpesa_row = QHBoxLayout()
        mpesa_row.addWidget(self.mpesa_icon)
        mpesa_row.addWidget(self.mpesa_text, 1)
        self.mpesa_panel.body.addLayout(mpesa_row)

        self.expiring_panel = Panel("Expiring in the next 24 hours")
        self.expiring_summary = QLabel()
        self.expiring_model = StaticTableModel(
            (
                Column("full_name", "Customer"),
                Column("username", "Username"),
                Column("phone", "Phone", format_phone),
                Column("package", "Package", fmt.text),
                Column("expires", "Expires"),
            ),
            self,
        )
        self.expiring_table = self._table(self.expiring_model, stretch=0)
        self.expiring_table.setToolTip("Double-click (or Enter) opens the customer")
        self.expiring_table.activated.connect(self._open_expiring)
        self.expiring_panel.body.addWidget(self.expiring_summary)
        self.expiring_panel.body.addWidget(self.expiring_table, 1)

        side = QVBoxLayout()
        side.setSpacing(10)
        side.addWidget(self.routers_panel, 3)
        side.addWidget(self.mpesa_panel, 0)
        grid = QGridLayout()
        grid.setSpacing(10)
        grid.addWidget(self.revenue_panel, 0, 0)
        grid.addLayout(side, 0, 1)
        grid.addWidget(self.expiring_panel, 1, 0, 1, 2)
        grid.setColumnStretch(0, 3)
        grid.setColumnStretch(1, 2)
        grid.setRowStretch(0, 5)
        grid.setRowStretch(1, 4)

        content = QWidget()
        layout = QVBoxLayout(content)
        layout.setContentsMargins(16, 12, 16, 12)
        layout.setSpacing(10)
        layout.addLayout(header)
        layout.addLayout(tiles)
        layout.addLayout(grid, 1)
        self.scroll_area = QScrollArea()
        self.scroll_area.setWidgetResizable(True)
        self.scroll_area.setFrameShape(QScrollArea.Shape.NoFrame)
        self.scroll_area.setWidget(content)
        content.setMinimumHeight(600)  # below this, scroll rather than squash the lists
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(self.scroll_area)

    def _link_label(self) -> QLabel:
        """A label whose links open the page they name (by mouse, or Tab and Enter)."""
        label = QLabel()
        label.setTextFormat(Qt.TextFormat.RichText)
        label.setTextInteractionFlags(
            Qt.TextInteractionFlag.LinksAccessibleByMouse
            | Qt.TextInteractionFlag.LinksAccessibleByKeyboard
        )
        label.linkActivated.connect(self.page_requested)
        return label

    def _table(self, model: StaticTableModel, *, stretch: int) -> QTableView:
        """A compact read-only list; column `stretch` takes the width left over."""
        table = QTableView()
        table.setModel(model)
        table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        table.setShowGrid(False)
        table.setAlternatingRowColors(True)
        table.verticalHeader().hide()
        table.horizontalHeader().setHighlightSections(False)
        table.setWordWrap(False)
        table.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        header = table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(stretch, QHeaderView.ResizeMode.Stretch)
        header.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        table.setMinimumHeight(90)
        # Compact rows: the expiring list shows all its customers at 1366×768.
        table.verticalHeader().setDefaultSectionSize(table.fontMetrics().height() + 8)
        return table

    def value_text(self, key: str) -> str:
        """A tile's value ("" when hidden), or "routers", "mpesa", "expiring", "service"."""
        if key in self.tiles:
            tile = self.tiles[key]
            return tile.value if not tile.isHidden() else ""
        labels = {
            "routers": self.routers_summary,
            "mpesa": self.mpesa_text,
            "expiring": self.expiring_summary,
            "service": self.service_text,
            "as_of": self.updated_label,
        }
        label = labels[key]
        panel = label.parentWidget()
        return "" if panel is not None and panel.isHidden() else TAGS.sub("", label.text())

    def fill(self, figures: DashboardFigures) -> None:
        """Show `figures` in every part; a part the login may not see is hidden."""
        self._show_service(figures)
        self.updated_label.setText(f"Updated {figures.as_of.astimezone(self._zone):%H:%M:%S}")
        self._show_tile("online_now", figures.online_now, "open sessions")
        customers = figures.customers
        for key in ("active", "expired", "suspended"):
            self._show_tile(key, None if customers is None else getattr(customers, key))
        if customers is not None:
            self.tiles["active"].set_value(
                f"{customers.active:,}", f"{customers.expiring_count:,} expire within 24 h"
            )
        revenue = figures.revenue
        for key in ("revenue_today", "revenue_month"):
            self.tiles[key].setHidden(revenue is None)
        self.revenue_panel.setHidden(revenue is None)
        if revenue is not None:
            self.tiles["revenue_today"].set_value(
                f"{revenue.today:,.2f}", count(revenue.today_count, "payment")
            )
            self.tiles["revenue_month"].set_value(f"{revenue.month:,.2f}", f"{figures.today:%B %Y}")
            self.chart.set_days(revenue.days)
        self._show_routers(figures)
        self._show_mpesa(figures)
        self._show_expiring(figures)

    def _show_tile(self, key: str, value: int | None, detail: str = "") -> None:
        tile = self.tiles[key]
        tile.setHidden(value is None)
        if value is not None:
            tile.set_value(f"{value:,}", detail)

    def _icon(self, label: QLabel, problem: bool) -> None:
        pixmap = QStyle.StandardPixmap
        icon = self.style().standardIcon(
            pixmap.SP_MessageBoxWarning if problem else pixmap.SP_DialogApplyButton
        )
        label.setPixmap(icon.pixmap(ICON_SIZE, ICON_SIZE))

    def _show_service(self, figures: DashboardFigures) -> None:
        self._icon(self.service_icon, not figures.service_running)
        if figures.service_running:
            text = "Site service running"
        elif figures.service_last_beat_at is None:
            text = "Site service NOT running"
        else:
            seen = figures.service_last_beat_at.astimezone(self._zone)
            text = f"Site service NOT running (last seen {seen:%d %b %H:%M})"
        self.service_text.setText(text)

    def _show_routers(self, figures: DashboardFigures) -> None:
        routers = figures.routers
        self.routers_panel.setHidden(routers is None)
        if routers is None:
            return
        summary = (
            f"{routers.online:,} online · {routers.offline:,} offline · {routers.pending:,} pending"
        )
        self.routers_summary.setText(link("Routers", summary))
        self.offline_model.set_rows(routers.offline_routers)
        self.offline_table.setHidden(not routers.offline_routers)

    def _show_mpesa(self, figures: DashboardFigures) -> None:
        mpesa = figures.mpesa
        self.mpesa_panel.setHidden(mpesa is None)
        if mpesa is None:
            return
        self._icon(self.mpesa_icon, bool(mpesa.suspense or mpesa.review))
        self.mpesa_text.setText(
            link("M-Pesa suspense", f"{count(mpesa.suspense, 'payment')} in suspense")
            + " · "
            + link("Payment review", f"{count(mpesa.review, 'callback')} for review")
        )

    def _show_expiring(self, figures: DashboardFigures) -> None:
        customers = figures.customers
        self.expiring_panel.setHidden(customers is None)
        if customers is None:
            return
        shown = len(customers.expiring)
        if not customers.expiring_count:
            summary = "Nobody's time runs out in the next 24 hours."
        elif shown < customers.expiring_count:
            summary = f"The first {shown} of {customers.expiring_count:,}:"
        else:
            summary = f"{count(customers.expiring_count, 'customer')}:"
        self.expiring_summary.setText(summary)
        self.expiring_model.set_rows(
            [_ExpiringRow(c, figures, self._zone) for c in customers.expiring]
        )
        self.expiring_table.setHidden(not customers.expiring)

    def _open_expiring(self, index: QModelIndex) -> None:
        row = self.expiring_model.row_object(index.row())
        self.customer_activated.emit(row.id)

    def offline_routers(self) -> list[OfflineRouter]:
        return list(self.offline_model.rows)

    def expiring_customers(self) -> list[ExpiringCustomer]:
        return [row.customer for row in self.expiring_model.rows]


class _ExpiringRow:
    """A row of the expiring list: the customer and their expiry as the desk reads it."""

    def __init__(self, customer: ExpiringCustomer, figures: DashboardFigures, zone: Any) -> None:
        self.customer = customer
        self.id: uuid.UUID = customer.id
        self.full_name = customer.full_name
        self.username = customer.username
        self.phone = customer.phone
        self.package = customer.package
        local = customer.expires_at.astimezone(zone)
        day = "today" if local.date() == figures.today else "tomorrow"
        self.expires = f"{day} {local:%H:%M} ({time_left(customer.expires_at, figures.as_of)})"
