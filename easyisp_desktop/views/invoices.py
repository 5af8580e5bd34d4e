"""The Invoices page (read-only here; invoices are issued through services.invoices)."""

from __future__ import annotations

from easyisp_desktop.framework.entity_page import DeclaredPage
from easyisp_desktop.framework.table_model import RIGHT, Column
from easyisp_desktop.views import formatting as fmt

PERMISSION = "invoices.read"


class InvoicesPage(DeclaredPage):
    TITLE = "Invoices"
    LISTING = "invoices"
    NOUNS = ("invoice", "invoices")
    SORT = "issued_at"
    NEWEST_FIRST = True
    COLUMNS = (
        Column("invoice_no", "Number", sort_key="invoice_no"),
        Column("customer_name", "Customer", fmt.text),
        Column("status", "Status", fmt.label),
        Column("total", "Total", fmt.kes, alignment=RIGHT),
        Column("issued_at", "Issued", fmt.moment, sort_key="issued_at"),
        Column("due_date", "Due", fmt.text),
        Column("paid_at", "Paid", fmt.moment),
    )
