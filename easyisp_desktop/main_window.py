"""The console's main window: navigation on the left, pages on the right, status at the bottom.

The window never touches the database itself. It asks a worker to connect (the composition
root supplies how) and to load each page's figures through easyisp_core services, and shows
what comes back: the figures, or a plain message with a Retry button.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from decimal import Decimal
from functools import partial
from typing import Protocol
from zoneinfo import ZoneInfo

from PySide6.QtCore import QByteArray, QSettings, Qt, QTimer, Signal
from PySide6.QtGui import QCloseEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QMainWindow,
    QPushButton,
    QSplitter,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)
from sqlalchemy.orm import Session, sessionmaker

from easyisp_core.crypto import SecretBox
from easyisp_core.db.engine import Database, session_scope
from easyisp_core.services.dashboard import DEFAULT_TIMEZONE, SiteOverview, site_overview
from easyisp_core.services.identity import SessionIdentity, current_identity
from easyisp_desktop.framework.entity_page import PageContext
from easyisp_desktop.framework.errors import describe_error as describe_error
from easyisp_desktop.framework.live_updates import LiveChange, LiveUpdates
from easyisp_desktop.framework.worker import Worker, WorkerPool
from easyisp_desktop.views.customers import CustomersPage
from easyisp_desktop.views.registry import pages_for

log = logging.getLogger(__name__)

REFRESH_INTERVAL_MS = 30_000
GEOMETRY_KEY = "main_window/geometry"
# Which page shows each table that NOTIFYs changes (migration 0009); Customers and the
# customer workspaces follow the same listener themselves.
LIVE_PAGES = {"payments": "Payments", "sessions": "Sessions", "nas": "Routers"}
SPLITTER_KEY = "main_window/splitter"

ProgressFn = Callable[[str], None]


class Connector(Protocol):
    """Opens the database (in a worker), reporting each step to `progress`."""

    def __call__(self, *, progress: ProgressFn) -> Database: ...


def load_identity(sessions: sessionmaker[Session]) -> SessionIdentity:
    """Worker side: who is logged in and what they may do."""
    with session_scope(sessions) as session:
        return current_identity(session)


def load_overview(sessions: sessionmaker[Session], timezone: str) -> SiteOverview:
    """Worker side of the dashboard: one read-only unit of work."""
    with session_scope(sessions) as session:
        return site_overview(session, timezone=timezone)


def format_money(amount: Decimal) -> str:
    return f"KES {amount:,.2f}"


class DashboardPage(QWidget):
    """The site at a glance; shows one of: waiting, an error with Retry, or the figures."""

    overview_shown = Signal(object)
    error_shown = Signal(str)

    FIELDS = (
        ("tenants", "Tenants"),
        ("customers", "Customers"),
        ("active_customers", "Active customers"),
        ("routers", "Routers"),
        ("payments_today", "Payments today"),
        ("service", "Site service"),
        ("as_of", "Updated"),
    )

    def __init__(self, timezone: str = DEFAULT_TIMEZONE, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._zone = ZoneInfo(timezone)
        self.overview: SiteOverview | None = None

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

        self._values = {key: QLabel("—") for key, _title in self.FIELDS}
        self.refresh_button = QPushButton("Refresh")
        figures_page = QWidget()
        form = QFormLayout()
        for key, title in self.FIELDS:
            self._values[key].setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            form.addRow(f"{title}:", self._values[key])
        figures_layout = QVBoxLayout(figures_page)
        heading = QLabel("<h2>Site overview</h2>")
        figures_layout.addWidget(heading)
        figures_layout.addLayout(form)
        figures_layout.addWidget(self.refresh_button, alignment=Qt.AlignmentFlag.AlignLeft)
        figures_layout.addStretch()

        self._stack = QStackedWidget()
        self._waiting_index = self._stack.addWidget(self._waiting_label)
        self._error_index = self._stack.addWidget(error_page)
        self._figures_index = self._stack.addWidget(figures_page)
        layout = QVBoxLayout(self)
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
        return self._values[key].text()

    def show_waiting(self, message: str = "Connecting…") -> None:
        self._waiting_label.setText(message)
        self._stack.setCurrentIndex(self._waiting_index)

    def show_error(self, message: str) -> None:
        self._error_label.setText(message)
        self._stack.setCurrentIndex(self._error_index)
        self.error_shown.emit(message)

    def show_overview(self, overview: SiteOverview) -> None:
        self.overview = overview
        values = self._values
        values["tenants"].setText(f"{overview.tenants:,}")
        values["customers"].setText(f"{overview.customers:,}")
        values["active_customers"].setText(f"{overview.active_customers:,}")
        routers = f"{overview.routers_online:,} online, {overview.routers_offline:,} offline"
        if overview.routers_pending:
            routers += f", {overview.routers_pending:,} not yet seen"
        values["routers"].setText(routers)
        count = overview.payments_today_count
        values["payments_today"].setText(
            f"{format_money(overview.payments_today_total)} "
            f"({count:,} payment{'s' if count != 1 else ''})"
        )
        values["service"].setText(self._service_text(overview))
        values["as_of"].setText(overview.as_of.astimezone(self._zone).strftime("%Y-%m-%d %H:%M:%S"))
        self._stack.setCurrentIndex(self._figures_index)
        self.overview_shown.emit(overview)

    def _service_text(self, overview: SiteOverview) -> str:
        if overview.service_running:
            return "Running"
        if overview.service_last_beat_at is None:
            return "Not running"
        seen = overview.service_last_beat_at.astimezone(self._zone)
        return f"Not running (last seen {seen:%Y-%m-%d %H:%M})"


class MainWindow(QMainWindow):
    """Connects through `connect` (run in a worker), then shows the pages over that database.

    The window does not own the Database it receives: the composition root closes it after
    the event loop ends (see easyisp_desktop.app)."""

    def __init__(
        self,
        connect: Connector,
        *,
        timezone: str = DEFAULT_TIMEZONE,
        settings: QSettings | None = None,
        secret_box: SecretBox | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("EasyISP")
        # The site key, on the PC that has it: router secrets are encrypted with it.
        self._box = secret_box
        self._connect = connect
        self._timezone = timezone
        self._settings = settings if settings is not None else QSettings()
        self._database: Database | None = None
        self._connecting = False
        self._loading = False
        self._shut_down = False
        self.workers = WorkerPool(self)

        self.navigation = QListWidget()
        self.navigation.setMaximumWidth(220)
        self.pages = QStackedWidget()
        self.navigation.currentRowChanged.connect(self.pages.setCurrentIndex)
        self.navigation.currentRowChanged.connect(self._refresh_if_stale)
        self._stale_pages: set[str] = set()
        self.dashboard = DashboardPage(timezone)
        self.customers: CustomersPage | None = None
        self.live: LiveUpdates | None = None
        # Every page by its navigation title (Dashboard, Customers, Packages, …).
        self.page_by_title: dict[str, QWidget] = {}
        self._add_page("Dashboard", self.dashboard)
        self.navigation.setCurrentRow(0)

        self._splitter = QSplitter()
        self._splitter.addWidget(self.navigation)
        self._splitter.addWidget(self.pages)
        self._splitter.setStretchFactor(1, 1)
        central = QWidget()
        central_layout = QHBoxLayout(central)
        central_layout.setContentsMargins(0, 0, 0, 0)
        central_layout.addWidget(self._splitter)
        self.setCentralWidget(central)

        self.identity: SessionIdentity | None = None
        # From the latest overview: None until known, or after a failed load.
        self.service_running: bool | None = None
        self.user_label = QLabel("")
        self.statusBar().addPermanentWidget(self.user_label)
        self.database_label = QLabel("Database: not connected")
        self.service_label = QLabel("Site service: unknown")
        self.statusBar().addPermanentWidget(self.service_label)
        self.statusBar().addPermanentWidget(self.database_label)

        self.dashboard.retry_button.clicked.connect(self.start)
        self.dashboard.refresh_button.clicked.connect(self.refresh)
        self._refresh_timer = QTimer(self)
        self._refresh_timer.setInterval(REFRESH_INTERVAL_MS)
        self._refresh_timer.timeout.connect(self.refresh)

        self._install_shortcuts()
        self.resize(1100, 700)
        self._restore_geometry()

    def _add_page(self, title: str, page: QWidget) -> None:
        self.navigation.addItem(title)
        self.pages.addWidget(page)
        self.page_by_title[title] = page

    def page_titles(self) -> list[str]:
        return [self.navigation.item(i).text() for i in range(self.navigation.count())]

    def show_page(self, title: str) -> QWidget:
        self.navigation.setCurrentRow(self.page_titles().index(title))
        return self.page_by_title[title]

    def _install_shortcuts(self) -> None:
        """Ctrl+F and Ctrl+N from the navigation act on the page shown; inside a page the
        page's own shortcuts answer (two active shortcuts for one key would both be dead)."""
        for key, method in ((QKeySequence.StandardKey.Find, "focus_search"), ("Ctrl+N", "new")):
            shortcut = QShortcut(QKeySequence(key), self.navigation)
            shortcut.setContext(Qt.ShortcutContext.WidgetShortcut)
            shortcut.activated.connect(partial(self._on_current_page, method))

    def _on_current_page(self, method: str) -> None:
        page = self.pages.currentWidget()
        action = getattr(page, "actions_by_key", {}).get(method)
        if action is not None:
            if action.allowed:
                action.run()
        elif callable(getattr(page, method, None)):
            getattr(page, method)()

    @property
    def database(self) -> Database | None:
        return self._database

    # Connecting and loading -------------------------------------------------------------

    def start(self) -> None:
        """Connect if not connected yet (first start, Retry after a failure), else reload."""
        if self._database is None:
            self._begin_connect()
        else:
            self.dashboard.show_waiting("Loading the site overview…")
            self.refresh()

    def _begin_connect(self) -> None:
        if self._connecting:
            return
        self._connecting = True
        self.dashboard.show_waiting("Connecting…")
        self.statusBar().showMessage("Connecting to the database…")
        connect = self._connect

        def work(worker: Worker) -> Database:
            return connect(progress=lambda line: worker.report_progress(0, line))

        worker = Worker.controlled(work)
        worker.signals.progress.connect(self._on_connect_progress)
        worker.signals.result.connect(self._on_connected)
        worker.signals.error.connect(self._on_connect_failed)
        self.workers.start(worker)

    def _on_connect_progress(self, _done: int, message: str) -> None:
        if self._connecting:
            self.dashboard.show_waiting(message)

    def _on_connected(self, database: Database) -> None:
        self._connecting = False
        self._database = database
        self.workers.run(
            partial(load_identity, database.sessions),
            on_result=self._on_identity,
            on_error=self._on_identity_failed,
        )
        self.database_label.setText(f"Database: {database.description}")
        self.statusBar().clearMessage()
        self.dashboard.show_waiting("Loading the site overview…")
        self.refresh()
        self._refresh_timer.start()

    def _on_identity(self, identity: SessionIdentity) -> None:
        if self._shut_down:
            return  # a queued answer after shutdown must not start pages or a listener
        self.identity = identity
        self.user_label.setText(identity.label)
        if self._database is not None:
            self._add_data_pages(self._database, identity)

    def _on_identity_failed(self, exc: BaseException) -> None:
        self.user_label.setText("User: unknown")
        self.statusBar().showMessage(describe_error(exc), 15_000)

    def _add_data_pages(self, database: Database, identity: SessionIdentity) -> None:
        """The entity pages this user may see, once there is a database to read them from."""
        if len(self.page_by_title) > 1:
            return  # already added (a Retry after a lost connection)
        if identity.may("customers.read"):
            self.customers = CustomersPage(
                database.sessions,
                self.workers,
                self._settings,
                tenant_id=identity.tenant_id,
                permissions=identity.permissions,
                tenant=identity.tenant_slug,
                secret_box=self._box,
            )
            self._add_page("Customers", self.customers)
            # One LISTEN connection for the window: payments, sessions and commands appear
            # in open tables without a refresh.
            self.live = self.customers.start_live_updates(database.engine.url)
            self.live.changed.connect(self._on_live_change)
        context = PageContext(
            database.sessions,
            self.workers,
            self._settings,
            identity,
            self._box,
            live=self.live,
            service_running=lambda: self.service_running,
        )
        for spec in pages_for(identity.permissions):
            if spec.title == "Settings" and identity.tenant_slug is None:
                continue  # a database administrator belongs to no tenant
            self._add_page(spec.title, spec.build(context))

    def _on_live_change(self, change: LiveChange) -> None:
        """Refresh the open list that shows the changed table (the page re-reads under RLS)."""
        title = LIVE_PAGES.get(change.table)
        page = self.page_by_title.get(title) if title else None
        model = getattr(page, "model", None)
        if model is None or title is None:
            return
        if page is self.pages.currentWidget():
            model.refresh()
        else:
            self._stale_pages.add(title)  # refreshed when the user opens it

    def _refresh_if_stale(self, index: int) -> None:
        page = self.pages.widget(index)
        for title in [t for t in self._stale_pages if self.page_by_title.get(t) is page]:
            self._stale_pages.discard(title)
            model = getattr(page, "model", None)
            if model is not None:
                model.refresh()

    def _on_connect_failed(self, exc: BaseException) -> None:
        self._connecting = False
        self.database_label.setText("Database: not connected")
        self.statusBar().showMessage("Not connected", 0)
        self.dashboard.show_error(describe_error(exc))

    def refresh(self) -> None:
        """Reload the dashboard figures in a worker (ignored while a load is running)."""
        if self._database is None or self._loading:
            return
        self._loading = True
        self.workers.run(
            partial(load_overview, self._database.sessions, self._timezone),
            on_result=self._on_overview,
            on_error=self._on_overview_failed,
        )

    def _on_overview(self, overview: SiteOverview) -> None:
        self._loading = False
        self.service_running = overview.service_running
        self.dashboard.show_overview(overview)
        self.service_label.setText(
            "Site service: running" if overview.service_running else "Site service: NOT running"
        )

    def _on_overview_failed(self, exc: BaseException) -> None:
        self._loading = False
        self.service_running = None
        self.service_label.setText("Site service: unknown")
        self.dashboard.show_error(describe_error(exc))

    # Lifetime ---------------------------------------------------------------------------

    def shutdown(self, timeout_ms: int = 15_000) -> bool:
        """Stop refreshing and wait for running workers; call before closing the database."""
        self._shut_down = True
        self._refresh_timer.stop()
        if self.customers is not None:
            self.customers.shutdown()  # stops the live-update listener and the workspaces
        self.workers.cancel_all()
        return self.workers.wait(timeout_ms)

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt override
        self._settings.setValue(GEOMETRY_KEY, self.saveGeometry())
        self._settings.setValue(SPLITTER_KEY, self._splitter.saveState())
        self._refresh_timer.stop()
        super().closeEvent(event)

    def _restore_geometry(self) -> None:
        geometry = self._settings.value(GEOMETRY_KEY)
        if isinstance(geometry, QByteArray | bytes):
            self.restoreGeometry(QByteArray(geometry))
        splitter = self._settings.value(SPLITTER_KEY)
        if isinstance(splitter, QByteArray | bytes):
            self._splitter.restoreState(QByteArray(splitter))
