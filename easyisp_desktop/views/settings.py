"""The Settings page: the tenant's configuration as a typed form built from TenantConfig.

Each leaf of the pydantic model becomes a field ("sms.sender_id"), grouped by section; the
whole configuration is validated by the core on save and errors land next to their fields.
"""

from __future__ import annotations

import types
import typing
from typing import Any

from pydantic import BaseModel
from PySide6.QtWidgets import QHBoxLayout, QLabel, QVBoxLayout, QWidget

from easyisp_core.schemas.tenant_config import TenantConfig
from easyisp_core.services.tenants import read_config, update_config
from easyisp_desktop.framework import forms
from easyisp_desktop.framework.entity_page import PageContext
from easyisp_desktop.framework.forms import FormDialog, Values, in_session, read_in_session

PERMISSION = "settings.write"

SECTIONS = {
    "": "General",
    "sms": "SMS",
    "mpesa": "M-Pesa",
    "branding": "Branding",
    "expired": "Expired subscribers",
}
# Labels that read better than the field names.
LABELS = {
    "timezone": "Time zone",
    "sms.sender_id": "Sender ID",
    "sms.expiry_reminder_hours": "Expiry reminder (hours before)",
    "mpesa.confirm_with_query": "Confirm each payment with an STK query",
    "mpesa.stk_timeout_seconds": "STK push timeout (seconds)",
    "branding.primary_color": "Primary colour (#RRGGBB)",
    "expired.accept_into_expired_pool": "Let expired PPPoE users into the expired pool",
}


def config_fields(model: type[BaseModel] = TenantConfig, prefix: str = "") -> list[forms.Field]:
    """One form field per leaf of the configuration model, in its declared order."""
    result: list[forms.Field] = []
    section = SECTIONS.get(prefix.rstrip("."), prefix.rstrip(".").title())
    for name, info in model.model_fields.items():
        key = prefix + name
        annotation = info.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            result.extend(config_fields(annotation, key + "."))
            continue
        optional = type(None) in typing.get_args(annotation) or isinstance(
            annotation, types.UnionType
        )
        base = next((a for a in typing.get_args(annotation) if a is not type(None)), annotation)
        label = LABELS.get(key, name.replace("_", " ").capitalize())
        if base is bool:
            kind = forms.Kind.BOOL
        elif base is int:
            kind = forms.Kind.INTEGER
        else:
            kind = forms.Kind.TEXT
        required = not optional and kind is not forms.Kind.BOOL
        result.append(forms.Field(key, label, kind, required, section=section))
    return result


def flatten(config: BaseModel, prefix: str = "") -> Values:
    values: Values = {}
    for name in type(config).model_fields:
        value = getattr(config, name)
        if isinstance(value, BaseModel):
            values.update(flatten(value, prefix + name + "."))
        else:
            values[prefix + name] = value
    return values


def nest(values: Values) -> dict[str, Any]:
    """{"sms.enabled": True} → {"sms": {"enabled": True}}; empty optional fields are left out."""
    config: dict[str, Any] = {}
    for key, value in values.items():
        if value is None:
            continue
        *parents, leaf = key.split(".")
        node = config
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = value
    return config


class SettingsPage(QWidget):
    def __init__(self, context: PageContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.title = "Settings"
        self.context = context
        tenant = context.identity.tenant_slug or ""

        def save(session: Any, values: Values) -> Any:
            return update_config(session, tenant, nest(values))

        self.form = FormDialog(
            title="Settings",
            fields=config_fields(),
            save=in_session(context.sessions, save),
            load=read_in_session(context.sessions, lambda s: flatten(read_config(s, tenant))),
            workers=context.workers,
            embedded=True,
            save_label="Save settings",
            intro=f"How {context.identity.tenant_name or 'this ISP'} sends SMS, takes M-Pesa "
            "payments, brands receipts and treats expired subscribers.",
        )
        # Readable line lengths on a wide screen; the fields scroll on a small one, with the
        # Save button always in sight (the form's own scroll area).
        self.form.setMaximumWidth(760)
        row = QHBoxLayout()
        row.addWidget(self.form, 1)
        row.addStretch()
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel("<b>Settings</b>"))
        layout.addLayout(row, 1)
