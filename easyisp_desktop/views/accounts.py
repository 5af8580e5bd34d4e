"""The Chart of accounts page: add, correct, deactivate or delete accounts with accounts.write."""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import QWidget
from sqlalchemy.orm import Session

from easyisp_core.models.enums import AccountType
from easyisp_core.services import chart_of_accounts as service
from easyisp_desktop.framework import forms
from easyisp_desktop.framework.entity_page import DeclaredPage, PageContext
from easyisp_desktop.framework.forms import FormDialog, Values, in_session, read_in_session
from easyisp_desktop.framework.table_model import Column
from easyisp_desktop.views import formatting as fmt

PERMISSION = "accounts.read"
WRITE = "accounts.write"

FIELDS = (
    forms.text("code", "Code", required=True, placeholder="4001", help="3-10 digits, unique"),
    forms.text("name", "Name", required=True, placeholder="Internet sales"),
    forms.choice("type", "Type", AccountType),
    forms.text("description", "Description"),
    forms.boolean("is_active", "Active"),
)


class AccountsPage(DeclaredPage):
    TITLE = "Chart of accounts"
    LISTING = "accounts"
    NOUNS = ("account", "accounts")
    SORT = "code"
    COLUMNS = (
        Column("code", "Code", sort_key="code"),
        Column("name", "Name", sort_key="name"),
        Column("type", "Type", fmt.label),
        Column("description", "Description", fmt.text),
        Column("is_active", "Active", fmt.yes_no),
    )

    def __init__(self, context: PageContext, parent: QWidget | None = None) -> None:
        super().__init__(context, parent)
        self.add_action(
            "new", "New account…", self.new, permission=WRITE, needs_row=False, shortcut="Ctrl+N"
        )
        self.add_action("edit", "Edit…", self.edit, permission=WRITE)
        self.add_action("delete", "Delete", self.delete, permission=WRITE)

    def new(self) -> FormDialog:
        tenant = self.context.identity.tenant_slug or ""

        def save(session: Session, values: Values) -> Any:
            return service.create_account(session, tenant, values)

        return self.open_form(
            FormDialog(
                title="New account",
                fields=FIELDS,
                values={"type": AccountType.REVENUE, "is_active": True},
                save=in_session(self.context.sessions, save),
                workers=self.workers,
                parent=self,
            ),
            "Account created",
        )

    def edit(self) -> FormDialog | None:
        row = self.selected_row()
        if row is None:
            return None

        def save(session: Session, values: Values) -> Any:
            return service.update_account(session, row.id, values)

        return self.open_form(
            FormDialog(
                title=f"Edit account {row.code}",
                fields=FIELDS,
                load=read_in_session(
                    self.context.sessions, lambda s: service.account_fields(s, row.id).model_dump()
                ),
                save=in_session(self.context.sessions, save),
                workers=self.workers,
                parent=self,
            ),
            "Account saved",
        )

    def delete(self) -> None:
        row = self.selected_row()
        question = f"Delete the account {row.code if row else ''} {row.name if row else ''}?"
        if row is None or not self.confirm("Delete account", question):
            return
        remove = in_session(self.context.sessions, lambda s, _v: service.delete_account(s, row.id))
        self.run_command(lambda: remove({}), f"Account {row.code} deleted")
