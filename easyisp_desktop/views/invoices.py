"""The Invoices page: issue, correct, mark paid or void invoices with invoices.write.

Totals are computed by the core in Decimal; a paid or void invoice is final, and invoices
are never deleted (their numbers must stay without gaps)."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from PySide6.QtWidgets import QWidget
from sqlalchemy.orm import Session

from easyisp_core.errors import ValidationFailed
from easyisp_core.models.enums import InvoiceStatus
from easyisp_core.services import invoices as service
from easyisp_desktop.framework import forms
from easyisp_desktop.framework.entity_page import DeclaredPage, PageContext
from easyisp_desktop.framework.forms import FormDialog, Values, in_session, read_in_session
from easyisp_desktop.framework.table_model import RIGHT, Column
from easyisp_desktop.views import formatting as fmt
from easyisp_desktop.views.invoice_lines import (
    EXAMPLE,
    format_lines,
    on_items_field,
    parse_lines,
    show_totals,
)

PERMISSION = "invoices.read"
WRITE = "invoices.write"
DUE_AFTER = timedelta(days=14)
OPEN = {InvoiceStatus.PENDING.value, InvoiceStatus.OVERDUE.value}

FIELDS = (
    forms.text("customer", "Customer username", placeholder="left empty: a walk-in sale"),
    forms.multiline("items", "Items", required=True, placeholder=EXAMPLE,
                    help="one line each: description | quantity | unit price"),
    forms.decimal("vat_percent", "VAT (%)", placeholder="0", help="16 for standard VAT"),
    forms.date_field("due_date", "Due"),
    forms.multiline("notes", "Notes"),
)  # fmt: skip


def _core_values(values: Values) -> Values:
    percent: Decimal = values.get("vat_percent") or Decimal("0")
    return {
        "customer": values.get("customer"),
        "items": parse_lines(values.get("items")),
        "tax_rate": percent / 100,
        "due_date": values.get("due_date"),
        "notes": values.get("notes"),
    }


def _form_values(fields: service.InvoiceFields) -> Values:
    return {
        "customer": fields.customer,
        "items": format_lines(fields.items),
        "vat_percent": (fields.tax_rate * 100).normalize(),
        "due_date": fields.due_date,
        "notes": fields.notes,
    }


def _placed(work: Any) -> Any:
    """Run `work`, moving the core's per-line errors onto the one Items field."""
    try:
        return work()
    except ValidationFailed as exc:
        raise ValidationFailed(on_items_field(exc.field_errors), exc.user_message) from exc


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

    def __init__(self, context: PageContext, parent: QWidget | None = None) -> None:
        super().__init__(context, parent)
        self.add_action(
            "new", "New invoice…", self.new, permission=WRITE, needs_row=False, shortcut="Ctrl+N"
        )
        self.add_action("edit", "Edit…", self.edit, permission=WRITE)
        self.add_action("paid", "Mark paid", self.mark_paid, permission=WRITE)
        self.add_action("void", "Void", self.void, permission=WRITE)

    def new(self) -> FormDialog:
        tenant = self.context.identity.tenant_slug

        def save(session: Session, values: Values) -> Any:
            data = {"tenant": tenant, **_placed(lambda: _core_values(values))}
            return _placed(lambda: service.create_invoice(session, data))

        dialog = FormDialog(
            title="New invoice",
            fields=FIELDS,
            values={"due_date": date.today() + DUE_AFTER},
            save=in_session(self.context.sessions, save),
            workers=self.workers,
            save_label="Issue",
            parent=self,
        )
        show_totals(dialog)
        return self.open_form(dialog, "Invoice issued")

    def edit(self) -> FormDialog | None:
        row = self.selected_row()
        if row is None:
            return None
        if row.status not in OPEN:  # Enter on a paid or void invoice
            self.action_done.emit(f"Invoice {row.invoice_no} is {row.status}; it is final.")
            return None

        def save(session: Session, values: Values) -> Any:
            data = _placed(lambda: _core_values(values))
            return _placed(lambda: service.update_invoice(session, row.id, data))

        dialog = FormDialog(
            title=f"Invoice {row.invoice_no}",
            fields=FIELDS,
            load=read_in_session(
                self.context.sessions, lambda s: _form_values(service.invoice_fields(s, row.id))
            ),
            save=in_session(self.context.sessions, save),
            workers=self.workers,
            parent=self,
        )
        show_totals(dialog)
        return self.open_form(dialog, f"Invoice {row.invoice_no} saved")

    def mark_paid(self) -> None:
        row = self.selected_row()
        if row is not None:
            work = in_session(
                self.context.sessions, lambda s, _v: service.mark_invoice_paid(s, row.id)
            )
            self.run_command(lambda: work({}), f"Invoice {row.invoice_no} marked paid")

    def void(self) -> None:
        row = self.selected_row()
        question = f"Void invoice {row.invoice_no if row else ''}? This cannot be undone."
        if row is None or not self.confirm("Void invoice", question):
            return
        work = in_session(self.context.sessions, lambda s, _v: service.void_invoice(s, row.id))
        self.run_command(lambda: work({}), f"Invoice {row.invoice_no} voided")

    def _update_actions(self, *args: object) -> None:
        super()._update_actions(*args)
        row = self.selected_row()
        if row is not None:
            for key in ("edit", "paid", "void"):
                if key in self.actions_by_key:
                    self.actions_by_key[key].button.setEnabled(row.status in OPEN)
