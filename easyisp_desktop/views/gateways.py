"""The Payment gateways and SMS gateways pages: typed forms over services.gateways (create)
and services.gateway_edits (edit, switch off/on), with gateways.write.

Credentials are sealed with the site key before they leave this PC and are never shown
back: an edit form's secret fields start empty, and an empty one keeps what is stored."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtWidgets import QWidget
from sqlalchemy.orm import Session

from easyisp_core.errors import ValidationFailed
from easyisp_core.models.enums import SmsProvider
from easyisp_core.services import gateway_edits as edits
from easyisp_core.services.gateways import create_payment_gateway, create_sms_gateway
from easyisp_desktop.framework import forms
from easyisp_desktop.framework.entity_page import DeclaredPage, PageContext
from easyisp_desktop.framework.forms import FormDialog, Values, in_session, read_in_session
from easyisp_desktop.framework.table_model import Column
from easyisp_desktop.views import formatting as fmt
from easyisp_desktop.views.gateway_forms import (
    MPESA_INITIATOR,
    MPESA_SECRETS,
    SMS_SECRETS,
    mpesa_fields,
    mpesa_form_values,
    mpesa_values,
    sms_fields,
    sms_form_values,
    sms_values,
)

PERMISSION = "gateways.read"
WRITE = "gateways.write"


class GatewayPage(DeclaredPage):
    """Shared actions: new, edit, deactivate/activate (gateways keep their history)."""

    KIND = ""

    def __init__(self, context: PageContext, parent: QWidget | None = None) -> None:
        super().__init__(context, parent)
        self.add_action(
            "new", f"New {self.KIND} gateway…", self.new, permission=WRITE, needs_row=False,
            shortcut="Ctrl+N",
        )  # fmt: skip
        self.add_action("edit", "Edit…", self.edit, permission=WRITE)
        self.add_action("off", "Deactivate", lambda: self.set_active(False), permission=WRITE)
        self.add_action("on", "Activate", lambda: self.set_active(True), permission=WRITE)

    def new(self) -> FormDialog:
        raise NotImplementedError

    def edit(self) -> FormDialog | None:
        raise NotImplementedError

    def switch(self, session: Session, row: Any, active: bool) -> None:
        raise NotImplementedError

    def _form(
        self, title: str, fields: tuple[forms.Field, ...], save: Callable[[Session, Values], Any],
        done: str, **kw: Any,
    ) -> FormDialog:  # fmt: skip
        return self.open_form(
            FormDialog(
                title=title,
                fields=fields,
                save=in_session(self.context.sessions, save),
                workers=self.workers,
                parent=self,
                **kw,
            ),
            done,
        )

    def _need_box(self, values: Values, secrets: tuple[str, ...]) -> None:
        typed = [key for key in secrets if values.get(key)]
        if typed and self.context.box is None:
            raise ValidationFailed(dict.fromkeys(typed, edits.NO_SITE_KEY))

    def set_active(self, active: bool) -> None:
        row = self.selected_row()
        if row is None:
            return
        change = in_session(self.context.sessions, lambda s, _v: self.switch(s, row, active))
        word = "activated" if active else "deactivated"
        self.run_command(lambda: change({}), f"Gateway {row.name} {word}")

    def _update_actions(self, *args: object) -> None:
        super()._update_actions(*args)
        row = self.selected_row()
        if row is not None and "on" in self.actions_by_key:
            self.actions_by_key["on"].button.setEnabled(not row.is_active)
            self.actions_by_key["off"].button.setEnabled(row.is_active)


class PaymentGatewaysPage(GatewayPage):
    TITLE = "Payment gateways"
    LISTING = "payment_gateways"
    NOUNS = ("gateway", "gateways")
    SORT = "name"
    KIND = "M-Pesa"
    COLUMNS = (
        Column("name", "Name", sort_key="name"),
        Column("provider", "Provider", fmt.label),
        Column("purpose", "Purpose", fmt.label),
        Column("shortcode", "Shortcode"),
        Column("is_active", "Active", fmt.yes_no),
    )

    def new(self) -> FormDialog:
        tenant, box = self.context.identity.tenant_slug, self.context.box

        def save(session: Session, values: Values) -> Any:
            self._need_box(values, (*MPESA_SECRETS, *MPESA_INITIATOR))
            assert box is not None
            return create_payment_gateway(session, box, {"tenant": tenant, **mpesa_values(values)})

        return self._form(
            "New M-Pesa gateway", mpesa_fields(new=True), save, "Gateway added",
            values={"provider": "MPESA_PAYBILL", "purpose": "ALL", "environment": "sandbox"},
        )  # fmt: skip

    def edit(self) -> FormDialog | None:
        row, box = self.selected_row(), self.context.box
        if row is None:
            return None

        def save(session: Session, values: Values) -> Any:
            return edits.update_payment_gateway(session, box, row.id, mpesa_values(values))

        load = read_in_session(
            self.context.sessions,
            lambda s: mpesa_form_values(edits.payment_gateway_fields(s, row.id)),
        )
        return self._form(
            f"M-Pesa gateway {row.name}", mpesa_fields(new=False), save, "Gateway saved", load=load
        )

    def switch(self, session: Session, row: Any, active: bool) -> None:
        edits.set_payment_gateway_active(session, row.id, active)


class SmsGatewaysPage(GatewayPage):
    TITLE = "SMS gateways"
    LISTING = "sms_gateways"
    NOUNS = ("gateway", "gateways")
    SORT = "name"
    KIND = "SMS"
    COLUMNS = (
        Column("name", "Name", sort_key="name"),
        Column("provider", "Provider", fmt.label),
        Column("purpose", "Purpose", fmt.label),
        Column("sender_id", "Sender ID", fmt.text),
        Column("is_default", "Default", fmt.yes_no),
        Column("is_active", "Active", fmt.yes_no),
    )

    def new(self) -> FormDialog:
        tenant, box = self.context.identity.tenant_slug, self.context.box

        def save(session: Session, values: Values) -> Any:
            self._need_box(values, SMS_SECRETS)
            assert box is not None
            return create_sms_gateway(session, box, {"tenant": tenant, **sms_values(values)})

        return self._form(
            "New SMS gateway", sms_fields(new=True), save, "Gateway added",
            values={"provider": SmsProvider.AFRICASTALKING},
        )  # fmt: skip

    def edit(self) -> FormDialog | None:
        row, box = self.selected_row(), self.context.box
        if row is None:
            return None

        def save(session: Session, values: Values) -> Any:
            return edits.update_sms_gateway(session, box, row.id, sms_values(values))

        load = read_in_session(
            self.context.sessions, lambda s: sms_form_values(edits.sms_gateway_fields(s, row.id))
        )
        return self._form(
            f"SMS gateway {row.name}", sms_fields(new=False), save, "Gateway saved", load=load
        )

    def switch(self, session: Session, row: Any, active: bool) -> None:
        edits.set_sms_gateway_active(session, row.id, active)
