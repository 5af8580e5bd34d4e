"""The console's main window: navigation on the left, pages on the right, status at the bottom.

The window never touches the database itself. It asks a worker to connect (the composition
root supplies how) and to load each page's figures through easyisp_core services, and shows
what comes back: the figures, or a plain message with a Retry button.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from functools import partial
from typing import Protocol

from PySide6.QtCore import QByteArray, QSettings, Qt
from PySide6.QtGui import QCloseEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QSplitter,
    QStackedWidget,
    QWidget,
)
from sqlalchemy.orm import Session, sessionmaker

from easyisp_core.crypto import SecretBox
from easyisp_core.db.engine import Database, session_scope
from easyisp_core.services.dashboard import DEFAULT_TIMEZONE, DashboardFigures
from easyisp_core.services.identity import SessionIdentity, current_identity
from easyisp_desktop.framework.display_zone import set_display_zone
from easyisp_desktop.framework.entity_page import PageContext
from easyisp_desktop.framework.errors import describe_error as describe_error
from easyisp_desktop.framework.live_updates import LiveChange, LiveUpdates
from easyisp_desktop.framework.navigation import NavigationList
from easyisp_desktop.framework.worker import Worker, WorkerPool
from easyisp_desktop.views.customers import CustomersPage
from easyisp_desktop.views.dashboard import DashboardPage
from easyisp_desktop.views.registry import FRONT_DESK, pages_for

log = logging.getLogger(__name__)

GEOMETRY_KEY = "main_window/geometry"
# Which page shows each table that NOTIFYs changes (migration 0009); Customers and the
# customer workspaces follow the same listener themselves.
LIVE_PAGES = {"payments": "Payments", "sessions": "Sessions", "nas": "Routers"}
SPLITTER_KEY = "main_window/splitter"
NAVIGATION_WIDTH = 200

ProgressFn = Callable[[str], None]


class Connector(Protocol):
    """Opens the database (in a worker), reporting each step to `progress`."""

    def __call__(self, *, progress: ProgressFn) -> Database: ...


def load_identity(sessions: sessionmaker[Session]) -> SessionIdentity:
    """Worker side: who is logged in and what they may do."""
    with session_scope(sessions) as session:
        return current_identity(session)


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
        # Every list, the workspace and receipts write times in the zone the dashboard uses.
        set_display_zone(timezone)
        self._settings = settings if settings is not None else QSettings()
        self._database: Database | None = None
        self._connecting = False
        self._shut_down = False
        self.workers = WorkerPool(self)

        self.navigation = NavigationList()
        self.pages = QStackedWidget()
        self.navigation.currentRowChanged.connect(self.pages.setCurrentIndex)
        self.navigation.currentRowChanged.connect(self._refresh_if_stale)
        self._stale_pages: set[str] = set()
        self.dashboard = DashboardPage(self.workers, timezone)
        self.customers: CustomersPage | None = None
        self.live: LiveUpdates | None = None
        # Every page by its navigation title (Dashboard, Customers, Packages, …).
        self.page_by_title: dict[str, QWidget] = {}
        self._add_page("Dashboard", self.dashboard, FRONT_DESK)
        self.navigation.setCurrentRow(0)

        self._splitter = QSplitter()
        self._splitter.addWidget(self.navigation)
        self._splitter.addWidget(self.pages)
        self._splitter.setStretchFactor(0, 0)
        self._splitter.setStretchFactor(1, 1)
        self._splitter.setCollapsible(0, False)
        self._splitter.setSizes([NAVIGATION_WIDTH, 1100 - NAVIGATION_WIDTH])
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
        self.dashboard.overview_shown.connect(self._on_overview)
        self.dashboard.error_shown.connect(self._on_overview_failed)
        self.dashboard.customer_activated.connect(self._open_customer)
        self.dashboard.page_requested.connect(self._show_page_if_offered)

        self._install_shortcuts()
        self.resize(1100, 700)
        self._restore_geometry()

    def _add_page(self, title: str, page: QWidget, section: str) -> None:
        self.navigation.add_page(title, section)
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
        self.dashboard.attach(database.sessions)
        self.refresh()

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
            self._add_page("Customers", self.customers, FRONT_DESK)
            # One LISTEN connection for the window: payments, sessions and commands appear
            # in open tables without a refresh.
            self.live = self.customers.start_live_updates(database.engine.url)
            self.live.changed.connect(self._on_live_change)
            self.dashboard.follow(self.live)
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
            self._add_page(spec.title, spec.build(context), spec.section)

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
        """Reload the dashboard's figures (in a worker)."""
        if self._database is not None:
            self.dashboard.refresh()

    def _on_overview(self, overview: DashboardFigures) -> None:
        self.service_running = overview.service_running
        self.service_label.setText(
            "Site service: running" if overview.service_running else "Site service: NOT running"
        )

    def _on_overview_failed(self, _message: str) -> None:
        self.service_running = None
        self.service_label.setText("Site service: unknown")

    def _open_customer(self, customer_id: uuid.UUID) -> None:
        """The dashboard's expiring list: the customer's workspace, as from the Customers page."""
        if self.customers is not None:
            self.customers.open_workspace(customer_id)

    def _show_page_if_offered(self, title: str) -> None:
        if title in self.page_by_title:
            self.show_page(title)

    # Lifetime ---------------------------------------------------------------------------

    def shutdown(self, timeout_ms: int = 15_000) -> bool:
        """Stop refreshing and wait for running workers; call before closing the database."""
        self._shut_down = True
        self.dashboard.stop()
        if self.customers is not None:
            self.customers.shutdown()  # stops the live-update listener and the workspaces
        self.workers.cancel_all()
        return self.workers.wait(timeout_ms)

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt override
        self._settings.setValue(GEOMETRY_KEY, self.saveGeometry())
        self._settings.setValue(SPLITTER_KEY, self._splitter.saveState())
        super().closeEvent(event)

    def _restore_geometry(self) -> None:
        geometry = self._settings.value(GEOMETRY_KEY)
        if isinstance(geometry, QByteArray | bytes):
            self.restoreGeometry(QByteArray(geometry))
        splitter = self._settings.value(SPLITTER_KEY)
        if isinstance(splitter, QByteArray | bytes):
            self._splitter.restoreState(QByteArray(splitter))
