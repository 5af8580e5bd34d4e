"""The workspace's small forms (edit profile, change package, take a payment, top up,
check an M-Pesa receipt).

Each is a QDialog with a QFormLayout. OK does not close it: the workspace runs the action in
a worker and either accepts the dialog or shows the core's validation messages next to the
fields, keeping what the operator typed."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, Literal

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QVBoxLayout,
    QWidget,
)

from easyisp_core.services.customer_removal import why_not_deletable
from easyisp_core.services.customer_workspace import CustomerProfile, PackageChoice
from easyisp_desktop.framework.theme import Tone, set_tone
from easyisp_desktop.workspace.formatting import kes

Field = QLineEdit | QComboBox | QPlainTextEdit


class FieldDialog(QDialog):
    """A form of named fields; emits `submitted(values)` and waits for the outcome."""

    submitted = Signal(dict)

    def __init__(self, title: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.fields: dict[str, Field] = {}
        self.field_errors: dict[str, QLabel] = {}
        self.form = QFormLayout()
        self.message = QLabel()
        self.message.setWordWrap(True)
        set_tone(self.message, Tone.ERROR)
        self.message.hide()
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons.accepted.connect(self._submit)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(self.form)
        layout.addWidget(self.message)
        layout.addWidget(self.buttons)

    def add_field(self, key: str, label: str, widget: Field) -> Field:
        error = QLabel()
        set_tone(error, Tone.ERROR)
        error.setWordWrap(True)
        error.hide()
        box = QWidget()
        column = QVBoxLayout(box)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(2)
        column.addWidget(widget)
        column.addWidget(error)
        self.form.addRow(label, box)
        self.fields[key] = widget
        self.field_errors[key] = error
        return widget

    def values(self) -> dict[str, Any]:
        result: dict[str, Any] = {}
        for key, widget in self.fields.items():
            if isinstance(widget, QLineEdit):
                result[key] = widget.text()
            elif isinstance(widget, QPlainTextEdit):
                result[key] = widget.toPlainText()
            else:
                result[key] = widget.currentData()
        return result

    def _submit(self) -> None:
        self.clear_errors()
        self.set_busy(True)
        self.submitted.emit(self.values())

    def set_busy(self, busy: bool) -> None:
        self.buttons.setEnabled(not busy)

    def clear_errors(self) -> None:
        self.message.hide()
        for label in self.field_errors.values():
            label.clear()
            label.hide()

    def show_errors(self, errors: Mapping[str, str], message: str = "") -> None:
        """Messages next to their fields; the rest (and `message`) under the form."""
        self.set_busy(False)
        rest = []
        for key, text in errors.items():
            label = self.field_errors.get(key.split(".")[0])
            if label is None:
                rest.append(f"{key.replace('_', ' ')}: {text}")
            else:
                label.setText(text)
                label.show()
        self.show_message("\n".join([message, *rest]).strip() if rest or message else "")

    def show_message(self, text: str) -> None:
        self.set_busy(False)
        self.message.setText(text)
        self.message.setVisible(bool(text))

    def error_text(self, key: str) -> str:
        return self.field_errors[key].text()


def _line(text: str | None = "", placeholder: str = "") -> QLineEdit:
    edit = QLineEdit(text or "")
    edit.setPlaceholderText(placeholder)
    return edit


def profile_dialog(profile: CustomerProfile, parent: QWidget | None = None) -> FieldDialog:
    dialog = FieldDialog(f"Edit {profile.full_name}", parent)
    dialog.add_field("full_name", "Full name", _line(profile.full_name))
    dialog.add_field("phone", "Phone", _line(profile.phone, "0712 345 678"))
    dialog.add_field("email", "Email", _line(profile.email))
    dialog.add_field("id_number", "ID number", _line(profile.id_number))
    dialog.add_field("address", "Address", _line(profile.address))
    dialog.add_field("static_ip", "Static IP", _line(profile.static_ip, "10.20.0.15"))
    dialog.add_field("mac_address", "MAC binding", _line(profile.mac_address, "AA:BB:CC:DD:EE:FF"))
    notes = QPlainTextEdit(profile.notes or "")
    notes.setTabChangesFocus(True)
    notes.setMaximumHeight(80)
    dialog.add_field("notes", "Notes", notes)
    return dialog


def package_dialog(
    profile: CustomerProfile, packages: Sequence[PackageChoice], parent: QWidget | None = None
) -> FieldDialog:
    dialog = FieldDialog(f"Change package of {profile.full_name}", parent)
    combo = QComboBox()
    for choice in packages:
        combo.addItem(f"{choice.name} — {kes(choice.price)}", str(choice.id))
    current = combo.findData(str(profile.package_id))
    combo.setCurrentIndex(max(current, 0))
    dialog.add_field("package_id", "Package", combo)
    return dialog


def payment_dialog(profile: CustomerProfile, parent: QWidget | None = None) -> FieldDialog:
    dialog = FieldDialog(f"Payment from {profile.full_name}", parent)
    amount = dialog.add_field("amount", "Amount (KES)", _line(placeholder="1500.00"))
    method = QComboBox()
    method.addItem("Cash", "CASH")
    method.addItem("Bank deposit", "BANK")
    dialog.add_field("method", "Method", method)
    dialog.add_field("reference", "Reference", _line(placeholder="bank reference"))
    dialog.add_field("note", "Note", _line())
    amount.setFocus()
    return dialog


def top_up_dialog(profile: CustomerProfile, parent: QWidget | None = None) -> FieldDialog:
    dialog = FieldDialog(f"Top up the wallet of {profile.full_name}", parent)
    dialog.add_field("amount", "Amount (KES)", _line(placeholder="500.00"))
    dialog.add_field("reason", "Reason", _line(placeholder="why the wallet is credited"))
    return dialog


def receipt_check_dialog(profile: CustomerProfile, parent: QWidget | None = None) -> FieldDialog:
    """The receipt a customer says M-Pesa took but we never credited: asked of M-Pesa."""
    dialog = FieldDialog(f"Check an M-Pesa receipt for {profile.full_name}", parent)
    receipt = dialog.add_field("receipt", "M-Pesa receipt", _line(placeholder="QGH7XXXXXX"))
    receipt.setFocus()
    return dialog


DeleteDecision = Literal["suspend", "refuse", "delete", "cancel"]


def decide_delete(
    name: str,
    account: str,
    status: str,
    history: Sequence[str] | None,
    may_suspend: bool,
    confirm: Callable[[str, str], bool],
) -> tuple[DeleteDecision, str]:
    """What Delete does for a customer (the list and the workspace agree): only one with
    nothing on record (a mistaken registration) is deleted, after confirming; one with history
    is explained and offered Suspend. Returns the decision and, for "refuse", the reason."""
    if history:
        reason = why_not_deletable(name, list(history))
        if (
            status != "SUSPENDED"
            and may_suspend
            and confirm("Customer cannot be deleted", f"{reason}\n\nSuspend {name} now?")
        ):
            return "suspend", ""
        return "refuse", reason
    question = (
        f"Delete {name} ({account})? Use this only for a registration "
        "made by mistake; it cannot be undone."
    )
    if not confirm("Delete customer", question):
        return "cancel", ""
    return "delete", ""
