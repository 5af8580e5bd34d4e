"""Declarative forms: a list of fields becomes a dialog that loads and saves in a worker.

A page declares its fields (text, password, integer, money, choice, date, bool, …) and two
callables that run on a worker thread: `load` (the current values, for an edit) and `save`
(the values → the core service). The dialog never touches the database itself. A refusal
is shown where it belongs: the core's ValidationFailed field errors under their fields, any
other known failure (a permission the database refused, a conflict) above the fields. The
operator's input is never cleared by an error. Enter saves, Esc cancels.
"""

from __future__ import annotations

import contextlib
import enum
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, TypeVar

from PySide6.QtCore import QDate, QDateTime, Qt, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDateEdit,
    QDateTimeEdit,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from easyisp_core.db.engine import session_scope
from easyisp_core.errors import Conflict, EasyIspError, ValidationFailed
from easyisp_core.repositories.integrity import conflict_field_errors, describe_db_error
from easyisp_desktop.framework.errors import describe_error
from easyisp_desktop.framework.theme import Tone, set_tone
from easyisp_desktop.framework.worker import WorkerPool

Values = dict[str, Any]


T = TypeVar("T")


class Kind(enum.Enum):
    TEXT = "text"
    PASSWORD = "password"  # noqa: S105 - a kind of field, not a password
    INTEGER = "integer"
    MONEY = "money"
    DECIMAL = "decimal"
    CHOICE = "choice"
    DATE = "date"
    DATETIME = "datetime"
    BOOL = "bool"
    MULTILINE = "multiline"


@dataclass(frozen=True)
class Field:
    """One input: the key its value is saved under, its label, and what kind of value."""

    key: str
    label: str
    kind: Kind = Kind.TEXT
    required: bool = False
    # (stored value, label shown) for a CHOICE.
    choices: tuple[tuple[str, str], ...] = ()
    placeholder: str = ""
    help: str = ""
    # Other names the core may use for this field in ValidationFailed.field_errors.
    error_keys: tuple[str, ...] = ()
    # A heading shown above the first field of each section.
    section: str = ""

    def owns_error(self, error_key: str) -> bool:
        names = (self.key, *self.error_keys)
        return any(error_key == n or error_key.endswith("." + n) for n in names)


def text(key: str, label: str, *, required: bool = False, **kw: Any) -> Field:
    return Field(key, label, Kind.TEXT, required, **kw)


def password(key: str, label: str, *, required: bool = False, **kw: Any) -> Field:
    return Field(key, label, Kind.PASSWORD, required, **kw)


def integer(key: str, label: str, *, required: bool = False, **kw: Any) -> Field:
    return Field(key, label, Kind.INTEGER, required, **kw)


def money(key: str, label: str, *, required: bool = False, **kw: Any) -> Field:
    return Field(key, label, Kind.MONEY, required, placeholder=kw.pop("placeholder", "0.00"), **kw)


def decimal(key: str, label: str, *, required: bool = False, **kw: Any) -> Field:
    return Field(key, label, Kind.DECIMAL, required, **kw)


def boolean(key: str, label: str, **kw: Any) -> Field:
    return Field(key, label, Kind.BOOL, **kw)


def multiline(key: str, label: str, *, required: bool = False, **kw: Any) -> Field:
    return Field(key, label, Kind.MULTILINE, required, **kw)


def date_field(key: str, label: str, **kw: Any) -> Field:
    return Field(key, label, Kind.DATE, True, **kw)


def datetime_field(key: str, label: str, **kw: Any) -> Field:
    return Field(key, label, Kind.DATETIME, True, **kw)


def choice(
    key: str,
    label: str,
    options: type[enum.Enum] | Iterable[enum.Enum] | Iterable[tuple[str, str]],
    *,
    required: bool = True,
    **kw: Any,
) -> Field:
    """A pick from an enum (labels read "Customer care" for CUSTOMER_CARE) or from pairs."""
    members: list[Any] = list(options)
    if all(isinstance(m, enum.Enum) for m in members):
        pairs = tuple((str(m.value), enum_label(m.value)) for m in members)
    else:
        pairs = tuple((str(value), str(label)) for value, label in members)
    return Field(key, label, Kind.CHOICE, required, choices=pairs, **kw)


# Stored values whose plain capitalisation would read wrong.
SPECIAL_LABELS = {
    "PPPOE": "PPPoE",
    "MPESA": "M-Pesa",
    "NAS": "Router",
    "SMS_GATEWAY": "SMS gateway",
    "VPN_PEER": "VPN peer",
    "AFRICASTALKING": "Africa's Talking",
    "MPESA_PAYBILL": "M-Pesa paybill",
    "MPESA_TILL": "M-Pesa till",
}


