"""The dashboard: the site at a glance for the front desk, loaded in a worker, kept live.

One service call (easyisp_core.services.dashboard) brings every figure; parts the login may
not see come back as None and their tiles and panels are hidden. Payments, sessions and
router changes (the window's LiveUpdates) refresh it while it is shown, and a timer
refreshes it anyway (the site service's heartbeat and M-Pesa queues do not notify).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from functools import partial
from typing import Any
from zoneinfo import ZoneInfo

from PySide6.QtCore import QModelIndex, Qt, QTimer, Signal
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QScrollArea,
    QStackedWidget,
    QStyle,
    QTableView,
    QVBoxLayout,
    QWidget,
)
from sqlalchemy.orm import Session, sessionmaker

from easyisp_core.db.engine import session_scope
from easyisp_core.services.dashboard import (
    DEFAULT_TIMEZONE,
    DashboardFigures,
    ExpiringCustomer,
    OfflineRouter,
    dashboard_figures,
)
from easyisp_desktop.framework.errors import describe_error
from easyisp_desktop.framework.live_updates import LiveChange, LiveUpdates
from easyisp_desktop.framework.static_table_model import StaticTableModel
from easyisp_desktop.framework.table_model import Column
from easyisp_desktop.framework.worker import WorkerPool
from easyisp_desktop.views import formatting as fmt
from easyisp_desktop.views.customers import format_phone
from easyisp_desktop.views.dashboard_widgets import Panel, RevenueChart, Tile, scaled_font

REFRESH_INTERVAL_MS = 30_000
# A burst of payments or sessions refreshes the figures once.
LIVE_DEBOUNCE_MS = 400
LIVE_TABLES = frozenset({"payments", "sessions", "nas"})
ICON_SIZE = 16


def load_dashboard(sessions: sessionmaker[Session], timezone: str) -> DashboardFigures:
    """Worker side: one read-only unit of work."""
    with session_scope(sessions) as session:
        return dashboard_figures(session, timezone=timezone)


def count(n: int, one: str, many: str | None = None) -> str:
    return f"{n:,} {one if n == 1 else (many or one + 's')}"


def time_left(until: datetime, now: datetime) -> str:
    minutes = max(0, int((until - now).total_seconds() // 60))
    hours, minutes = divmod(minutes, 60)
    return f"in {hours} h {minutes:02d} min" if hours else f"in {minutes} min"


class DashboardPage(QWidget):
    """Shows one of: waiting, an error with Retry, or the figures."""

    overview_shown = Signal(object)  # DashboardFigures
    error_shown = Signal(str)
    # A customer chosen in the "expiring" list (its id): the window opens their workspace.
    customer_activated = Signal(object)
    # A page the dashboard points to ("Routers"): the window shows it.
    page_requested = Signal(str)

    def __init__(
        self,
        workers: WorkerPool,
        timezone: str = DEFAULT_TIMEZONE,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._workers = workers
        self._timezone = timezone
        self._zone = ZoneInfo(timezone)
        self._sessions: sessionmaker[Session] | None = None
        self._loading = False
        self._again = False  # a change arrived while loading: load once more after
        self._stale = False  # a change arrived while hidden: load when shown
        self.live: LiveUpdates | None = None
        self.overview: DashboardFigures | None = None

        self._refresh_timer = QTimer(self)
        self._refresh_timer.setInterval(REFRESH_INTERVAL_MS)
        self._refresh_timer.timeout.connect(self.refresh)
        self._live_timer = QTimer(self)
        self._live_timer.setSingleShot(True)
        self._live_timer.setInterval(LIVE_DEBOUNCE_MS)
        self._live_timer.timeout.connect(self.refresh)

        self._waiting_label = QLabel("Connecting…")
        self._waiting_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self._error_label = QLabel()
        self._error_label.setWordWrap(True)
        self._error_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.retry_button = QPushButton("Retry")
        error_page = QWidget()
        error_layout = QVBoxLayout(error_page)
        error_layout.addStretch()
        error_layout.addWidget(self._error_label)
        error_layout.addWidget(self.retry_button, alignment=Qt.AlignmentFlag.AlignLeft)
        error_layout.addStretch()

        self._stack = QStackedWidget()
        self._waiting_index = self._stack.addWidget(self._waiting_label)
        self._error_index = self._stack.addWidget(error_page)
        self._figures_index = self._stack.addWidget(self._build_figures())
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self._stack)

    # Layout -----------------------------------------------------------------------------

    def _build_figures(self) -> QWidget:
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
        self.routers_summary = QLabel()
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
        self.mpesa_text = QLabel()
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
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        scroll.setWidget(content)
        content.setMinimumHeight(600)  # below this, scroll rather than squash the lists
        return scroll

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

    # What the page shows ----------------------------------------------------------------

    @property
    def state(self) -> str:
        return {
            self._waiting_index: "waiting",
            self._error_index: "error",
            self._figures_index: "figures",
        }[self._stack.currentIndex()]

    @property
    def error_message(self) -> str:
        return self._error_label.text()

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
        return "" if panel is not None and panel.isHidden() else label.text()

    def show_waiting(self, message: str = "Connecting…") -> None:
        self._waiting_label.setText(message)
        self._stack.setCurrentIndex(self._waiting_index)

    def show_error(self, message: str) -> None:
        self._error_label.setText(message)
        self._stack.setCurrentIndex(self._error_index)
        self.error_shown.emit(message)

    def show_overview(self, figures: DashboardFigures) -> None:
        self.overview = figures
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
        self._stack.setCurrentIndex(self._figures_index)
        self.overview_shown.emit(figures)

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
        parts = [f"{routers.online:,} online", f"{routers.offline:,} offline"]
        parts.append(f"{routers.pending:,} pending")
        self.routers_summary.setText(" · ".join(parts))
        self.offline_model.set_rows(routers.offline_routers)
        self.offline_table.setHidden(not routers.offline_routers)

    def _show_mpesa(self, figures: DashboardFigures) -> None:
        mpesa = figures.mpesa
        self.mpesa_panel.setHidden(mpesa is None)
        if mpesa is None:
            return
        self._icon(self.mpesa_icon, bool(mpesa.suspense or mpesa.review))
        self.mpesa_text.setText(
            f"{count(mpesa.suspense, 'payment')} in suspense · "
            f"{count(mpesa.review, 'callback')} for review"
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

    # Loading ----------------------------------------------------------------------------

    def attach(self, sessions: sessionmaker[Session]) -> None:
        """Read through `sessions` from now on, and refresh every REFRESH_INTERVAL_MS."""
        self._sessions = sessions
        self._refresh_timer.start()

    def refresh(self) -> None:
        """Reload the figures in a worker; a call while loading loads once more after it."""
        if self._sessions is None:
            return
        if self._loading:
            self._again = True
            return
        self._loading = True
        self._stale = False
        self._workers.run(
            partial(load_dashboard, self._sessions, self._timezone),
            on_result=self._on_loaded,
            on_error=self._on_failed,
        )

    def _on_loaded(self, figures: DashboardFigures) -> None:
        self._loading = False
        self.show_overview(figures)
        self._load_again()

    def _on_failed(self, exc: BaseException) -> None:
        self._loading = False
        self.show_error(describe_error(exc))
        self._load_again()

    def _load_again(self) -> None:
        if self._again:
            self._again = False
            self.refresh()

    def follow(self, live: LiveUpdates) -> None:
        """Refresh when payments, sessions or routers change (while shown; else when next shown)."""
        self.live = live
        live.changed.connect(self._on_live_change)

    def _on_live_change(self, change: LiveChange) -> None:
        if change.table not in LIVE_TABLES:
            return
        if self.isVisible():
            self._live_timer.start()
        else:
            self._stale = True

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802 - Qt override
        super().showEvent(event)
        if self._stale:
            self.refresh()

    def stop(self) -> None:
        """Before the window goes away: no refresh may start any more."""
        self._refresh_timer.stop()
        self._live_timer.stop()
        self._sessions = None
        if self.live is not None:
            self.live.changed.disconnect(self._on_live_change)
            self.live = None


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
