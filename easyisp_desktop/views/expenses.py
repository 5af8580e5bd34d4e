"""The Expenses page (read-only list)."""

from __future__ import annotations

from easyisp_desktop.framework.entity_page import DeclaredPage
from easyisp_desktop.framework.table_model import RIGHT, Column
from easyisp_desktop.views import formatting as fmt

PERMISSION = "expenses.read"


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
