"""The Staff page: operators of this ISP. Every change goes through services.staff, whose
database functions manage each operator's login role; users is never written directly."""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import QWidget
from sqlalchemy.orm import Session

from easyisp_core.errors import ValidationFailed
from easyisp_core.models.enums import StaffRole, UserStatus
from easyisp_core.rules.permissions import PERMISSIONS, ROLE_DEFAULTS, overrides_for
from easyisp_core.services import staff as service
from easyisp_desktop.framework import forms
from easyisp_desktop.framework.entity_page import EntityPage, PageContext
from easyisp_desktop.framework.forms import FormDialog, Values, in_session, read_in_session
from easyisp_desktop.framework.table_model import Column
from easyisp_desktop.views import formatting as fmt

PERMISSION = "staff.read"
MANAGE = "staff.manage"

COLUMNS = (
    Column("username", "Username", sort_key="username"),
    Column("full_name", "Name", sort_key="full_name"),
    Column("role", "Role", fmt.label, sort_key="role"),
    Column("status", "Status", fmt.label),
    Column("email", "Email", fmt.text),
    Column("phone", "Phone", fmt.text),
    Column("last_login_at", "Last login", fmt.moment),
)

NEW_FIELDS = (
    forms.text("username", "Username", required=True, placeholder="jane.doe",
               help="also their database login; cannot be changed later"),
    forms.text("full_name", "Full name", required=True),
    forms.choice("role", "Role", [r for r in StaffRole if r is not StaffRole.SUPER_ADMIN]),
    forms.text("email", "Email"),
    forms.text("phone", "Phone"),
    forms.password("password", "Password", required=True),
    forms.password("password_again", "Password again", required=True),
)  # fmt: skip

PASSWORD_FIELDS = (
    forms.password("password", "New password", required=True),
    forms.password("password_again", "Password again", required=True),
)


def permission_fields(role: StaffRole) -> tuple[forms.Field, ...]:
    """One checkbox per permission of the catalogue, grouped by area; the role's defaults
    are marked so a manager sees what is an override."""
    defaults = ROLE_DEFAULTS[role]
    return tuple(
        forms.boolean(
            name, name, section=name.split(".")[0].capitalize(),
            help=description + (" (role default)" if name in defaults else ""),
        )
        for name, description in PERMISSIONS.items()
    )  # fmt: skip


ROLE_FIELDS = (
    forms.choice("role", "Role", [r for r in StaffRole if r is not StaffRole.SUPER_ADMIN]),
)


