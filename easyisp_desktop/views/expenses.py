"""The Expenses page: record, correct and delete expenses with expenses.write."""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import QWidget
from sqlalchemy.orm import Session

from easyisp_core.services import expenses as service
from easyisp_desktop.framework import forms
from easyisp_desktop.framework.entity_page import DeclaredPage, PageContext
from easyisp_desktop.framework.forms import FormDialog, Values, in_session, read_in_session
from easyisp_desktop.framework.table_model import RIGHT, Column
from easyisp_desktop.views import formatting as fmt

PERMISSION = "expenses.read"
WRITE = "expenses.write"

FIELDS = (
    forms.date_field("expense_date", "Date"),
    forms.text("category", "Category", required=True, placeholder="Power"),
    forms.text("description", "Description", required=True),
    forms.money("amount", "Amount (KES)", required=True),
    forms.text("vendor", "Vendor"),
    forms.text("reference", "Reference"),
)


class ExpensesPage(DeclaredPage):
    TITLE = "Expenses"
    LISTING = "expenses"
    NOUNS = ("expense", "expenses")
    SORT = "expense_date"
    NEWEST_FIRST = True
    COLUMNS = (
        Column("expense_date", "Date", fmt.text, sort_key="expense_date"),
        Column("category", "Category"),
        Column("description", "Description"),
        Column("vendor", "Vendor", fmt.text),
        Column("amount", "Amount", fmt.kes, alignment=RIGHT, sort_key="amount"),
        Column("reference", "Reference", fmt.text),
        Column("is_recurring", "Recurring", fmt.yes_no),
    )

    def __init__(self, context: PageContext, parent: QWidget | None = None) -> None:
        super().__init__(context, parent)
        self.add_action(
            "new", "Record expense…", self.new, permission=WRITE, needs_row=False,
            shortcut="Ctrl+N",
        )  # fmt: skip
        self.add_action("edit", "Edit…", self.edit, permission=WRITE)
        self.add_action("delete", "Delete", self.delete, permission=WRITE)

    def new(self) -> FormDialog:
        tenant = self.context.identity.tenant_slug or ""

        def save(session: Session, values: Values) -> Any:
            return service.record_expense(session, tenant, values)

        return self.open_form(
            FormDialog(
                title="Record an expense",
                fields=FIELDS,
                save=in_session(self.context.sessions, save),
                workers=self.workers,
                parent=self,
            ),
            "Expense recorded",
        )

    def edit(self) -> FormDialog | None:
        row = self.selected_row()
        if row is None:
            return None

        def save(session: Session, values: Values) -> Any:
            return service.update_expense(session, row.id, values)

        return self.open_form(
            FormDialog(
                title="Edit expense",
                fields=FIELDS,
                load=read_in_session(
                    self.context.sessions, lambda s: service.expense_fields(s, row.id).model_dump()
                ),
                save=in_session(self.context.sessions, save),
                workers=self.workers,
                parent=self,
            ),
            "Expense saved",
        )

    def delete(self) -> None:
        row = self.selected_row()
        if row is None or not self.confirm("Delete expense", f"Delete “{row.description}”?"):
            return
        remove = in_session(self.context.sessions, lambda s, _v: service.delete_expense(s, row.id))
        self.run_command(lambda: remove({}), "Expense deleted")
