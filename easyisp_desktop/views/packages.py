"""The Packages page: the plans customers buy. Create, edit and delete with packages.write."""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import QWidget
from sqlalchemy.orm import Session

from easyisp_core.models.enums import PackageType, ValidityUnit
from easyisp_core.repositories.lists import PackageRow
from easyisp_core.services import packages as service
from easyisp_desktop.framework import forms
from easyisp_desktop.framework.entity_page import EntityPage, PageContext, RowColumn
from easyisp_desktop.framework.forms import FormDialog, Values, in_session, read_in_session
from easyisp_desktop.framework.table_model import RIGHT, Column
from easyisp_desktop.views import formatting as fmt

PERMISSION = "packages.read"
WRITE = "packages.write"


def _validity(row: PackageRow) -> str:
    unit = row.validity_unit.lower()
    return f"{row.validity_value} {unit[:-1] if row.validity_value == 1 else unit}"


COLUMNS = (
    Column("name", "Name", sort_key="name"),
    Column("type", "Type", fmt.label, sort_key="type"),
    Column("price", "Price", fmt.kes, alignment=RIGHT, sort_key="price"),
    Column("download_speed", "Download", fmt.mbps, alignment=RIGHT),
    Column("upload_speed", "Upload", fmt.mbps, alignment=RIGHT),
    RowColumn("validity", "Validity", _validity),
    Column("shared_users", "Devices", alignment=RIGHT),
    Column("is_active", "Active", fmt.yes_no),
)

FIELDS = (
    forms.text("name", "Name", required=True, placeholder="Home 10 Mbps"),
    forms.choice("type", "Type", PackageType),
    forms.money("price", "Price (KES)", required=True),
    forms.decimal("download_speed", "Download (Mbps)", required=True),
    forms.decimal("upload_speed", "Upload (Mbps)", required=True),
    forms.integer("validity_value", "Validity", required=True, placeholder="1"),
    forms.choice("validity_unit", "Validity unit", ValidityUnit),
    forms.integer("shared_users", "Devices at once", required=True),
    forms.integer("priority", "Queue priority (1-8)", required=True),
    forms.text("address_pool", "Address pool"),
    forms.multiline("description", "Description"),
)

NEW_VALUES: Values = {
    "type": PackageType.PPPOE,
    "validity_value": 1,
    "validity_unit": ValidityUnit.MONTHS,
    "shared_users": 1,
    "priority": 8,
}


class PackagesPage(EntityPage):
    def __init__(self, context: PageContext, parent: QWidget | None = None) -> None:
        super().__init__(
            context,
            title="Packages",
            columns=COLUMNS,
            listing="packages",
            nouns=("package", "packages"),
            default_sort="name",
            parent=parent,
        )
        self.add_action(
            "new", "New package…", self.new, permission=WRITE, needs_row=False, shortcut="Ctrl+N"
        )
        self.add_action("edit", "Edit…", self.edit, permission=WRITE)
        self.add_action("delete", "Delete", self.delete, permission=WRITE)

    def new(self) -> FormDialog:
        tenant = self.context.identity.tenant_slug

        def create(session: Session, values: Values) -> Any:
            return service.create_package(session, {"tenant": tenant, **_given(values)})

        return self.open_form(
            FormDialog(
                title="New package",
                fields=FIELDS,
                values=NEW_VALUES,
                save=in_session(self.context.sessions, create),
                workers=self.workers,
                parent=self,
            ),
            "Package created",
        )

    def edit(self) -> FormDialog | None:
        row = self.selected_row()
        if row is None:
            return None

        def update(session: Session, values: Values) -> Any:
            return service.update_package(session, row.id, values)

        return self.open_form(
            FormDialog(
                title=f"Edit package {row.name}",
                fields=FIELDS,
                load=read_in_session(
                    self.context.sessions, lambda s: service.package_fields(s, row.id).model_dump()
                ),
                save=in_session(self.context.sessions, update),
                workers=self.workers,
                parent=self,
            ),
            "Package saved",
        )

    def delete(self) -> None:
        row = self.selected_row()
        if row is None or not self.confirm("Delete package", f"Delete the package {row.name}?"):
            return
        remove = in_session(self.context.sessions, lambda s, _v: service.delete_package(s, row.id))
        self.run_command(lambda: remove({}), f"Package {row.name} deleted")


def _given(values: Values) -> Values:
    # Fields left empty keep the service's defaults (burst settings are not on this form).
    return {key: value for key, value in values.items() if value is not None}