class StaffPage(EntityPage):
    def __init__(self, context: PageContext, parent: QWidget | None = None) -> None:
        super().__init__(
            context,
            title="Staff",
            columns=COLUMNS,
            listing="staff",
            nouns=("staff member", "staff members"),
            default_sort="username",
            parent=parent,
        )
        self.add_action(
            "new", "New staff member…", self.new, permission=MANAGE, needs_row=False,
            shortcut="Ctrl+N",
        )  # fmt: skip
        self.add_action("edit", "Change role…", self.change_role, permission=MANAGE)
        self.add_action("permissions", "Permissions…", self.edit_permissions, permission=MANAGE)
        self.add_action("suspend", "Suspend", self.suspend, permission=MANAGE)
        self.add_action("reactivate", "Reactivate", self.reactivate, permission=MANAGE)
        self.add_action("password", "Set password…", self.set_password, permission=MANAGE)
        self.add_action("delete", "Delete", self.delete, permission=MANAGE)

    def new(self) -> FormDialog:
        tenant = self.context.identity.tenant_slug

        def create(session: Session, values: Values) -> Any:
            password = values.pop("password")
            if password != values.pop("password_again"):
                raise ValidationFailed({"password_again": "the two passwords differ"})
            data = {k: v for k, v in values.items() if v is not None}
            return service.create_staff(session, {"tenant": tenant, **data}, password)

        return self.open_form(
            FormDialog(
                title="New staff member",
                fields=NEW_FIELDS,
                values={"role": StaffRole.STAFF},
                save=in_session(self.context.sessions, create),
                workers=self.workers,
                parent=self,
            ),
            "Staff member created",
        )

    def change_role(self) -> FormDialog | None:
        row = self.selected_row()
        if row is None:
            return None

        def save(session: Session, values: Values) -> Any:
            return service.set_role(session, row.username, StaffRole(values["role"]))

        return self.open_form(
            FormDialog(
                title=f"Role of {row.full_name}",
                fields=ROLE_FIELDS,
                values={"role": row.role},
                save=in_session(self.context.sessions, save),
                workers=self.workers,
                parent=self,
            ),
            f"{row.username} is now {fmt.label(row.role).lower()}",
        )

    def edit_permissions(self) -> FormDialog | None:
        """Grant or revoke single permissions on top of the role (the same service as
        `easyisp user permissions`; the database checks the manager may)."""
        row = self.selected_row()
        if row is None:
            return None
        role, username, sessions = StaffRole(row.role), row.username, self.context.sessions

        def read(session: Session) -> dict[str, Any]:
            effective = service.permission_overrides(session, username).effective
            return {name: name in effective for name in PERMISSIONS}

        load = read_in_session(sessions, read)

        def save(session: Session, values: Values) -> Any:
            added, removed = overrides_for(role, [k for k, on in values.items() if on])
            return service.set_permissions(session, username, added, removed)

        return self.open_form(
            FormDialog(
                title=f"Permissions of {row.full_name}",
                fields=permission_fields(role),
                load=load,
                save=in_session(sessions, save),
                workers=self.workers,
                intro=f"{fmt.label(row.role)} defaults are marked. A change applies to this "
                "login only: the database enforces it at once, their console shows it at "
                "their next sign-in.",
                scroll=True,
                parent=self,
            ),
            f"Permissions of {row.username} saved",
        )

    def set_password(self) -> FormDialog | None:
        """A forgotten password: a manager sets a new one (the database checks its strength)."""
        row = self.selected_row()
        if row is None:
            return None

        def save(session: Session, values: Values) -> Any:
            if values["password"] != values["password_again"]:
                raise ValidationFailed({"password_again": "the two passwords differ"})
            return service.change_password(session, row.username, values["password"])

        return self.open_form(
            FormDialog(
                title=f"New password for {row.full_name}",
                fields=PASSWORD_FIELDS,
                save=in_session(self.context.sessions, save),
                workers=self.workers,
                intro="Give it to them in person; they can change it with the same form.",
                parent=self,
            ),
            f"Password set for {row.username}",
        )

    def delete(self) -> None:
        row = self.selected_row()
        question = (
            f"Delete {row.full_name if row else ''}'s login? They can no longer log in; "
            "their name stays in the audit trail."
        )
        if row is None or not self.confirm("Delete staff member", question):
            return
        self._set_status(row.username, UserStatus.DELETED, f"{row.username} deleted")

    def suspend(self) -> None:
        row = self.selected_row()
        question = f"Suspend {row.full_name if row else ''}? They are logged out at once."
        if row is None or not self.confirm("Suspend staff member", question):
            return
        self._set_status(row.username, UserStatus.SUSPENDED, f"{row.username} suspended")

    def reactivate(self) -> None:
        row = self.selected_row()
        if row is not None:
            self._set_status(row.username, UserStatus.ACTIVE, f"{row.username} reactivated")

    def _set_status(self, username: str, status: UserStatus, done: str) -> None:
        change = in_session(
            self.context.sessions, lambda s, _v: service.set_status(s, username, status)
        )
        self.run_command(lambda: change({}), done)

    def _update_actions(self, *args: object) -> None:
        super()._update_actions(*args)
        row = self.selected_row()
        if row is not None and "suspend" in self.actions_by_key:
            self.actions_by_key["suspend"].button.setEnabled(row.status == UserStatus.ACTIVE)
            self.actions_by_key["reactivate"].button.setEnabled(row.status == UserStatus.SUSPENDED)
            gone = row.status == UserStatus.DELETED
            self.actions_by_key["password"].button.setEnabled(not gone)
            self.actions_by_key["permissions"].button.setEnabled(not gone)
            self.actions_by_key["delete"].button.setEnabled(not gone)