def enum_label(value: Any) -> str:
    text_value = str(value.value if isinstance(value, enum.Enum) else value)
    special = SPECIAL_LABELS.get(text_value)
    return special or text_value.replace("_", " ").capitalize()


class FieldEditor:
    """The widget for one field, reading and writing typed values."""

    def __init__(self, field: Field) -> None:
        self.field = field
        self.widget = self._build()
        self.error_label = QLabel("")
        set_tone(self.error_label, Tone.ERROR)
        self.error_label.setWordWrap(True)
        self.error_label.setVisible(False)
        self.container = QWidget()
        column = QVBoxLayout(self.container)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(2)
        column.addWidget(self.widget)
        if field.help:
            hint = QLabel(field.help)
            hint.setWordWrap(True)
            hint.setStyleSheet("color: palette(placeholder-text);")
            column.addWidget(hint)
        column.addWidget(self.error_label)

    def _build(self) -> QWidget:
        kind = self.field.kind
        if kind is Kind.CHOICE:
            box = QComboBox()
            if not self.field.required:
                box.addItem("—", None)
            for value, label in self.field.choices:
                box.addItem(label, value)
            return box
        if kind is Kind.BOOL:
            return QCheckBox()
        if kind is Kind.DATE:
            date_edit = QDateEdit(QDate.currentDate())
            date_edit.setCalendarPopup(True)
            date_edit.setDisplayFormat("yyyy-MM-dd")
            return date_edit
        if kind is Kind.DATETIME:
            moment = QDateTimeEdit(QDateTime.currentDateTime())
            moment.setCalendarPopup(True)
            moment.setDisplayFormat("yyyy-MM-dd HH:mm")
            return moment
        if kind is Kind.MULTILINE:
            area = QPlainTextEdit()
            area.setPlaceholderText(self.field.placeholder)
            area.setTabChangesFocus(True)
            area.setFixedHeight(72)
            return area
        line = QLineEdit()
        line.setPlaceholderText(self.field.placeholder)
        if kind is Kind.PASSWORD:
            line.setEchoMode(QLineEdit.EchoMode.Password)
        if kind in (Kind.INTEGER, Kind.MONEY, Kind.DECIMAL):
            line.setAlignment(Qt.AlignmentFlag.AlignRight)
        return line

    # Values ---------------------------------------------------------------------------

    def value(self) -> Any:
        """The typed value; raises ValueError with an operator's message when unreadable."""
        kind, w = self.field.kind, self.widget
        if isinstance(w, QComboBox):
            return w.currentData()
        if isinstance(w, QCheckBox):
            return w.isChecked()
        if isinstance(w, QDateTimeEdit) and kind is Kind.DATETIME:
            moment: datetime = w.dateTime().toPython()  # type: ignore[assignment]
            return moment.astimezone()
        if isinstance(w, QDateEdit):
            return w.date().toPython()
        raw = w.toPlainText() if isinstance(w, QPlainTextEdit) else w.text()  # type: ignore[attr-defined]
        if kind is not Kind.PASSWORD:
            raw = raw.strip()
        if not raw:
            if self.field.required:
                raise ValueError("required")
            return None
        if kind is Kind.INTEGER:
            try:
                return int(raw.replace(",", "").replace(" ", ""))
            except ValueError:
                raise ValueError("enter a whole number") from None
        if kind in (Kind.MONEY, Kind.DECIMAL):
            try:
                number = Decimal(raw.replace(",", "").replace(" ", ""))
            except InvalidOperation:
                number = Decimal("NaN")
            exponent = number.as_tuple().exponent
            if not number.is_finite() or (
                kind is Kind.MONEY and isinstance(exponent, int) and exponent < -2
            ):
                example = "1500.00" if kind is Kind.MONEY else "2.5"
                raise ValueError(f"enter an amount like {example}")
            return number
        return raw

    def set_value(self, value: Any) -> None:
        w = self.widget
        if isinstance(value, enum.Enum):
            value = value.value
        if isinstance(w, QComboBox):
            index = w.findData(None if value is None else str(value))
            w.setCurrentIndex(max(index, 0))
        elif isinstance(w, QCheckBox):
            w.setChecked(bool(value))
        elif isinstance(w, QDateTimeEdit) and self.field.kind is Kind.DATETIME:
            if isinstance(value, datetime):
                w.setDateTime(QDateTime(value.astimezone()))
        elif isinstance(w, QDateEdit):
            if isinstance(value, date):
                w.setDate(QDate(value.year, value.month, value.day))
        elif isinstance(w, QPlainTextEdit):
            w.setPlainText("" if value is None else str(value))
        elif isinstance(w, QLineEdit):
            if isinstance(value, Decimal) and self.field.kind is Kind.DECIMAL:
                value = f"{value.normalize():f}"  # 20.000 Mbps reads as 20
            w.setText("" if value is None else str(value))

    def text(self) -> str:
        """What the operator sees typed in (line edits and text areas)."""
        w = self.widget
        if isinstance(w, QPlainTextEdit):
            return w.toPlainText()
        return w.text() if isinstance(w, QLineEdit) else ""

    def type_text(self, value: str) -> None:
        """Replace the typed text, as an operator would (line edits and text areas)."""
        w = self.widget
        if isinstance(w, QPlainTextEdit):
            w.setPlainText(value)
        elif isinstance(w, QLineEdit):
            w.setText(value)

    def show_error(self, message: str) -> None:
        self.error_label.setText(message[:1].upper() + message[1:])
        self.error_label.setVisible(bool(message))

    @property
    def error(self) -> str:
        return self.error_label.text() if self.error_label.isVisibleTo(self.container) else ""


