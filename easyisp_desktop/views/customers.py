"""The Customers page: which columns, how they read, and where the rows come from."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from datetime import datetime
from decimal import Decimal
from functools import partial
from typing import Any

from PySide6.QtCore import QModelIndex, QSettings, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QKeySequence, QShortcut
from PySide6.QtWidgets import QHBoxLayout, QPushButton, QVBoxLayout, QWidget
from sqlalchemy.engine import URL
from sqlalchemy.orm import Session, sessionmaker

from easyisp_core.crypto import SecretBox
from easyisp_core.db.engine import session_scope
from easyisp_core.repositories.customer_list import CustomerListQuery, CustomerRow
from easyisp_core.repositories.query_cancel import QueryCanceller
from easyisp_core.services import customer_actions
from easyisp_core.services.customer_list import first_customer_page, next_customer_page
from easyisp_core.services.customer_removal import customer_history, delete_customer
from easyisp_desktop.framework.display_zone import moment
from easyisp_desktop.framework.entity_page import ask
from easyisp_desktop.framework.forms import FormDialog, failure_message, read_in_session
from easyisp_desktop.framework.live_updates import LiveChange, LiveUpdates
from easyisp_desktop.framework.table_model import RIGHT, Column, Page, TableQuery
from easyisp_desktop.framework.table_page import TablePage
from easyisp_desktop.framework.worker import WorkerPool
from easyisp_desktop.views.customer_register import WRITE, register_form
from easyisp_desktop.workspace.dialogs import decide_delete
from easyisp_desktop.workspace.loading import DELETE
from easyisp_desktop.workspace.window import ACTIONS, CustomerWorkspace


def format_phone(phone: str | None) -> str:
    """254712345678 → 0712 345 678, the way Kenyans write a mobile number."""
    if not phone:
        return ""
    if phone.startswith("254") and len(phone) == 12:
        local = "0" + phone[3:]
        return f"{local[:4]} {local[4:7]} {local[7:]}"
    return phone


def format_kes(amount: Decimal | None) -> str:
    return "" if amount is None else f"KES {amount:,.2f}"


def format_date(value: datetime | None) -> str:
    return moment(value)


def format_status(status: str) -> str:
    return status.capitalize()


COLUMNS = (
    Column("account_number", "Account no.", sort_key="account_number"),
    Column("full_name", "Name", sort_key="full_name"),
    Column("username", "Username", sort_key="username"),
    Column("phone", "Phone", format_phone),
    Column("package_name", "Package"),
    Column("status", "Status", format_status, sort_key="status"),
    Column("expires_at", "Expires", moment, sort_key="expires_at"),
    Column("wallet_balance", "Balance", format_kes, alignment=RIGHT),
)


class CustomerSource:
    """Pages of customers, one short read-only session each (on a worker thread)."""

    def __init__(self, sessions: sessionmaker[Session], tenant_id: uuid.UUID | None = None) -> None:
        self.sessions = sessions
        self.tenant_id = tenant_id

    def _query(self, query: TableQuery) -> CustomerListQuery:
        return CustomerListQuery(query.sort, query.descending, query.text, self.tenant_id)

    def first(self, query: TableQuery, limit: int, canceller: QueryCanceller) -> Page:
        with session_scope(self.sessions) as session, canceller.attached(session):
            page = first_customer_page(session, self._query(query), limit)
        return Page(page.rows, page.count, page.dense)

    def after(
        self, query: TableQuery, last: Any, limit: int, token: Any, canceller: QueryCanceller
    ) -> Sequence[CustomerRow]:
        with session_scope(self.sessions) as session, canceller.attached(session):
            return next_customer_page(session, self._query(query), last, limit, dense=bool(token))


# As in the workspace: Suspend is the alternative offered for a customer with history.
SUSPEND = ACTIONS["suspend"][1]


# Tables whose changes show in this list (a payment changes the balance and maybe the expiry).
LIVE_TABLES = frozenset({"payments", "sessions", "service_commands"})
# A burst of notifications (a payment and its ledger, a router reconnecting) refreshes once.
LIVE_DEBOUNCE_MS = 300


class CustomersPage(TablePage):
    """The customer list; Enter or a double-click opens the customer's workspace.
    "Register customer…" (Ctrl+N) needs customers.write and a tenant; "Delete…" (the Delete
    key, the button or the row's context menu) needs customers.delete."""

    workspace_opened = Signal(object)  # CustomerWorkspace
    form_opened = Signal(object)  # FormDialog
    registered = Signal(object)  # CustomerInfo
    deleted = Signal(str)  # the deleted customer's name

    def __init__(
        self,
        sessions: sessionmaker[Session],
        workers: WorkerPool,
        settings: QSettings,
        *,
        tenant_id: uuid.UUID | None = None,
        permissions: frozenset[str] | None = None,
        tenant: str | None = None,
        secret_box: SecretBox | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(
            title="Customers",
            columns=COLUMNS,
            source=CustomerSource(sessions, tenant_id),
            workers=workers,
            settings=settings,
            settings_key="customers",
            nouns=("customer", "customers"),
            default_sort="full_name",
            parent=parent,
        )
        # The tenant the list is limited to (None: all the login may see, e.g. a DB admin).
        self.tenant_id = tenant_id
        self.sessions = sessions
        # None: each workspace asks the database who is logged in.
        self.permissions = permissions
        self.live: LiveUpdates | None = None
        self._own_live: LiveUpdates | None = None
        self.workspaces: dict[uuid.UUID, CustomerWorkspace] = {}
        self.table.doubleClicked.connect(self._open_index)
        opener = QShortcut(QKeySequence(Qt.Key.Key_Return), self.table)
        opener.setContext(Qt.ShortcutContext.WidgetShortcut)
        opener.activated.connect(self.open_current)
        enter = QShortcut(QKeySequence(Qt.Key.Key_Enter), self.table)
        enter.setContext(Qt.ShortcutContext.WidgetShortcut)
        enter.activated.connect(self.open_current)
        self._live_timer = QTimer(self)
        self._live_timer.setSingleShot(True)
        self._live_timer.setInterval(LIVE_DEBOUNCE_MS)
        self._live_timer.timeout.connect(self.model.refresh)
        # Registering: the tenant's name (NewCustomer.tenant) and the site key, when present.
        self.tenant = tenant
        self.secret_box = secret_box
        self.form: FormDialog | None = None
        # Shown once the refresh after registering has loaded ("Loading…" clears it).
        self._done_message = ""
        self.model.page_loaded.connect(self._show_done_message)
        self.register_button = QPushButton("Register customer…")
        self.register_button.clicked.connect(self.register)
        # Hidden without the permission (the database refuses anyway) or without a tenant.
        self.may_register = bool(
            permissions is not None and WRITE in permissions and tenant and tenant_id
        )
        self.register_button.setVisible(self.may_register)
        bar = QHBoxLayout()
        bar.addWidget(self.register_button)
        bar.addStretch()
        layout = self.layout()
        assert isinstance(layout, QVBoxLayout)
        layout.insertLayout(1, bar)
        if self.may_register:
            shortcut = QShortcut(QKeySequence("Ctrl+N"), self)
            shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            shortcut.activated.connect(self.register)
        self._build_delete(bar)

    # Deleting ---------------------------------------------------------------------------

    def _build_delete(self, bar: QHBoxLayout) -> None:
        """The button, the Delete key and the row's context menu; only with customers.delete
        (the database refuses anyone else). Tests replace `confirm` to answer without a modal."""
        self.confirm: Callable[[str, str], bool] = lambda t, q: ask(self, t, q)
        self.may_delete = bool(self.permissions is not None and DELETE in self.permissions)
        self.delete_button = QPushButton("Delete…")
        self.delete_button.setToolTip("Delete a customer registered by mistake")
        self.delete_button.clicked.connect(self.delete_current)
        self.delete_button.setVisible(self.may_delete)
        self.delete_button.setEnabled(False)
        bar.insertWidget(bar.count() - 1, self.delete_button)
        self.table.selectionModel().selectionChanged.connect(self._update_delete)
        self.model.modelReset.connect(self._update_delete)
        self.open_action = QAction("Open workspace", self.table)
        self.open_action.triggered.connect(self.open_current)
        self.delete_action = QAction("Delete customer…", self.table)
        self.delete_action.setShortcut(QKeySequence(QKeySequence.StandardKey.Delete))
        self.delete_action.setShortcutContext(Qt.ShortcutContext.WidgetShortcut)
        self.delete_action.triggered.connect(self.delete_current)
        self.table.addAction(self.open_action)
        if self.may_delete:
            self.table.addAction(self.delete_action)
        self.table.setContextMenuPolicy(Qt.ContextMenuPolicy.ActionsContextMenu)

    def _update_delete(self, *_args: object) -> None:
        self.delete_button.setEnabled(self.selected_row() is not None)

    def delete_current(self) -> None:
        """As in the workspace: first ask the database what the customer has on record (a
        worker); one with history is explained and offered Suspend, else confirm and delete."""
        row: CustomerRow | None = self.selected_row()
        if row is None or not self.may_delete:
            return
        customer = row.id
        history = read_in_session(self.sessions, lambda s: customer_history(s, customer))

        self.status_label.setText("Checking…")
        self.workers.run(
            history, on_result=partial(self._after_check, row), on_error=self._failed, context=self
        )

    def _after_check(self, row: CustomerRow, history: list[str]) -> None:
        may_suspend = self.permissions is not None and SUSPEND in self.permissions
        decision, reason = decide_delete(
            row.full_name, row.account_number, row.status, history, may_suspend, self.confirm
        )
        if decision == "suspend":
            self._suspend(row)
        elif decision == "refuse":
            self.status_label.setText(reason)
        elif decision == "cancel":
            self.status_label.setText("")
        else:
            self._in_worker(lambda s: delete_customer(s, row.id), partial(self._on_deleted, row.id))

    def _suspend(self, row: CustomerRow) -> None:
        def suspended(_result: object) -> None:
            self._done_message = f"Customer {row.full_name} suspended"
            self.model.refresh()

        self._in_worker(lambda s: customer_actions.set_suspended(s, row.id, True), suspended)

    def _in_worker(self, work: Callable[[Session], Any], done: Callable[[Any], None]) -> None:
        run = read_in_session(self.sessions, work)
        self.status_label.setText("Working…")
        self.workers.run(run, on_result=done, on_error=self._failed, context=self)

    def _failed(self, exc: BaseException) -> None:
        self.status_label.setText(failure_message(exc))

    # Registering ------------------------------------------------------------------------

    def register(self) -> FormDialog | None:
        """Open the registration form; once saved, refresh the list and open the workspace."""
        if self.tenant is None or self.tenant_id is None:
            return None
        dialog = register_form(
            self.sessions, self.workers, tenant=self.tenant, tenant_id=self.tenant_id,
            box=self.secret_box, parent=self,
        )  # fmt: skip
        self.form = dialog
        dialog.saved.connect(self._on_registered)
        dialog.finished.connect(dialog.deleteLater)
        dialog.open()
        self.form_opened.emit(dialog)
        return dialog

    def _on_registered(self, result: tuple[Any, str | None]) -> None:
        info, password = result
        note = f" — PPPoE password: {password}" if password else ""
        self._done_message = f"Customer {info.username} registered{note}"
        self.model.refresh()
        self.registered.emit(info)
        self.open_workspace(info.id)

    # The customer workspace -------------------------------------------------------------

    def open_current(self) -> CustomerWorkspace | None:
        return self._open_index(self.table.currentIndex())

    def _open_index(self, index: QModelIndex) -> CustomerWorkspace | None:
        if not index.isValid():
            return None
        row: CustomerRow | None = self.model.row_object(index.row())
        if row is None:
            return None  # its page was dropped (scrolled far away); shown again, it is read again
        return self.open_workspace(row.id)

    def open_workspace(self, customer_id: uuid.UUID) -> CustomerWorkspace:
        """Show the customer's workspace (one window per customer; raised when already open)."""
        workspace = self.workspaces.get(customer_id)
        if workspace is None:
            workspace = CustomerWorkspace(
                self.sessions, self.workers, customer_id, permissions=self.permissions
            )
            if self.live is not None:
                workspace.follow(self.live)
            workspace.destroyed.connect(lambda: self.workspaces.pop(customer_id, None))
            workspace.deleted.connect(partial(self._on_deleted, customer_id))
            self.workspaces[customer_id] = workspace
            workspace.reload()
        elif not workspace.isVisible():
            workspace.reload()  # closed with Esc earlier: show it fresh
        workspace.show()
        workspace.raise_()
        workspace.activateWindow()
        self.workspace_opened.emit(workspace)
        return workspace

    def _on_deleted(self, customer_id: uuid.UUID, name: str) -> None:
        workspace = self.workspaces.pop(customer_id, None)
        if workspace is not None:
            workspace.deleteLater()
        self._done_message = f"Customer {name} deleted"
        self.model.refresh()
        self.deleted.emit(name)

    def close_workspaces(self) -> None:
        for workspace in list(self.workspaces.values()):
            workspace.close()
            workspace.deleteLater()
        self.workspaces.clear()

    def _show_done_message(self) -> None:
        if self._done_message:
            self.status_label.setText(self._done_message)
            self._done_message = ""

    # Live updates -----------------------------------------------------------------------

    def follow(self, live: LiveUpdates) -> None:
        """Refresh the list (and open workspaces) when payments, sessions or commands change."""
        self.live = live
        live.changed.connect(self._on_live_change)
        for workspace in self.workspaces.values():
            workspace.follow(live)

    def start_live_updates(self, url: URL) -> LiveUpdates:
        """Listen for changes on the console's own login (one thread, its own connection);
        the page owns the listener and stops it in shutdown()."""
        live = LiveUpdates.for_url(url, tenant_id=self.tenant_id, parent=self)
        live.start()
        self.follow(live)
        self._own_live = live
        return live

    def shutdown(self) -> None:
        """Stop listening and close the workspaces (before the database is closed)."""
        live = self._own_live
        self.stop_following()
        self.close_workspaces()
        if live is not None:
            live.stop()
            self._own_live = None

    def stop_following(self) -> None:
        """Before the page goes away: no refresh may start on a closing window."""
        self._live_timer.stop()
        if self.live is not None:
            self.live.changed.disconnect(self._on_live_change)
            for workspace in self.workspaces.values():
                workspace.stop_following(self.live)
            self.live = None

    def _on_live_change(self, change: LiveChange) -> None:
        if change.table in LIVE_TABLES and self._shown_once:
            self._live_timer.start()
