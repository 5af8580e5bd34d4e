"""The dashboard: the site at a glance for the front desk, loaded in a worker, kept live.

One service call (easyisp_core.services.dashboard) brings every figure; parts the login may
not see come back as None and their tiles and panels are hidden. Payments, sessions and
router changes (the window's LiveUpdates) refresh it while it is shown, and a timer
refreshes it anyway (the site service's heartbeat and M-Pesa queues do not notify).
"""

from __future__ import annotations

import time
from functools import partial
from zoneinfo import ZoneInfo

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import (
    QLabel,
    QPushButton,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)
from sqlalchemy.orm import Session, sessionmaker

from easyisp_core.db.engine import session_scope
from easyisp_core.services.dashboard import (
    DEFAULT_TIMEZONE,
    DashboardFigures,
    dashboard_figures,
)
from easyisp_desktop.framework.errors import describe_error
from easyisp_desktop.framework.live_updates import LiveChange, LiveUpdates
from easyisp_desktop.framework.worker import WorkerPool
from easyisp_desktop.views.dashboard_figures import FiguresView

REFRESH_INTERVAL_MS = 30_000
# Changes are gathered for a moment, then the figures are read once; and never sooner than
# LIVE_MIN_GAP_MS after the last read ended, so a busy site (a payment every second, and
# seconds per read over a million customers) does not keep the database reading for the
# dashboard. A stream of changes cannot postpone the read for ever (a throttle, not a debounce).
LIVE_GATHER_MS = 400
LIVE_MIN_GAP_MS = 3_000
LIVE_TABLES = frozenset({"payments", "sessions", "nas"})
ICON_SIZE = 16


def load_dashboard(sessions: sessionmaker[Session], timezone: str) -> DashboardFigures:
    """Worker side: one read-only unit of work."""
    with session_scope(sessions) as session:
        return dashboard_figures(session, timezone=timezone)


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
        self._loaded_at = float("-inf")  # time.monotonic() when the last read ended
        self.live: LiveUpdates | None = None
        self.overview: DashboardFigures | None = None

        self._refresh_timer = QTimer(self)
        self._refresh_timer.setInterval(REFRESH_INTERVAL_MS)
        self._refresh_timer.timeout.connect(self.refresh)
        self._live_timer = QTimer(self)
        self._live_timer.setSingleShot(True)
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
        self.view = FiguresView(timezone)
        self.refresh_button = self.view.refresh_button
        self.view.customer_activated.connect(self.customer_activated)
        self.view.page_requested.connect(self.page_requested)
        self._figures_index = self._stack.addWidget(self.view)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self._stack)

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
        return self.view.value_text(key)

    def show_overview(self, figures: DashboardFigures) -> None:
        self.overview = figures
        self.view.fill(figures)
        self._stack.setCurrentIndex(self._figures_index)
        self.overview_shown.emit(figures)

    def show_waiting(self, message: str = "Connecting…") -> None:
        self._waiting_label.setText(message)
        self._stack.setCurrentIndex(self._waiting_index)

    def show_error(self, message: str) -> None:
        self._error_label.setText(message)
        self._stack.setCurrentIndex(self._error_index)
        self.error_shown.emit(message)

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
        self._loaded_at = time.monotonic()
        self.show_overview(figures)
        self._load_again()

    def _on_failed(self, exc: BaseException) -> None:
        self._loading = False
        self._loaded_at = time.monotonic()
        self.show_error(describe_error(exc))
        self._load_again()

    def _load_again(self) -> None:
        if self._again:
            self._again = False
            self._schedule()

    def follow(self, live: LiveUpdates) -> None:
        """Refresh when payments, sessions or routers change (while shown; else when next shown)."""
        self.live = live
        live.changed.connect(self._on_live_change)

    def _on_live_change(self, change: LiveChange) -> None:
        if change.table not in LIVE_TABLES:
            return
        if self.isVisible():
            self._schedule()
        else:
            self._stale = True

    def _schedule(self) -> None:
        """Read again soon: after LIVE_GATHER_MS, and at least LIVE_MIN_GAP_MS after the last."""
        if self._live_timer.isActive():
            return  # already coming: this change will be in it
        since_ms = (time.monotonic() - self._loaded_at) * 1000
        self._live_timer.start(int(max(LIVE_GATHER_MS, LIVE_MIN_GAP_MS - since_ms)))

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
