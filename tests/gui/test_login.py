"""Logging in as a staff member: real dialog, real database roles, the OS keyring."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import keyring
import pytest
from keyring.backend import KeyringBackend
from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import QLabel
from pytestqt.qtbot import QtBot
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import sessionmaker

from easyisp_core import __version__
from easyisp_core.db.engine import make_engine, session_scope
from easyisp_core.db.profiles import ServerProfile
from easyisp_core.models.enums import UserStatus
from easyisp_core.services import staff as staff_service
from easyisp_core.services.tenants import create_tenant
from easyisp_core.settings import Settings
from easyisp_desktop.framework.gui_thread_guard import GUARD_ENV
from easyisp_desktop.login import LoginFlow
from easyisp_desktop.login_dialog import SUBTITLE
from easyisp_desktop.main_window import MainWindow
from tests.factories import PASSWORD, unique

TIMEOUT_MS = 30_000


class MemoryKeyring(KeyringBackend):
    """Stands in for the desktop's keyring service (an outside system) during tests."""

    priority = 1

    def __init__(self) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self.items: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.items.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.items[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        self.items.pop((service, username), None)


@pytest.fixture(autouse=True)
def _guard_on(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(GUARD_ENV, "1")


@pytest.fixture
def memory_keyring() -> Iterator[MemoryKeyring]:
    previous = keyring.get_keyring()
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    yield backend
    keyring.set_keyring(previous)


@pytest.fixture
def staff(fresh_db_url: str) -> dict[str, str]:
    engine = make_engine(fresh_db_url)
    names = {"admin": unique("tlogin.admin"), "suspended": unique("tlogin.gone")}
    try:
        with session_scope(sessionmaker(engine)) as session:
            tenant = create_tenant(session, {"name": unique("login-isp"), "display_name": "L"})
            for key, role in (("admin", "ADMIN"), ("suspended", "STAFF")):
                staff_service.create_staff(
                    session,
                    {"tenant": tenant.name, "username": names[key], "full_name": key, "role": role},
                    PASSWORD,
                )
            staff_service.set_status(session, names["suspended"], UserStatus.SUSPENDED)
    finally:
        engine.dispose()
    return names


def _profile(db_url: str) -> ServerProfile:
    url = make_url(db_url)
    host = str(url.query.get("host") or url.host or "localhost")
    return ServerProfile(
        name="test server",
        embedded=False,
        host=host,
        port=url.port or 5432,
        database=url.database or "postgres",
        sslmode="disable" if not host.startswith("/") else "prefer",
    )


@pytest.fixture
def flow(qtbot: QtBot, tmp_path: Path, fresh_db_url: str) -> Iterator[LoginFlow]:
    profile = _profile(fresh_db_url)
    settings = Settings(data_dir=tmp_path / "data")
    settings.data_dir.mkdir(parents=True)
    from easyisp_core.db.profiles import ProfileStore

    ProfileStore(settings.data_dir / "profiles.json").save(profile)
    login = LoginFlow(
        settings, qsettings=QSettings(str(tmp_path / "console.ini"), QSettings.Format.IniFormat)
    )
    qtbot.addWidget(login.dialog)
    login.dialog.server.setCurrentIndex(login.dialog.server.findData(profile.name))
    login.dialog.show()
    yield login
    login.pool.wait(10_000)
    if login.database is not None:
        login.database.close()


def _log_in(
    qtbot: QtBot, flow: LoginFlow, username: str, password: str, *, remember: bool = False
) -> None:
    flow.dialog.username.setText(username)
    flow.dialog.password.setText(password)
    flow.dialog.remember.setChecked(remember)
    flow.dialog.login_button.click()


def test_an_unknown_user_gets_a_plain_message_and_keeps_the_input(
    qtbot: QtBot, flow: LoginFlow, memory_keyring: Any
) -> None:
    _log_in(qtbot, flow, "nobody.here", "whatever-123")
    qtbot.waitUntil(lambda: flow.dialog.error.text() != "", timeout=TIMEOUT_MS)
    assert flow.dialog.error.text() == "Wrong username or password."
    assert flow.dialog.username.text() == "nobody.here"
    assert flow.dialog.login_button.isEnabled()
    assert flow.database is None


def test_a_suspended_account_is_told_so(
    qtbot: QtBot, flow: LoginFlow, staff: dict[str, str], memory_keyring: Any
) -> None:
    _log_in(qtbot, flow, staff["suspended"], PASSWORD)
    qtbot.waitUntil(lambda: flow.dialog.error.text() != "", timeout=TIMEOUT_MS)
    assert "suspended" in flow.dialog.error.text()


def test_an_unreachable_server_is_named_and_the_input_is_kept(
    qtbot: QtBot, tmp_path: Path, memory_keyring: Any
) -> None:
    login = LoginFlow(
        Settings(data_dir=tmp_path / "d5"),
        qsettings=QSettings(str(tmp_path / "u.ini"), QSettings.Format.IniFormat),
    )
    qtbot.addWidget(login.dialog)
    dialog = login.dialog
    dialog.server.setCurrentIndex(dialog.server.findData(""))  # "Another server…"
    # Port 1 on the loopback: refused at once, no timeout to wait out.
    dialog.host.setText("127.0.0.1")
    dialog.port.setValue(1)
    dialog.tls.setCurrentText("disable")
    dialog.show()
    _log_in(qtbot, login, "grace", "whatever-123")
    qtbot.waitUntil(lambda: dialog.error.text() != "", timeout=TIMEOUT_MS)
    assert dialog.error.text().startswith("Cannot reach the database easyisp@127.0.0.1:1"), (
        dialog.error.text()
    )
    assert (dialog.host.text(), dialog.port.value(), dialog.username.text()) == (
        "127.0.0.1",
        1,
        "grace",
    )
    assert dialog.login_button.isEnabled()
    assert login.database is None
    login.pool.wait(10_000)


@pytest.mark.parametrize(
    ("revision", "told"),
    [
        ("20261125_0001", r"older than this program \(.*\)\. Run `easyisp db upgrade`\."),
        ("29991231_9999", "upgraded by a newer EasyISP: install the same version here"),
    ],
    ids=["older", "newer"],
)
def test_a_schema_revision_mismatch_says_what_fixes_it(
    qtbot: QtBot,
    flow: LoginFlow,
    staff: dict[str, str],
    fresh_db_url: str,
    memory_keyring: Any,
    revision: str,
    told: str,
) -> None:
    engine = make_engine(fresh_db_url)
    try:
        with engine.begin() as conn:
            conn.execute(text("UPDATE alembic_version SET version_num = :v"), {"v": revision})
    finally:
        engine.dispose()
    _log_in(qtbot, flow, staff["admin"], PASSWORD)
    qtbot.waitUntil(lambda: flow.dialog.error.text() != "", timeout=TIMEOUT_MS)
    assert re.search(told, flow.dialog.error.text()), flow.dialog.error.text()
    assert flow.dialog.username.text() == staff["admin"]
    assert flow.database is None  # the session it opened was closed again


def test_a_good_login_opens_the_console_as_that_staff_member(
    qtbot: QtBot,
    flow: LoginFlow,
    staff: dict[str, str],
    memory_keyring: MemoryKeyring,
    tmp_path: Path,
) -> None:
    _log_in(qtbot, flow, staff["admin"], PASSWORD, remember=True)
    qtbot.waitUntil(
        lambda: flow.database is not None or flow.dialog.error.text() != "", timeout=TIMEOUT_MS
    )
    assert flow.dialog.error.text() == ""
    database = flow.database
    assert database is not None
    assert database.engine.url.username == staff["admin"]
    # The password went to the OS keyring, and nowhere on disk.
    assert memory_keyring.items == {("EasyISP:test server", staff["admin"]): PASSWORD}
    for path in tmp_path.rglob("*"):
        if path.is_file() and path.stat().st_size < 1_000_000:
            assert PASSWORD.encode() not in path.read_bytes(), path

    window = MainWindow(
        lambda *, progress: database,
        settings=QSettings(str(tmp_path / "window.ini"), QSettings.Format.IniFormat),
    )
    qtbot.addWidget(window)
    window.start()
    qtbot.waitUntil(lambda: window.dashboard.state != "waiting", timeout=TIMEOUT_MS)
    assert window.dashboard.state == "figures", window.dashboard.error_message
    # The admin's own (empty) tenant, with the money an admin may see.
    assert window.dashboard.value_text("active") == "0"
    assert window.dashboard.value_text("revenue_today") == "0.00"
    # The status bar says who is logged in; the Customers page is offered to an admin.
    qtbot.waitUntil(lambda: window.identity is not None, timeout=TIMEOUT_MS)
    assert window.user_label.text().startswith(f"{staff['admin']} (admin) · ")
    assert window.customers is not None
    assert window.customers.tenant_id == window.identity.tenant_id  # type: ignore[union-attr]
    window.shutdown()


def test_pages_follow_the_users_permissions(
    qtbot: QtBot,
    flow: LoginFlow,
    staff: dict[str, str],
    fresh_db_url: str,
    memory_keyring: Any,
    tmp_path: Path,
) -> None:
    engine = make_engine(fresh_db_url)
    try:
        with session_scope(sessionmaker(engine)) as session:
            staff_service.set_permissions(session, staff["admin"], [], ["customers.read"])
    finally:
        engine.dispose()
    _log_in(qtbot, flow, staff["admin"], PASSWORD)
    qtbot.waitUntil(lambda: flow.database is not None, timeout=TIMEOUT_MS)
    database = flow.database
    assert database is not None
    window = MainWindow(
        lambda *, progress: database,
        settings=QSettings(str(tmp_path / "window2.ini"), QSettings.Format.IniFormat),
    )
    qtbot.addWidget(window)
    window.start()
    qtbot.waitUntil(lambda: window.identity is not None, timeout=TIMEOUT_MS)
    assert not window.identity.may("customers.read")  # type: ignore[union-attr]
    assert window.customers is None
    window.shutdown()


def test_a_remembered_password_is_offered_next_time(
    qtbot: QtBot,
    tmp_path: Path,
    fresh_db_url: str,
    staff: dict[str, str],
    memory_keyring: MemoryKeyring,
) -> None:
    memory_keyring.items[("EasyISP:This PC", staff["admin"])] = "from-the-keyring-1"
    qsettings = QSettings(str(tmp_path / "again.ini"), QSettings.Format.IniFormat)
    qsettings.setValue("login/username", staff["admin"])
    login = LoginFlow(Settings(data_dir=tmp_path / "d2"), qsettings=qsettings)
    qtbot.addWidget(login.dialog)
    assert login.dialog.username.text() == staff["admin"]
    assert login.dialog.password.text() == "from-the-keyring-1"
    assert login.dialog.remember.isChecked()


@pytest.mark.parametrize(
    ("host", "mode", "warned"),
    [
        ("db.example.co.ke", "prefer", True),
        ("db.example.co.ke", "disable", True),
        ("db.example.co.ke", "require", True),
        ("db.example.co.ke", "verify-full", False),
        ("127.0.0.1", "disable", False),
    ],
)
def test_the_console_warns_about_a_remote_server_without_tls(
    qtbot: QtBot, tmp_path: Path, host: str, mode: str, warned: bool, memory_keyring: Any
) -> None:
    login = LoginFlow(
        Settings(data_dir=tmp_path / "d3"),
        qsettings=QSettings(str(tmp_path / "w.ini"), QSettings.Format.IniFormat),
    )
    qtbot.addWidget(login.dialog)
    dialog = login.dialog
    dialog.server.setCurrentIndex(dialog.server.findData(""))
    dialog.host.setText(host)
    dialog.tls.setCurrentText(mode)
    assert (dialog.warning.text() != "") is warned
    assert dialog.profile().url("u", "p").query["sslmode"] == mode


def test_the_demo_prefills_its_administrator_login(
    qtbot: QtBot, tmp_path: Path, memory_keyring: Any
) -> None:
    login = LoginFlow(
        Settings(data_dir=tmp_path / "d4"),
        qsettings=QSettings(str(tmp_path / "p.ini"), QSettings.Format.IniFormat),
        hint="Demo loaded. Log in as owner.kilimanet",
        prefill=("owner.kilimanet", "Demo-pass-123"),
    )
    qtbot.addWidget(login.dialog)
    assert login.dialog.username.text() == "owner.kilimanet"
    assert login.dialog.password.text() == "Demo-pass-123"
    assert not login.dialog.hint.isHidden()


def test_the_login_window_names_the_product_and_keeps_the_keyboard_order(
    qtbot: QtBot, tmp_path: Path, memory_keyring: Any
) -> None:
    login = LoginFlow(
        Settings(data_dir=tmp_path / "d5"),
        qsettings=QSettings(str(tmp_path / "p.ini"), QSettings.Format.IniFormat),
    )
    dialog = login.dialog
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    labels = {label.objectName(): label for label in dialog.header.findChildren(QLabel)}
    assert labels["product"].text() == "EasyISP"
    assert labels["version"].text() == f"version {__version__}"
    assert labels["subtitle"].text() == SUBTITLE
    assert all(label.focusPolicy() == Qt.FocusPolicy.NoFocus for label in labels.values())
    # Compact: the header is a few lines, not a banner.
    assert dialog.header.sizeHint().height() < 3 * dialog.username.sizeHint().height()

    # Tab still walks the form in order, starting from the first field.
    dialog.server.setFocus()
    order = [dialog.focusWidget()]
    for _ in range(4):
        dialog.focusNextChild()
        order.append(dialog.focusWidget())
    assert order == [
        dialog.server, dialog.username, dialog.password, dialog.remember, dialog.login_button,
    ]  # fmt: skip
