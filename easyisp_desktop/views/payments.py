"""The Payments page: every payment, newest first; cash and bank payments are recorded
through services.payments.record_payment (a database function credits the wallet)."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QWidget
from sqlalchemy.orm import Session

from easyisp_core.models.enums import PaymentMethod
from easyisp_core.services.payments import record_payment
from easyisp_desktop.framework import forms
from easyisp_desktop.framework.entity_page import EntityPage, PageContext
from easyisp_desktop.framework.forms import FormDialog, Values, in_session
from easyisp_desktop.framework.table_model import RIGHT, Column
from easyisp_desktop.views import formatting as fmt

PERMISSION = "payments.read"
CREATE = "payments.create"

COLUMNS = (
    Column("created_at", "Date", fmt.moment, sort_key="created_at"),
    Column("customer_name", "Customer", fmt.text),
    Column("customer_username", "Username", fmt.text),
    Column("amount", "Amount", fmt.kes, alignment=RIGHT, sort_key="amount"),
    Column("method", "Method", fmt.label),
    Column("status", "Status", fmt.label),
    Column("transaction_id", "Reference", fmt.text),
    Column("phone", "Phone", fmt.text, visible=False),
    Column("description", "Description", fmt.text),
)

# Payments taken at the counter; M-Pesa arrives through the site service, not by hand.
COUNTER_METHODS = (
    (PaymentMethod.CASH.value, "Cash"),
    (PaymentMethod.BANK.value, "Bank deposit or transfer"),
)

FIELDS = (
    forms.text("customer", "Customer username", required=True),
    forms.money("amount", "Amount (KES)", required=True),
    forms.choice("method", "Method", COUNTER_METHODS),
    forms.text("transaction_id", "Reference", help="required for bank payments"),
    forms.text("description", "Note"),
)


class PaymentsPage(EntityPage):
    def __init__(self, context: PageContext, parent: QWidget | None = None) -> None:
        super().__init__(
            context,
            title="Payments",
            columns=COLUMNS,
            listing="payments",
            nouns=("payment", "payments"),
            default_sort="created_at",
            parent=parent,
        )
        self.add_action(
            "new", "Record payment…", self.record, permission=CREATE, needs_row=False,
            shortcut="Ctrl+N",
        )  # fmt: skip
        self.table.horizontalHeader().setSortIndicator(
            self.model.column_index("created_at"), Qt.SortOrder.DescendingOrder
        )

    def record(self) -> FormDialog:
        tenant = self.context.identity.tenant_slug

        def save(session: Session, values: Values) -> Any:
            given = {k: v for k, v in values.items() if v is not None}
            return record_payment(session, {"tenant": tenant, **given})

        return self.open_form(
            FormDialog(
                title="Record a payment",
                fields=FIELDS,
                values={"method": PaymentMethod.CASH},
                save=in_session(self.context.sessions, save),
                workers=self.workers,
                save_label="Record",
                intro="The amount is credited to the customer's wallet.",
                parent=self,
            ),
            "Payment recorded",
        )
