"""The Payment review page: Daraja callbacks that moved no money because something did not
match (unknown account, wrong amount, untrusted source…), with the raw body on request, and
"Close…" for an entry that needs no action (with the reason, kept in the audit trail)."""

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
from easyisp_core.services.mpesa_review import ReviewEntry, close_review, review_entry
from easyisp_desktop.framework import forms
from easyisp_desktop.framework.entity_page import EntityPage, PageContext
from easyisp_desktop.framework.forms import FormDialog, Values, failure_message, in_session
from easyisp_desktop.framework.table_model import Column
from easyisp_desktop.views import formatting as fmt

PERMISSION = "payments.read"
CLOSE_PERMISSION = "payments.create"
CLOSE_FIELDS = (
    forms.multiline(
        "note", "Why no action is needed", required=True,
        help="For example: a test payment, already credited by hand, another business's paybill.",
    ),
)  # fmt: skip

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
        self.add_action("close", "Close…", self.close_entry, permission=CLOSE_PERMISSION)
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

    def close_entry(self) -> FormDialog | None:
        """Ask why the selected callback needs no action, then close it (no money moves)."""
        row = self.selected_row()
        if row is None:
            return None

        def save(session: Session, values: Values) -> None:
            close_review(session, row.id, str(values.get("note") or ""))

        return self.open_form(
            FormDialog(
                title=f"Close review of {row.external_id or row.id}",
                intro=(
                    f"{fmt.label(row.kind)} received {fmt.moment(row.received_at)}: "
                    f"{row.review_reason or 'no reason recorded'}.<br>Closing it moves no "
                    "money. To credit a customer, use the M-Pesa suspense list or the "
                    "statement reconciliation instead."
                ),
                fields=CLOSE_FIELDS,
                save=in_session(self.context.sessions, save),
                save_label="Close entry",
                workers=self.workers,
                parent=self,
            ),
            f"Closed {row.external_id or row.id}",
        )
