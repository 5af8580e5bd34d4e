"""The Payment review page: Daraja callbacks that moved no money because something did not
match (unknown account, wrong amount, untrusted source…), with the raw body on request.
List only: marking an entry reviewed is not offered yet."""

from __future__ import annotations

import json

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QPlainTextEdit,
    QVBoxLayout,
    QWidget,
)
from sqlalchemy.orm import Session

from easyisp_core.db.engine import session_scope
from easyisp_core.services.mpesa_review import ReviewEntry, review_entry
from easyisp_desktop.framework.entity_page import EntityPage, PageContext
from easyisp_desktop.framework.forms import failure_message
from easyisp_desktop.framework.table_model import Column
from easyisp_desktop.views import formatting as fmt

PERMISSION = "payments.read"

COLUMNS = (
    Column("kind", "Kind", fmt.label),
    Column("external_id", "Receipt / checkout id", fmt.text),
    Column("received_at", "Received at", fmt.moment, sort_key="received_at"),
    Column("source_address", "Source address", fmt.text),
    Column("review_reason", "Reason", fmt.text),
)


class CallbackDetails(QDialog):
    """One callback's raw body, pretty-printed and read-only."""

    def __init__(self, entry: ReviewEntry, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Callback {entry.external_id or entry.id}")
        summary = QLabel(
            f"<b>{fmt.label(entry.kind)}</b> received {fmt.moment(entry.received_at)} "
            f"from {entry.source_address or 'an unknown address'}<br>"
            f"Kept for review: {entry.reason or '(no reason recorded)'}"
        )
        summary.setWordWrap(True)
        self.body = QPlainTextEdit()
        self.body.setReadOnly(True)
        self.body.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.body.setPlainText(json.dumps(entry.body, indent=2, sort_keys=True, ensure_ascii=False))
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(summary)
        layout.addWidget(self.body, 1)
        layout.addWidget(buttons)
        self.resize(640, 480)


class PaymentReviewPage(EntityPage):
    # The details dialog opened (tests read it).
    details_opened = Signal(object)

    def __init__(self, context: PageContext, parent: QWidget | None = None) -> None:
        super().__init__(
            context,
            title="Payment review",
            columns=COLUMNS,
            listing="mpesa_review",
            nouns=("callback", "callbacks"),
            default_sort="received_at",
            parent=parent,
        )
        self.add_action("edit", "Details…", self.details, permission=PERMISSION)
        self.table.horizontalHeader().setSortIndicator(
            self.model.column_index("received_at"), Qt.SortOrder.DescendingOrder
        )

    def details(self) -> None:
        row = self.selected_row()
        if row is None:
            return
        self.status_label.setText("Loading…")

        def read() -> ReviewEntry:
            session: Session
            with session_scope(self.context.sessions) as session:
                return review_entry(session, row.id)

        self.workers.run(
            read,
            on_result=self._show_details,
            on_error=lambda exc: self.action_done.emit(failure_message(exc)),
        )

    def _show_details(self, entry: ReviewEntry) -> None:
        self.status_label.setText("")
        dialog = CallbackDetails(entry, parent=self)
        dialog.finished.connect(dialog.deleteLater)
        dialog.open()
        self.details_opened.emit(dialog)