def failure_message(exc: BaseException) -> str:
    """A known failure's message (a database refusal in the operator's words), else a bug's."""
    if isinstance(exc, DBAPIError):
        with contextlib.suppress(DBAPIError):  # an unknown refusal stays a bug report
            exc = describe_db_error(exc)
    if isinstance(exc, EasyIspError):
        return exc.user_message
    return describe_error(exc)


def in_session(
    sessions: sessionmaker[Session], work: Callable[[Session, Values], Any]
) -> Callable[[Values], Any]:
    """A form's save: one unit of work (committed when `work` returns) on the worker thread."""

    def save(values: Values) -> Any:
        with session_scope(sessions) as session:
            return work(session, values)

    return save


def read_in_session(
    sessions: sessionmaker[Session], read: Callable[[Session], T]
) -> Callable[[], T]:
    """A form's load: one read-only unit of work on the worker thread."""

    def load() -> T:
        with session_scope(sessions) as session:
            return read(session)

    return load


class FormDialog(QDialog):
    """Shows `fields`; Save runs `save(values)` in a worker and closes when it succeeds."""

    saved = Signal(object)  # what `save` returned
    loaded = Signal()
    failed = Signal(str)  # any message shown above the fields

    def __init__(
        self,
        *,
        title: str,
        fields: Sequence[Field],
        save: Callable[[Values], Any],
        workers: WorkerPool,
        values: Mapping[str, Any] | None = None,
        load: Callable[[], Mapping[str, Any]] | None = None,
        intro: str = "",
        save_label: str = "Save",
        embedded: bool = False,
        scroll: bool = False,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        # Embedded: a form inside a page (Settings), not a window; it stays after saving.
        self.embedded = embedded
        if embedded:
            self.setWindowFlags(Qt.WindowType.Widget)
        self.setWindowTitle(title)
        self.setMinimumWidth(460)
        self._save = save
        self.workers = workers
        self.result_value: Any = None
        self.busy = False
        self.editors = {f.key: FieldEditor(f) for f in fields}
        # Loaded or given values of keys the form does not show: saved back unchanged.
        self._hidden: Values = {}

        self.message = QLabel("")
        self.message.setWordWrap(True)
        set_tone(self.message, Tone.ERROR)
        self.message.setVisible(False)
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        form.setLabelAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignTop)
        section = ""
        for editor in self.editors.values():
            if editor.field.section and editor.field.section != section:
                section = editor.field.section
                form.addRow(QLabel(f"<b>{section}</b>"))
            label = QLabel(editor.field.label + (" *" if editor.field.required else "") + ":")
            label.setBuddy(editor.widget)
            form.addRow(label, editor.container)

        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel
        )
        self.save_button: QPushButton = self.buttons.button(QDialogButtonBox.StandardButton.Save)
        self.save_button.setText(save_label)
        self.save_button.setDefault(True)
        self.buttons.accepted.connect(self.submit)
        self.buttons.rejected.connect(self.reject)
        if embedded:
            self.buttons.button(QDialogButtonBox.StandardButton.Cancel).setVisible(False)
        # Enter saves from a line edit (the default button); Ctrl+Enter from anywhere.
        QShortcut(QKeySequence("Ctrl+Return"), self, self.submit)

        self.status = QLabel("")
        layout = QVBoxLayout(self)
        if intro:
            heading = QLabel(intro)
            heading.setWordWrap(True)
            layout.addWidget(heading)
        layout.addWidget(self.message)
        if embedded or scroll:
            # A long page (Settings) or form (permissions) scrolls its fields; the message
            # above and the Save button below stay in sight on a 768-pixel-high screen.
            field_box = QWidget()
            field_box.setLayout(form)
            self.fields_area = QScrollArea()
            self.fields_area.setWidgetResizable(True)
            self.fields_area.setFrameShape(QScrollArea.Shape.NoFrame)
            self.fields_area.setWidget(field_box)
            layout.addWidget(self.fields_area, 1)
        else:
            layout.addLayout(form)
        layout.addWidget(self.status)
        layout.addWidget(self.buttons)

        widgets = [e.widget for e in self.editors.values()]
        for first, second in zip(
            widgets, [*widgets[1:], self.save_button, self.buttons.button(
                QDialogButtonBox.StandardButton.Cancel
            )], strict=False,
        ):  # fmt: skip
            QWidget.setTabOrder(first, second)
        if widgets:
            widgets[0].setFocus()

        if values:
            self.set_values(values)
        if load is not None:
            self._begin_load(load)

    # Values ---------------------------------------------------------------------------

    def editor(self, key: str) -> FieldEditor:
        return self.editors[key]

    def set_values(self, values: Mapping[str, Any]) -> None:
        for key, value in values.items():
            if key in self.editors:
                self.editors[key].set_value(value)
            else:
                self._hidden[key] = value

    def values(self) -> tuple[Values, dict[str, str]]:
        """What the operator entered, and the fields that could not be read."""
        values: Values = {}
        problems: dict[str, str] = {}
        for key, editor in self.editors.items():
            try:
                values[key] = editor.value()
            except ValueError as exc:
                problems[key] = str(exc)
        return values, problems

    def error_text(self, key: str) -> str:
        return self.editors[key].error

    @property
    def message_text(self) -> str:
        return self.message.text() if self.message.isVisibleTo(self) else ""

    # Loading and saving -----------------------------------------------------------------

    def _begin_load(self, load: Callable[[], Mapping[str, Any]]) -> None:
        self._set_busy(True, "Loading…")
        self.workers.run(
            load, on_result=self._on_loaded, on_error=self._on_load_failed, context=self
        )

    def _on_loaded(self, values: Mapping[str, Any]) -> None:
        self.set_values(values)
        self._set_busy(False)
        self.loaded.emit()

    def _on_load_failed(self, exc: BaseException) -> None:
        self._set_busy(False)
        self.save_button.setEnabled(False)
        self._show_message(failure_message(exc))

    def submit(self) -> None:
        """Check what can be checked here, then save in a worker."""
        if self.busy:
            return
        values, problems = self.values()
        self._clear_errors()
        if problems:
            self._show_field_errors(problems)
            return
        self._set_busy(True, "Saving…")
        values = {**self._hidden, **values}
        self.workers.run(
            lambda: self._save(values),
            on_result=self._on_saved,
            on_error=self._on_save_failed,
            context=self,
        )

    def _on_saved(self, result: Any) -> None:
        self._set_busy(False)
        self.result_value = result
        self.saved.emit(result)
        if self.embedded:
            self.status.setText("Saved.")
        else:
            self.accept()

    def _on_save_failed(self, exc: BaseException) -> None:
        self._set_busy(False)
        if isinstance(exc, ValidationFailed):
            self._show_field_errors(exc.field_errors)
            return
        # A duplicate value (a taken code or name) is also marked on its field.
        errors = conflict_field_errors(exc) if isinstance(exc, Conflict) else {}
        for key, message in errors.items():
            owner = next((e for e in self.editors.values() if e.field.owns_error(key)), None)
            if owner is not None:
                owner.show_error(message)
                owner.widget.setFocus()
        self._show_message(failure_message(exc))

    # Showing errors ---------------------------------------------------------------------

    def _clear_errors(self) -> None:
        self.message.setVisible(False)
        self.message.setText("")
        for editor in self.editors.values():
            editor.show_error("")

    def _show_field_errors(self, errors: Mapping[str, str]) -> None:
        unplaced: list[str] = []
        first: FieldEditor | None = None
        for key, message in errors.items():
            owner = next((e for e in self.editors.values() if e.field.owns_error(key)), None)
            if owner is None:
                unplaced.append(f"{key.split('.')[-1].replace('_', ' ')}: {message}")
                continue
            owner.show_error(message)
            first = first or owner
        if unplaced:
            self._show_message("Please correct: " + "; ".join(unplaced))
        else:
            self._show_message("Please correct the fields marked below.")
        if first is not None:
            first.widget.setFocus()

    def _show_message(self, message: str) -> None:
        self.message.setText(message)
        self.message.setVisible(True)
        self.failed.emit(message)

    def _set_busy(self, busy: bool, status: str = "") -> None:
        self.busy = busy
        self.save_button.setEnabled(not busy)
        self.status.setText(status if busy else "")
