"""The M-Pesa suspense page: paybill money that named no customer we know, until staff
assign it (services.mpesa_suspense.resolve_suspense, a database function that checks
payments.create credits the wallet; the package renews when the wallet covers it)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from PySide6.QtWidgets import QButtonGroup, QRadioButton, QWidget
from sqlalchemy.orm import Session

from easyisp_core.services.mpesa_suspense import Resolution, resolve_suspense
from easyisp_desktop.framework.entity_page import EntityPage, PageContext
from easyisp_desktop.framework.forms import failure_message, in_session
from easyisp_desktop.framework.table_model import RIGHT, Column
from easyisp_desktop.views import formatting as fmt
from easyisp_desktop.views.customer_picker import CustomerPicker
from easyisp_desktop.views.mpesa_reconcile import ReconcileDialog

PERMISSION = "payments.read"
CREATE = "payments.create"

COLUMNS = (
    Column("receipt", "Receipt", fmt.text, sort_key="receipt"),
    Column("paid_at", "Paid at", fmt.moment, sort_key="paid_at"),
    Column("amount", "Amount", fmt.kes, alignment=RIGHT, sort_key="amount"),
    # As Daraja gives it: masked (2547****126) or hashed, never a number to dial.
    Column("msisdn", "Phone", fmt.text),
    Column("account_reference", "Account typed", fmt.text),
    Column("payer_name", "Payer", fmt.text),
    Column("status", "Status", fmt.label),
    Column("reason", "Why here", fmt.text, visible=False),
    Column("created_at", "Received", fmt.moment, sort_key="created_at", visible=False),
)


def resolution_message(receipt: str, customer: Any, result: Resolution) -> str:
    who = f"{customer.full_name} ({customer.username})"
    if result.renewed_until is not None:
        until = fmt.moment(result.renewed_until)
        return f"{receipt} credited to {who}; package renewed until {until}"
    return f"{receipt} credited to {who}'s wallet (not enough to renew the package)"


class SuspensePage(EntityPage):
    def __init__(self, context: PageContext, parent: QWidget | None = None) -> None:
        super().__init__(
            context,
            title="M-Pesa suspense",
            columns=COLUMNS,
            listing="mpesa_suspense",
            nouns=("payment", "payments"),
            # Oldest first: the payer waiting longest is served first.
            default_sort="paid_at",
            parent=parent,
        )
        self.open_button = QRadioButton("Waiting")
        self.all_button = QRadioButton("All")
        self._which = QButtonGroup(self)
        for button in (self.open_button, self.all_button):
            self._which.addButton(button)
            self.action_bar.insertWidget(self.action_bar.count() - 1, button)
        self.open_button.setChecked(True)
        self.source.options["status"] = "OPEN"
        self._which.buttonToggled.connect(self._switch)
        self.add_action("assign", "Assign to customer…", self.assign, permission=CREATE)
        self.add_action(
            "reconcile", "Reconcile M-Pesa statement…", self.reconcile, permission=CREATE,
            needs_row=False,
        )  # fmt: skip
        # Assigning needs a tenant (a database administrator has none).
        if context.tenant_id is None:
            for key in ("assign", "reconcile"):
                self.actions_by_key[key].allowed = False
                self.actions_by_key[key].button.setVisible(False)
        self.picker: CustomerPicker | None = None
        self.reconciler: ReconcileDialog | None = None
        self.last_result = ""

    def _switch(self, _button: object, checked: bool) -> None:
        if checked:
            self.source.options["status"] = "OPEN" if self.open_button.isChecked() else None
            self.model.refresh()

    def _update_actions(self, *args: object) -> None:
        super()._update_actions(*args)
        row = self.selected_row()
        self.actions_by_key["assign"].button.setEnabled(row is not None and row.status == "OPEN")

    def assign(self) -> CustomerPicker | None:
        row = self.selected_row()
        if row is None or row.status != "OPEN":
            return None
        intro = (
            f"Receipt <b>{row.receipt}</b>, {fmt.kes(row.amount)} from "
            f"{row.payer_name or row.msisdn or 'an unknown payer'} "
            f"(account typed: {row.account_reference or 'none'}).<br>"
            "Whose payment is it? The amount is credited to their wallet."
        )
        picker = CustomerPicker(self.context, intro, parent=self)
        picker.picked.connect(lambda customer: self._resolve(row, customer))
        picker.finished.connect(picker.deleteLater)
        self.picker = picker
        picker.open()
        self.form_opened.emit(picker)
        return picker

    def _resolve(self, row: Any, customer: Any) -> None:
        def save(session: Session, _values: object) -> Resolution:
            return resolve_suspense(session, row.id, customer.id, datetime.now(UTC))

        work = in_session(self.context.sessions, save)
        self.status_label.setText("Assigning…")

        def done(result: Resolution) -> None:
            self.last_result = resolution_message(row.receipt, customer, result)
            self._after_change(self.last_result)

        def failed(exc: BaseException) -> None:
            self.last_result = failure_message(exc)
            self.action_done.emit(self.last_result)

        self.workers.run(lambda: work({}), on_result=done, on_error=failed)

    def reconcile(self) -> ReconcileDialog | None:
        if self.context.tenant_id is None:
            return None
        dialog = ReconcileDialog(self.context, parent=self)
        dialog.credited.connect(lambda: self.model.refresh())
        dialog.finished.connect(dialog.deleteLater)
        self.reconciler = dialog
        dialog.open()
        self.form_opened.emit(dialog)
        return dialog
