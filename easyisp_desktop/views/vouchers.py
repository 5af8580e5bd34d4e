"""The Vouchers page: hotspot codes by status. With vouchers.write: generate a batch, and
void an unused voucher or a batch's unused ones (lost or stolen printed cards)."""

from __future__ import annotations

import uuid
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox, QWidget
from sqlalchemy.orm import Session

from easyisp_core.db.engine import session_scope
from easyisp_core.errors import PermissionDenied
from easyisp_core.models.enums import VoucherStatus
from easyisp_core.services.packages import package_choices
from easyisp_core.services.vouchers import MAX_BATCH, generate_batch, void_batch, void_voucher
from easyisp_desktop.framework import forms
from easyisp_desktop.framework.entity_page import EntityPage, PageContext
from easyisp_desktop.framework.forms import FormDialog, Values, failure_message, in_session
from easyisp_desktop.framework.table_model import RIGHT, Column
from easyisp_desktop.views import formatting as fmt

PERMISSION = "vouchers.read"
WRITE = "vouchers.write"

COLUMNS = (
    Column("code", "Code", sort_key="code"),
    Column("package_name", "Package"),
    Column("batch_name", "Batch", fmt.text),
    Column("status", "Status", fmt.label, sort_key="status"),
    Column("price", "Price", fmt.kes, alignment=RIGHT),
    Column("valid_until", "Valid until", fmt.moment),
    Column("used_at", "Used", fmt.moment),
    Column("created_at", "Created", fmt.moment, sort_key="created_at"),
)


def batch_fields(packages: list[tuple[str, str]]) -> tuple[forms.Field, ...]:
    return (
        forms.text("name", "Batch name", required=True, placeholder="December promo"),
        forms.choice("package_id", "Package", packages),
        forms.integer("quantity", "How many", required=True, help=f"at most {MAX_BATCH:,}"),
        forms.text("prefix", "Code prefix", placeholder="KLM", help="optional, up to 6 letters"),
    )


class VouchersPage(EntityPage):
    def __init__(self, context: PageContext, parent: QWidget | None = None) -> None:
        super().__init__(
            context,
            title="Vouchers",
            columns=COLUMNS,
            listing="vouchers",
            nouns=("voucher", "vouchers"),
            default_sort="created_at",
            parent=parent,
        )
        self.status_box = QComboBox()
        self.status_box.addItem("Any status", None)
        for status in VoucherStatus:
            self.status_box.addItem(fmt.label(status), status.value)
        self.action_bar.insertWidget(0, self.status_box)
        self.status_box.currentIndexChanged.connect(self._status_changed)
        self.add_action(
            "new", "Generate batch…", self.generate, permission=WRITE, needs_row=False,
            shortcut="Ctrl+N",
        )  # fmt: skip
        self.add_action("void", "Void…", self.void, permission=WRITE)
        self.add_action("void_batch", "Void batch…", self.void_whole_batch, permission=WRITE)
        self.table.horizontalHeader().setSortIndicator(
            self.model.column_index("created_at"), Qt.SortOrder.DescendingOrder
        )

    def show_status(self, status: str | None) -> None:
        self.status_box.setCurrentIndex(max(self.status_box.findData(status), 0))

    def _status_changed(self) -> None:
        self.source.options["status"] = self.status_box.currentData()
        self.model.refresh()

    def generate(self) -> None:
        """Read the package list (worker), then open the batch form (see form_opened)."""
        sessions, tenant_id = self.context.sessions, self.context.tenant_id

        def packages() -> list[tuple[str, str]]:
            if tenant_id is None:
                return []
            with session_scope(sessions) as session:
                return package_choices(session, tenant_id)

        self.workers.run(
            packages,
            on_result=self._open_batch_form,
            on_error=lambda exc: self.action_done.emit(failure_message(exc)),
        )

    def _open_batch_form(self, packages: list[tuple[str, str]]) -> None:
        tenant = self.context.identity.tenant_slug

        def save(session: Session, values: Values) -> Any:
            given = {k: v for k, v in values.items() if v is not None}
            return generate_batch(session, {"tenant": tenant, **given})

        self.open_form(
            FormDialog(
                title="Generate vouchers",
                fields=batch_fields(packages),
                values={"quantity": 50},
                save=in_session(self.context.sessions, save),
                workers=self.workers,
                save_label="Generate",
                parent=self,
            ),
            "Vouchers generated",
        )

    def void(self) -> None:
        row = self.selected_row()
        question = (
            f"Void voucher {row.code if row else ''}? Nobody can log in with it afterwards; "
            "this cannot be undone."
        )
        if row is None or not self.confirm("Void voucher", question):
            return
        tenant_id = self.context.tenant_id
        voucher_id = row.id
        change = in_session(
            self.context.sessions, lambda s, _v: void_voucher(s, _tenant(tenant_id), voucher_id)
        )
        self.run_command(lambda: change({}), f"Voucher {row.code} voided")

    def void_whole_batch(self) -> None:
        row = self.selected_row()
        if row is None or row.batch_id is None:
            return
        question = (
            f"Void every unused voucher of batch {row.batch_name}? Printed cards from it stop "
            "working; vouchers already used are kept. This cannot be undone."
        )
        if not self.confirm("Void batch", question):
            return
        tenant_id, batch_id = self.context.tenant_id, row.batch_id
        change = in_session(
            self.context.sessions, lambda s, _v: void_batch(s, _tenant(tenant_id), batch_id)
        )
        self.run_command(lambda: change({}), f"Unused vouchers of batch {row.batch_name} voided")

    def _update_actions(self, *args: object) -> None:
        super()._update_actions(*args)
        row = self.selected_row()
        if row is not None:
            # Only an unused voucher can be voided; the database refuses the rest anyway.
            self.actions_by_key["void"].button.setEnabled(row.status == VoucherStatus.AVAILABLE)
            self.actions_by_key["void_batch"].button.setEnabled(row.batch_id is not None)


def _tenant(tenant_id: uuid.UUID | None) -> uuid.UUID:
    if tenant_id is None:
        raise PermissionDenied("Vouchers belong to an ISP; log in as one of its staff.")
    return tenant_id
