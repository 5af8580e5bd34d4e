"""The login window: which server, who, and the password (remembered only in the keyring).

The dialog only collects input and shows outcomes; the composition root connects in a worker
and calls show_error() or accept()."""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from easyisp_core import __version__
from easyisp_core.db.profiles import EMBEDDED_PROFILE, TLS_MODES, ServerProfile
from easyisp_desktop.framework.theme import Tone, set_tone

PRODUCT_NAME = "EasyISP"
SUBTITLE = "Operator console: customers, payments, M-Pesa and routers"


def _header() -> QWidget:
    """The product, its version and a one-line subtitle; labels only, so the keyboard order
    (Server, Username, Password, …) is unchanged."""
    header = QWidget()
    layout = QVBoxLayout(header)
    layout.setContentsMargins(0, 0, 0, 8)
    layout.setSpacing(0)
    top = QHBoxLayout()
    top.setSpacing(8)
    name = QLabel(PRODUCT_NAME)
    name.setObjectName("product")
    font = name.font()
    font.setPointSizeF(font.pointSizeF() * 1.6)
    font.setBold(True)
    name.setFont(font)
    version = QLabel(f"version {__version__}")
    version.setObjectName("version")
    top.addWidget(name)
    top.addWidget(version, 0, Qt.AlignmentFlag.AlignBottom)
    top.addStretch()
    subtitle = QLabel(SUBTITLE)
    subtitle.setObjectName("subtitle")
    layout.addLayout(top)
    layout.addWidget(subtitle)
    return header


@dataclass(frozen=True)
class LoginRequest:
    profile: ServerProfile
    username: str
    password: str
    remember: bool


class LoginDialog(QDialog):
    submitted = Signal(object)  # LoginRequest

    def __init__(
        self,
        profiles: list[ServerProfile],
        *,
        last_username: str = "",
        hint: str = "",
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("EasyISP — log in")
        self._profiles = {p.name: p for p in profiles}

        self.server = QComboBox()
        self.server.addItem("This PC (embedded database)", EMBEDDED_PROFILE)
        for profile in profiles:
            if not profile.embedded:
                self.server.addItem(profile.name, profile.name)
        self.server.addItem("Another server…", "")
        self.host = QLineEdit()
        self.host.setPlaceholderText("db.example.co.ke")
        self.port = QSpinBox()
        self.port.setRange(1, 65535)
        self.port.setValue(5432)
        self.database = QLineEdit("easyisp")
        self.tls = QComboBox()
        self.tls.addItems(list(TLS_MODES))
        self.tls.setCurrentText("verify-full")
        self.ca_file = QLineEdit()
        self.ca_file.setPlaceholderText("CA certificate file (for verify-full)")
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._browse_ca)
        ca_row = QHBoxLayout()
        ca_row.addWidget(self.ca_file)
        ca_row.addWidget(browse)

        self.username = QLineEdit(last_username)
        self.password = QLineEdit()
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.remember = QCheckBox("Remember my password on this computer (OS keyring)")

        self.server_form = QWidget()
        server_layout = QFormLayout(self.server_form)
        server_layout.setContentsMargins(0, 0, 0, 0)
        server_layout.addRow("Host", self.host)
        server_layout.addRow("Port", self.port)
        server_layout.addRow("Database", self.database)
        server_layout.addRow("TLS", self.tls)
        server_layout.addRow("CA file", ca_row)

        form = QFormLayout()
        form.addRow("Server", self.server)
        form.addRow(self.server_form)
        form.addRow("Username", self.username)
        form.addRow("Password", self.password)
        form.addRow("", self.remember)

        self.warning = QLabel()
        self.warning.setWordWrap(True)
        set_tone(self.warning, Tone.WARNING)
        self.error = QLabel()
        self.error.setWordWrap(True)
        set_tone(self.error, Tone.ERROR, "font-weight: bold;")
        self.error.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.hint = QLabel(hint)
        self.hint.setWordWrap(True)
        self.hint.setVisible(bool(hint))

        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.login_button = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.login_button.setText("Log in")
        self.buttons.accepted.connect(self._submit)
        self.buttons.rejected.connect(self.reject)

        self.header = _header()
        layout = QVBoxLayout(self)
        layout.addWidget(self.header)
        layout.addWidget(self.hint)
        layout.addLayout(form)
        layout.addWidget(self.warning)
        layout.addWidget(self.error)
        layout.addWidget(self.buttons)

        for signal in (self.host.textChanged, self.tls.currentTextChanged):
            signal.connect(self._update_warning)
        self.server.currentIndexChanged.connect(self._on_server_changed)
        self._on_server_changed()
        (self.password if last_username else self.username).setFocus()

    # Input ---------------------------------------------------------------------------------

    def profile(self) -> ServerProfile:
        key = self.server.currentData()
        if key == EMBEDDED_PROFILE:
            return ServerProfile()
        host = self.host.text().strip()
        return ServerProfile(
            name=key or host,
            embedded=False,
            host=host,
            port=self.port.value(),
            database=self.database.text().strip() or "easyisp",
            sslmode=self.tls.currentText(),
            sslrootcert=self.ca_file.text().strip() or None,
        )

    def _on_server_changed(self) -> None:
        key = self.server.currentData()
        self.server_form.setVisible(key != EMBEDDED_PROFILE)
        saved = self._profiles.get(key) if key else None
        if saved is not None and not saved.embedded:
            self.host.setText(saved.host)
            self.port.setValue(saved.port)
            self.database.setText(saved.database)
            self.tls.setCurrentText(saved.sslmode)
            self.ca_file.setText(saved.sslrootcert or "")
        self._update_warning()
        self.adjustSize()

    def _update_warning(self) -> None:
        try:
            warning = self.profile().tls_warning() if self.host.text().strip() else None
        except ValueError:
            warning = None
        self.warning.setText(warning or "")
        self.warning.setVisible(bool(warning))

    def _browse_ca(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, "CA certificate", "", "Certificates (*.pem *.crt)"
        )
        if path:
            self.ca_file.setText(path)

    def _submit(self) -> None:
        username = self.username.text().strip()
        if not username:
            self.show_error("Enter your username.")
            return
        if self.server.currentData() != EMBEDDED_PROFILE and not self.host.text().strip():
            self.show_error("Enter the server's host name or address.")
            return
        if not self.password.text():
            self.show_error("Enter your password.")
            return
        self.error.clear()
        self.set_busy(True)
        self.submitted.emit(
            LoginRequest(self.profile(), username, self.password.text(), self.remember.isChecked())
        )

    # Outcomes ------------------------------------------------------------------------------

    def set_busy(self, busy: bool) -> None:
        for widget in (self.server, self.server_form, self.username, self.password, self.remember):
            widget.setEnabled(not busy)
        self.login_button.setEnabled(not busy)
        self.login_button.setText("Logging in…" if busy else "Log in")

    def show_error(self, message: str) -> None:
        """Show why the login failed; everything typed stays as it was."""
        self.set_busy(False)
        self.error.setText(message)
        self.password.setFocus()
        self.password.selectAll()

    def set_password(self, password: str) -> None:
        self.password.setText(password)
        self.remember.setChecked(True)
