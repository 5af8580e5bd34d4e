"""The Tenants page: every ISP on this site (super admins only, tenants.manage): create one,
change its display name, suspend or reactivate it. A tenant is never deleted (its audit
trail refers to it)."""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import QWidget
from sqlalchemy.orm import Session

from easyisp_core.models.enums import TenantStatus
from easyisp_core.services import tenants as service
from easyisp_desktop.framework import forms
from easyisp_desktop.framework.entity_page import DeclaredPage, PageContext
from easyisp_desktop.framework.forms import FormDialog, Values, in_session
from easyisp_desktop.framework.table_model import Column
from easyisp_desktop.views import formatting as fmt

PERMISSION = "tenants.manage"

NEW_FIELDS = (
    forms.text("name", "Name", required=True, placeholder="kilimanet",
               help="lower-case letters, digits and dashes; cannot be changed later"),
    forms.text("display_name", "Display name", required=True, placeholder="KilimaNet Ltd"),
    forms.choice("status", "Status", [TenantStatus.TRIAL, TenantStatus.ACTIVE]),
)  # fmt: skip
EDIT_FIELDS = (forms.text("display_name", "Display name", required=True),)


class TenantsPage(DeclaredPage):
    TITLE = "Tenants"
    LISTING = "tenants"
    NOUNS = ("tenant", "tenants")
    SORT = "name"
    COLUMNS = (
        Column("name", "Name", sort_key="name"),
        Column("display_name", "Display name"),
        Column("status", "Status", fmt.label),
        Column("created_at", "Created", fmt.moment, sort_key="created_at"),
    )

    def __init__(self, context: PageContext, parent: QWidget | None = None) -> None:
        super().__init__(context, parent)
        self.add_action(
            "new", "New tenant…", self.new, permission=PERMISSION, needs_row=False,
            shortcut="Ctrl+N",
        )  # fmt: skip
        self.add_action("edit", "Rename…", self.edit, permission=PERMISSION)
        self.add_action("suspend", "Suspend", self.suspend, permission=PERMISSION)
        self.add_action("reactivate", "Reactivate", self.reactivate, permission=PERMISSION)

    def new(self) -> FormDialog:
        def save(session: Session, values: Values) -> Any:
            return service.create_tenant(session, values)

        return self.open_form(
            FormDialog(
                title="New tenant",
                fields=NEW_FIELDS,
                values={"status": TenantStatus.ACTIVE},
                save=in_session(self.context.sessions, save),
                workers=self.workers,
                parent=self,
            ),
            "Tenant created",
        )

    def edit(self) -> FormDialog | None:
        row = self.selected_row()
        if row is None:
            return None

        def save(session: Session, values: Values) -> Any:
            return service.rename_tenant(session, row.id, values)

        return self.open_form(
            FormDialog(
                title=f"Tenant {row.name}",
                fields=EDIT_FIELDS,
                values={"display_name": row.display_name},
                save=in_session(self.context.sessions, save),
                workers=self.workers,
                parent=self,
            ),
            "Tenant saved",
        )

    def suspend(self) -> None:
        row = self.selected_row()
        name = row.display_name if row else ""
        question = f"Suspend {name}? Its hotspot portal stops selling until it is reactivated."
        if row is None or not self.confirm("Suspend tenant", question):
            return
        self._set_status(row, TenantStatus.SUSPENDED, f"{row.name} suspended")

    def reactivate(self) -> None:
        row = self.selected_row()
        if row is not None:
            self._set_status(row, TenantStatus.ACTIVE, f"{row.name} reactivated")

    def _set_status(self, row: Any, status: TenantStatus, done: str) -> None:
        change = in_session(
            self.context.sessions, lambda s, _v: service.set_tenant_status(s, row.id, status)
        )
        self.run_command(lambda: change({}), done)

    def _update_actions(self, *args: object) -> None:
        super()._update_actions(*args)
        row = self.selected_row()
        if row is not None and "suspend" in self.actions_by_key:
            suspended = row.status == TenantStatus.SUSPENDED
            self.actions_by_key["suspend"].button.setEnabled(not suspended)
            self.actions_by_key["reactivate"].button.setEnabled(suspended)
