"""The Routers (NAS) page. Secrets go in through the nas service, encrypted with the site
key, and are never shown here; an empty secret on edit keeps the stored one."""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import QWidget
from sqlalchemy.orm import Session

from easyisp_core.services import nas as service
from easyisp_desktop.framework import forms
from easyisp_desktop.framework.entity_page import EntityPage, PageContext
from easyisp_desktop.framework.forms import FormDialog, Values, in_session, read_in_session
from easyisp_desktop.framework.table_model import RIGHT, Column
from easyisp_desktop.views import formatting as fmt

PERMISSION = "nas.read"
WRITE = "nas.write"

COLUMNS = (
    Column("name", "Name", sort_key="name"),
    Column("ip_address", "Address"),
    Column("status", "Status", fmt.label, sort_key="status"),
    Column("location", "Location", fmt.text),
    Column("api_username", "API user", fmt.text),
    Column("api_port", "API port", alignment=RIGHT),
    Column("require_message_authenticator", "Msg-Auth", fmt.yes_no),
    Column("last_seen_at", "Last seen", fmt.moment, sort_key="last_seen_at"),
)


def _fields(*, editing: bool) -> tuple[forms.Field, ...]:
    keep = "leave empty to keep the current one" if editing else "leave empty to generate one"
    return (
        forms.text("name", "Name", required=True, placeholder="core-router"),
        forms.text("ip_address", "IP address", required=True, placeholder="10.0.0.1"),
        forms.password("secret", "RADIUS secret", help=keep),
        forms.text("api_username", "API username"),
        forms.password("api_password", "API password",
                       help="leave empty to keep the current one" if editing else ""),
        forms.integer("api_port", "API port", required=True),
        forms.text("location", "Location"),
        forms.boolean("require_message_authenticator", "Require Message-Authenticator"),
    )  # fmt: skip


class RoutersPage(EntityPage):
    def __init__(self, context: PageContext, parent: QWidget | None = None) -> None:
        super().__init__(
            context,
            title="Routers",
            columns=COLUMNS,
            listing="routers",
            nouns=("router", "routers"),
            default_sort="name",
            parent=parent,
        )
        self.add_action(
            "new", "Add router…", self.new, permission=WRITE, needs_row=False, shortcut="Ctrl+N"
        )
        self.add_action("edit", "Edit…", self.edit, permission=WRITE)
        self.add_action("delete", "Delete", self.delete, permission=WRITE)

    def new(self) -> FormDialog:
        tenant, box = self.context.identity.tenant_slug, self.context.box

        def create(session: Session, values: Values) -> Any:
            if box is None:
                raise _no_site_key()
            info, _secret = service.create_nas(session, box, {"tenant": tenant, **_given(values)})
            return info

        return self.open_form(
            FormDialog(
                title="Add router",
                fields=_fields(editing=False),
                values={"api_port": 8728, "require_message_authenticator": True},
                save=in_session(self.context.sessions, create),
                workers=self.workers,
                intro="The RADIUS secret is stored encrypted; set the same one on the router.",
                parent=self,
            ),
            "Router added",
        )

    def edit(self) -> FormDialog | None:
        row = self.selected_row()
        if row is None:
            return None
        box = self.context.box

        def update(session: Session, values: Values) -> Any:
            return service.update_nas(session, box, row.id, values)

        return self.open_form(
            FormDialog(
                title=f"Edit router {row.name}",
                fields=_fields(editing=True),
                load=read_in_session(
                    self.context.sessions,
                    lambda s: service.nas_fields(s, row.id).model_dump(mode="json"),
                ),
                save=in_session(self.context.sessions, update),
                workers=self.workers,
                parent=self,
            ),
            "Router saved",
        )

    def delete(self) -> None:
        row = self.selected_row()
        if row is None or not self.confirm("Delete router", f"Delete the router {row.name}?"):
            return
        remove = in_session(self.context.sessions, lambda s, _v: service.delete_nas(s, row.id))
        self.run_command(lambda: remove({}), f"Router {row.name} deleted")


def _given(values: Values) -> Values:
    return {key: value for key, value in values.items() if value is not None}


def _no_site_key() -> Exception:
    from easyisp_core.errors import ValidationFailed

    return ValidationFailed(
        {"secret": "this computer has no site key; add routers on the site server"}
    )
