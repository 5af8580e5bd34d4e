"""An entity's page: the shared table plus the actions the logged-in user may take.

A view module declares its columns, which core listing feeds them, and its actions with
the permission each needs. Actions the user lacks are never shown (the database would refuse
them anyway). Keyboard: Ctrl+N runs the "new" action, Enter or a double click the "open"
action on the selected row, Ctrl+F searches (TablePage).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from PySide6.QtCore import QModelIndex, QSettings, Qt, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import QHBoxLayout, QMessageBox, QPushButton, QVBoxLayout, QWidget
from sqlalchemy.orm import Session, sessionmaker

from easyisp_core.crypto import SecretBox
from easyisp_core.db.engine import session_scope
from easyisp_core.repositories.keyset import ListQuery
from easyisp_core.repositories.query_cancel import QueryCanceller
from easyisp_core.services.identity import SessionIdentity
from easyisp_core.services.lists import first_list_page, next_list_page
from easyisp_desktop.framework.forms import FormDialog, failure_message
from easyisp_desktop.framework.live_updates import LiveUpdates
from easyisp_desktop.framework.table_model import Column, Page, TableQuery
from easyisp_desktop.framework.table_page import TablePage
from easyisp_desktop.framework.worker import WorkerPool


@dataclass(frozen=True)
class PageContext:
    """What every page is built with: where to read, who is reading, where to remember."""

    sessions: sessionmaker[Session]
    workers: WorkerPool
    settings: QSettings
    identity: SessionIdentity
    # The site key, on a PC that has it (router secrets are encrypted with it).
    box: SecretBox | None = None
    # The window's live-update listener, when it runs (pages follow commands through it).
    live: LiveUpdates | None = None
    # Whether the site service is running, as the status bar last learned (None: unknown).
    service_running: Callable[[], bool | None] = field(default=lambda: None)

    @property
    def tenant_id(self) -> uuid.UUID | None:
        return self.identity.tenant_id


@dataclass(frozen=True)
class RowColumn(Column):
    """A column computed from the whole row (its formatter receives the row)."""

    def value(self, row: Any) -> Any:
        return row


class KeysetSource:
    """Pages of one core listing ("packages", "routers", …), one short session each."""

    def __init__(
        self, sessions: sessionmaker[Session], listing: str, tenant_id: uuid.UUID | None
    ) -> None:
        self.sessions = sessions
        self.listing = listing
        self.tenant_id = tenant_id
        # The listing's extra filters (e.g. active sessions only); set, then refresh the model.
        self.options: dict[str, Any] = {}

    def _query(self, query: TableQuery) -> ListQuery:
        options = tuple(sorted(self.options.items()))
        return ListQuery(query.sort, query.descending, query.text, self.tenant_id, options)

    def first(self, query: TableQuery, limit: int, canceller: QueryCanceller) -> Page:
        with session_scope(self.sessions) as session, canceller.attached(session):
            page = first_list_page(session, self.listing, self._query(query), limit)
        return Page(page.rows, page.count, page.dense)

    def after(
        self, query: TableQuery, last: Any, limit: int, token: Any, canceller: QueryCanceller
    ) -> Sequence[Any]:
        query_ = self._query(query)
        with session_scope(self.sessions) as session, canceller.attached(session):
            return next_list_page(session, self.listing, query_, last, limit, dense=bool(token))


@dataclass
class Action:
    text: str
    run: Callable[[], object]
    button: QPushButton
    needs_row: bool
    allowed: bool
    shortcut: QShortcut | None = field(default=None)


def ask(parent: QWidget, title: str, question: str) -> bool:
    """A yes/no question (tests replace EntityPage.confirm to answer without a modal loop)."""
    answer = QMessageBox.question(parent, title, question)
    return answer == QMessageBox.StandardButton.Yes


class EntityPage(TablePage):
    """A TablePage with an action bar; see the module docstring."""

    # A form this page opened (for tests and screenshots to fill in).
    form_opened = Signal(object)
    # An action finished: its message for the status line.
    action_done = Signal(str)

    def __init__(
        self,
        context: PageContext,
        *,
        title: str,
        columns: Sequence[Column],
        listing: str,
        nouns: tuple[str, str],
        default_sort: str | None = None,
        parent: QWidget | None = None,
    ) -> None:
        self.context = context
        self.source = KeysetSource(context.sessions, listing, context.tenant_id)
        super().__init__(
            title=title,
            columns=columns,
            source=self.source,
            workers=context.workers,
            settings=context.settings,
            settings_key=listing,
            nouns=nouns,
            default_sort=default_sort,
            parent=parent,
        )
        self.actions_by_key: dict[str, Action] = {}
        self.confirm: Callable[[str, str], bool] = lambda t, q: ask(self, t, q)
        self.form: FormDialog | None = None
        self.action_bar = QHBoxLayout()
        self.action_bar.addStretch()
        layout = self.layout()
        assert isinstance(layout, QVBoxLayout)
        layout.insertLayout(1, self.action_bar)
        # Enter and a double click both arrive as `activated`.
        self.table.activated.connect(self._activated)
        self.table.selectionModel().selectionChanged.connect(self._update_actions)
        self.model.modelReset.connect(self._update_actions)
        self.action_done.connect(self.status_label.setText)
        # Shown again once the reload that follows a change has finished ("Loading…" clears).
        self._done_message = ""
        self.model.page_loaded.connect(self._show_done_message)

    # Declaring actions ----------------------------------------------------------------

    def add_action(
        self,
        key: str,
        text: str,
        run: Callable[[], object],
        *,
        permission: str | None,
        needs_row: bool = True,
        shortcut: str | None = None,
    ) -> Action:
        """A button for `run`, shown only when the user has `permission` (None: everyone).

        "new" actions create rows in the user's tenant, so a login without one (the
        database administrator) does not get them."""
        allowed = permission is None or self.context.identity.may(permission)
        if key == "new" and self.context.identity.tenant_slug is None:
            allowed = False
        button = QPushButton(text)
        button.clicked.connect(run)
        button.setVisible(allowed)
        button.setEnabled(not needs_row)
        self.action_bar.insertWidget(self.action_bar.count() - 1, button)
        action = Action(text, run, button, needs_row, allowed)
        if shortcut and allowed:
            action.shortcut = QShortcut(QKeySequence(shortcut), self)
            action.shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            action.shortcut.activated.connect(run)
        self.actions_by_key[key] = action
        return action

    def allowed_actions(self) -> list[str]:
        return [key for key, action in self.actions_by_key.items() if action.allowed]

    def select_row(self, row: int) -> None:
        self.table.selectRow(row)

    def _update_actions(self, *_args: object) -> None:
        has_row = self.selected_row() is not None
        for action in self.actions_by_key.values():
            if action.needs_row:
                action.button.setEnabled(has_row)

    def _activated(self, _index: QModelIndex) -> None:
        action = self.actions_by_key.get("edit")
        if action is not None and action.allowed:
            action.run()

    # Running forms and commands -------------------------------------------------------

    def open_form(self, dialog: FormDialog, done: str) -> FormDialog:
        """Show `dialog` (window-modal, non-blocking); reload the table when it saves."""
        self.form = dialog
        dialog.saved.connect(lambda _result: self._after_change(done))
        dialog.finished.connect(dialog.deleteLater)
        dialog.open()
        self.form_opened.emit(dialog)
        return dialog

    def run_command(self, work: Callable[[], Any], done: str) -> None:
        """A one-click change (delete, suspend): in a worker, then reload; errors in status."""
        self.status_label.setText("Working…")
        self.workers.run(
            work,
            on_result=lambda _r: self._after_change(done),
            on_error=lambda exc: self.action_done.emit(failure_message(exc)),
            context=self,
        )

    def _after_change(self, done: str) -> None:
        self._done_message = done
        self.model.refresh()
        self.action_done.emit(done)

    def _show_done_message(self) -> None:
        if self._done_message:
            self.status_label.setText(self._done_message)
            self._done_message = ""


class DeclaredPage(EntityPage):
    """A page declared by class attributes alone (read-only lists need nothing more)."""

    TITLE = ""
    LISTING = ""
    COLUMNS: tuple[Column, ...] = ()
    NOUNS = ("row", "rows")
    SORT: str | None = None
    # Open with the newest rows on top (SORT is a date).
    NEWEST_FIRST = False

    def __init__(self, context: PageContext, parent: QWidget | None = None) -> None:
        super().__init__(
            context,
            title=self.TITLE,
            columns=self.COLUMNS,
            listing=self.LISTING,
            nouns=self.NOUNS,
            default_sort=self.SORT,
            parent=parent,
        )
        if self.NEWEST_FIRST and self.SORT is not None:
            sort_column = next(i for i, c in enumerate(self.COLUMNS) if c.sort_key == self.SORT)
            self.table.horizontalHeader().setSortIndicator(
                sort_column, Qt.SortOrder.DescendingOrder
            )
