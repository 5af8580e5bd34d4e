"""The "Register customer" form: a new subscriber through services.customers.register_customer.

The package and router pick lists are read in a worker when the form opens; saving runs in
a worker too. Static IP and MAC binding are checked (and the MAC normalised) by the core.
The PPPoE password is encrypted with the site key, so only a PC that has it can register.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from PySide6.QtWidgets import QComboBox, QWidget
from sqlalchemy.orm import Session, sessionmaker

from easyisp_core.crypto import SecretBox
from easyisp_core.db.engine import session_scope
from easyisp_core.errors import Conflict, ValidationFailed
from easyisp_core.models.enums import ConnectionType
from easyisp_core.repositories.integrity import conflict_field_errors
from easyisp_core.repositories.packages import PackageRepository
from easyisp_core.services.customers import register_customer
from easyisp_core.services.nas import router_choices
from easyisp_core.services.packages import package_choices
from easyisp_core.services.results import CustomerInfo
from easyisp_desktop.framework import forms
from easyisp_desktop.framework.forms import FormDialog, Values, in_session
from easyisp_desktop.framework.worker import WorkerPool

WRITE = "customers.write"
NO_SITE_KEY = "this computer has no site key; register customers on the site server"

CONNECTIONS = (
    ConnectionType.PPPOE,
    ConnectionType.HOTSPOT,
    ConnectionType.STATIC,
    ConnectionType.DHCP,
)

FIELDS = (
    forms.text("username", "Username", required=True, placeholder="wanjiru.k"),
    forms.text("full_name", "Full name", required=True),
    forms.text("phone", "Phone", placeholder="0712 345 678"),
    forms.choice("connection_type", "Connection", CONNECTIONS),
    forms.choice("package", "Package", (), required=False),
    forms.password(
        "password", "PPPoE password", help="left empty: one is generated and shown once"
    ),
    forms.choice("router", "Router", (), required=False, section="Line"),
    forms.text(
        "static_ip",
        "Static IP",
        placeholder="10.20.0.15",
        help="required for a static line; an IPv4 address",
    ),
    forms.text(
        "mac_address",
        "MAC binding",
        placeholder="AA:BB:CC:DD:EE:FF",
        help="optional: the device allowed to connect",
    ),
    forms.text("email", "Email", section="Contact"),
    forms.text("id_number", "ID number"),
    forms.text("address", "Address"),
)


def register_form(
    sessions: sessionmaker[Session],
    workers: WorkerPool,
    *,
    tenant: str,
    tenant_id: uuid.UUID,
    box: SecretBox | None,
    parent: QWidget | None = None,
) -> FormDialog:
    """The dialog; its `saved` signal carries (CustomerInfo, generated password or None)."""

    def save(session: Session, values: Values) -> tuple[CustomerInfo, str | None]:
        if box is None:
            raise ValidationFailed({"password": NO_SITE_KEY})
        given = {key: value for key, value in values.items() if value is not None}
        if "package" in given:  # the pick list holds ids; the service takes the name
            given["package"] = PackageRepository(session).find(uuid.UUID(given["package"])).name
        try:
            return register_customer(session, box, {"tenant": tenant, **given})
        except Conflict as exc:  # a taken username belongs next to the username
            errors = conflict_field_errors(exc)
            if not errors:
                raise
            raise ValidationFailed(errors, exc.user_message) from exc

    dialog = FormDialog(
        title="Register customer",
        fields=FIELDS,
        values={"connection_type": ConnectionType.PPPOE},
        save=in_session(sessions, save),
        workers=workers,
        save_label="Register",
        parent=parent,
    )
    dialog.status.setText("Loading packages and routers…")
    workers.run(
        _reader(sessions, lambda s: (package_choices(s, tenant_id), router_choices(s, tenant_id))),
        on_result=lambda choices: _fill_choices(dialog, *choices),
        on_error=lambda exc: dialog.status.setText(forms.failure_message(exc)),
        context=dialog,  # Esc before the lists arrive: nothing left to fill
    )
    return dialog


def _reader(sessions: sessionmaker[Session], read: Callable[[Session], Any]) -> Callable[[], Any]:
    def run() -> Any:
        with session_scope(sessions) as session:
            return read(session)

    return run


def _fill_choices(
    dialog: FormDialog, packages: list[tuple[str, str]], routers: list[tuple[str, str]]
) -> None:
    for key, choices in (("package", packages), ("router", routers)):
        box = dialog.editor(key).widget
        assert isinstance(box, QComboBox)
        for value, label in choices:
            box.addItem(label, value)
    if not dialog.busy:
        dialog.status.setText("")
