"""The Routers page in the real main window over a staff login, the GUI-thread guard on.

Health columns and their model; a router's status changed by another connection (the site
service) shows on the open page; the onboarding script dialog; Test and Sync queue the
contract's commands and show what the service (played here by another connection) answers;
a VIEWER gets none of it and the database refuses it anyway.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest
from PySide6.QtCore import QSettings, Qt
from PySide6.QtGui import QColor, QGuiApplication
from PySide6.QtTest import QAbstractItemModelTester
from pytestqt.qtbot import QtBot
from sqlalchemy import text
from sqlalchemy.orm import sessionmaker

from easyisp_core.db.engine import Database, make_engine, session_scope
from easyisp_core.errors import PermissionDenied
from easyisp_core.models.enums import ServiceCommandKind
from easyisp_core.onboarding.syntax import check_script
from easyisp_core.repositories.nas import NasRepository
from easyisp_core.repositories.tenants import TenantRepository
from easyisp_core.services.service_commands import queue_command
from easyisp_core.services.vpn import VpnSiteInfo, publish_site
from easyisp_desktop.framework.gui_thread_guard import GUARD_ENV
from easyisp_desktop.framework.theme import Tone, colour
from easyisp_desktop.main_window import MainWindow
from easyisp_desktop.views import router_dialogs
from easyisp_desktop.views.router_dialogs import RouterCommandDialog
from easyisp_desktop.views.routers import RoutersPage
from tests.gui.pages_support import (
    WAIT_MS,
    Site,
    engines_disposed,
    site,
)

__all__ = ["engines_disposed", "site"]

ROUTER = "core-router"
T = TypeVar("T")
SITE_KEY = "hSDwCYkwp1R0i33ctD73Wg2/Og0mOBr066SpjqqbTmo="


@pytest.fixture(autouse=True)
def _guard_on(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(GUARD_ENV, "1")


@pytest.fixture
def windows(qtbot: QtBot) -> Iterator[list[MainWindow]]:
    opened: list[MainWindow] = []
    yield opened
    for window in opened:
        assert window.shutdown()


def open_routers(
    qtbot: QtBot, site: Site, role: str, tmp_path: Path, windows: list[MainWindow]
) -> tuple[MainWindow, RoutersPage]:
    engine = site.engine(role)
    database = Database(engine, sessionmaker(engine, expire_on_commit=False))
    window = MainWindow(
        lambda *, progress: database,
        settings=QSettings(str(tmp_path / f"{role}.ini"), QSettings.Format.IniFormat),
        secret_box=site.box,
    )
    windows.append(window)
    qtbot.addWidget(window)
    window.resize(1366, 768)
    window.show()
    window.start()
    qtbot.waitUntil(lambda: "Routers" in window.page_titles(), timeout=WAIT_MS)
    qtbot.waitUntil(lambda: window.dashboard.state == "figures", timeout=WAIT_MS)
    page = window.show_page("Routers")
    assert isinstance(page, RoutersPage)
    qtbot.waitUntil(lambda: page.model.count is not None, timeout=WAIT_MS)
    qtbot.waitUntil(lambda: not page.model.loading, timeout=WAIT_MS)
    return window, page


def as_service(site: Site, sql: str, **params: Any) -> None:
    """The site service (another connection) writes and commits."""
    engine = make_engine(site.url)
    try:
        with engine.begin() as conn:
            conn.execute(text(sql), params)
    finally:
        engine.dispose()


def commands(site: Site) -> list[tuple[int, str, dict[str, Any], str]]:
    engine = make_engine(site.url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                text(
                    "SELECT c.id, c.kind, c.payload, c.status FROM service_commands c "
                    "JOIN nas n ON n.id = c.nas_id WHERE n.name = :n ORDER BY c.id"
                ),
                {"n": ROUTER},
            ).all()
    finally:
        engine.dispose()
    return [(r[0], str(r[1]), dict(r[2]), str(r[3])) for r in rows]


def cell(page: RoutersPage, row: int, key: str, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
    return page.model.data(page.model.index(row, page.model.column_index(key)), role)


def router_row(page: RoutersPage) -> int:
    names = [page.model.row_object(i).name for i in range(page.model.rowCount())]
    return names.index(ROUTER)


def test_health_columns_and_model(
    qtbot: QtBot, site: Site, tmp_path: Path, windows: list[MainWindow]
) -> None:
    as_service(
        site,
        "UPDATE nas SET status = 'ONLINE', routeros_version = '7.15.2 (stable)', "
        "board_name = 'hAP ac2', cpu_load = 7, free_memory = 100663296, "
        "total_memory = 268435456, uptime = '3d4h', health_error = NULL, "
        "last_seen_at = now() WHERE name = :n",
        n=ROUTER,
    )
    _window, page = open_routers(qtbot, site, "ADMIN", tmp_path, windows)
    QAbstractItemModelTester(page.model, QAbstractItemModelTester.FailureReportingMode.Fatal)
    headers = [c.header for c in page.model.columns]
    for wanted in ("Status", "Last seen", "RouterOS", "Board", "CPU", "Memory", "Uptime"):
        assert wanted in headers
    assert "Problem" in headers
    row = router_row(page)
    assert cell(page, row, "status") == "Online"
    shade = cell(page, row, "status", Qt.ItemDataRole.ForegroundRole)
    assert isinstance(shade, QColor)
    assert shade == colour(Tone.GOOD)
    assert cell(page, row, "routeros_version") == "7.15.2 (stable)"
    assert cell(page, row, "board_name") == "hAP ac2"
    assert cell(page, row, "cpu_load") == "7%"
    assert cell(page, row, "memory") == "62% of 256.0 MB"
    assert cell(page, row, "uptime") == "3d4h"
    assert cell(page, row, "last_seen_at") != ""


def test_a_router_going_offline_appears_on_the_open_page(
    qtbot: QtBot, site: Site, tmp_path: Path, windows: list[MainWindow]
) -> None:
    as_service(site, "UPDATE nas SET status = 'ONLINE', health_error = NULL WHERE name = :n",
               n=ROUTER)  # fmt: skip
    window, page = open_routers(qtbot, site, "ADMIN", tmp_path, windows)
    assert window.live is not None
    qtbot.waitUntil(window.live.listening.is_set, timeout=WAIT_MS)
    page.select_row(router_row(page))

    as_service(
        site,
        "UPDATE nas SET status = 'OFFLINE', health_error = 'unreachable: timed out' "
        "WHERE name = :n",
        n=ROUTER,
    )
    qtbot.waitUntil(lambda: cell(page, router_row(page), "status") == "Offline", timeout=WAIT_MS)
    row = router_row(page)
    assert cell(page, row, "health_error") == "unreachable: timed out"
    assert cell(page, row, "health_error", Qt.ItemDataRole.ToolTipRole) == "unreachable: timed out"
    assert cell(page, row, "status", Qt.ItemDataRole.ForegroundRole) == colour(Tone.BAD)
    # The operator's selection survives the refresh.
    qtbot.waitUntil(lambda: page.selected_row() is not None, timeout=WAIT_MS)
    assert required(page.selected_row()).name == ROUTER


def test_onboarding_script_dialog(
    qtbot: QtBot, site: Site, tmp_path: Path, windows: list[MainWindow]
) -> None:
    as_service(site, "DELETE FROM vpn_site")
    _window, page = open_routers(qtbot, site, "ADMIN", tmp_path, windows)
    page.select_row(router_row(page))

    dialog = required(page.show_script())
    with qtbot.waitSignal(dialog.failed, timeout=WAIT_MS) as failed:
        pass
    assert "has not published its WireGuard identity" in str(failed.args[0])
    assert not dialog.copy_button.isEnabled()
    dialog.reject()

    engine = make_engine(site.url)
    with session_scope(sessionmaker(engine)) as session:
        publish_site(session, VpnSiteInfo("wg-easyisp", SITE_KEY, "203.0.113.10", 51820,
                                          "10.10.0.0/16"))  # fmt: skip
    engine.dispose()

    dialog = required(page.show_script())
    with qtbot.waitSignal(dialog.script_shown, timeout=WAIT_MS) as shown:
        pass
    script = str(shown.args[0])
    assert check_script(script) == []
    assert "/interface wireguard" in script
    assert dialog.view.toPlainText() == script
    assert dialog.view.isReadOnly()
    dialog.copy_button.click()
    assert QGuiApplication.clipboard().text() == script

    target = tmp_path / "router.rsc"
    dialog.save_path_chooser = lambda _name: str(target)
    dialog.save_button.click()
    qtbot.waitUntil(target.exists, timeout=WAIT_MS)
    assert target.read_text(encoding="utf-8") == script

    dialog.version.setCurrentIndex(dialog.version.findData(6))
    qtbot.waitUntil(lambda: not dialog.busy, timeout=WAIT_MS)
    assert dialog.script is not None, dialog.message.text()
    v6 = dialog.script.text
    assert check_script(v6) == []
    assert "/interface wireguard" not in v6
    dialog.reject()


def required(value: T | None) -> T:
    assert value is not None
    return value


def finished(dialog: RouterCommandDialog) -> bool:
    return dialog.command is not None and dialog.command.finished


def test_test_connection_queues_the_command_and_shows_the_service_answer(
    qtbot: QtBot, site: Site, tmp_path: Path, windows: list[MainWindow]
) -> None:
    window, page = open_routers(qtbot, site, "FIELD_TECH", tmp_path, windows)
    assert window.live is not None
    qtbot.waitUntil(window.live.listening.is_set, timeout=WAIT_MS)
    page.select_row(router_row(page))
    before = len(commands(site))

    dialog = required(page.test_connection())
    qtbot.waitUntil(lambda: dialog.command is not None, timeout=WAIT_MS)
    assert dialog.command is not None
    queued = commands(site)[before:]
    assert [(k, p, s) for _i, k, p, s in queued] == [("ROUTER_TEST", {}, "QUEUED")]
    assert "Queued" in dialog.state_label.text()

    command_id = queued[0][0]
    as_service(site, "UPDATE service_commands SET status = 'RUNNING' WHERE id = :i", i=command_id)
    qtbot.waitUntil(lambda: required(dialog.command).status == "RUNNING", timeout=WAIT_MS)
    assert "Running" in dialog.state_label.text()
    as_service(
        site,
        "UPDATE service_commands SET status = 'DONE', finished_at = now(), "
        "result = 'core-router: RouterOS 7.15.2 on hAP ac2, API answered in 12 ms' "
        "WHERE id = :i",
        i=command_id,
    )
    qtbot.waitUntil(lambda: finished(dialog), timeout=WAIT_MS)
    assert dialog.state_label.text() == "Done."
    assert "API answered in 12 ms" in dialog.result_view.toPlainText()
    assert not dialog.apply_button.isVisible()
    dialog.reject()


def test_sync_previews_then_applies(
    qtbot: QtBot, site: Site, tmp_path: Path, windows: list[MainWindow]
) -> None:
    window, page = open_routers(qtbot, site, "ADMIN", tmp_path, windows)
    assert window.live is not None
    qtbot.waitUntil(window.live.listening.is_set, timeout=WAIT_MS)
    page.select_row(router_row(page))
    before = len(commands(site))

    dialog = required(page.sync())
    qtbot.waitUntil(lambda: dialog.command is not None, timeout=WAIT_MS)
    preview_id, kind, payload, _status = commands(site)[before]
    assert (kind, payload) == ("ROUTER_SYNC", {"apply": False})
    preview = "add /radius: address=10.10.0.1 service=ppp,hotspot\nset /radius incoming: accept=yes"
    as_service(
        site,
        "UPDATE service_commands SET status = 'DONE', finished_at = now(), result = :r "
        "WHERE id = :i",
        r=preview,
        i=preview_id,
    )
    qtbot.waitUntil(lambda: finished(dialog), timeout=WAIT_MS)
    assert dialog.result_view.toPlainText() == preview
    assert "nothing has been changed yet" in dialog.state_label.text()
    assert dialog.apply_button.isVisible()

    dialog.apply_button.click()
    qtbot.waitUntil(lambda: len(commands(site)) == before + 2, timeout=WAIT_MS)
    apply_id, kind, payload, _status = commands(site)[before + 1]
    assert (kind, payload) == ("ROUTER_SYNC", {"apply": True})
    qtbot.waitUntil(lambda: dialog.command is not None, timeout=WAIT_MS)
    qtbot.waitUntil(lambda: required(dialog.command).id == apply_id, timeout=WAIT_MS)
    assert not dialog.apply_button.isVisible()
    applied = "Applied 2 changes:\n" + preview
    as_service(
        site,
        "UPDATE service_commands SET status = 'DONE', finished_at = now(), result = :r "
        "WHERE id = :i",
        r=applied,
        i=apply_id,
    )
    qtbot.waitUntil(lambda: finished(dialog), timeout=WAIT_MS)
    assert dialog.result_view.toPlainText() == applied
    assert not dialog.apply_button.isVisible()
    dialog.reject()

    # Nothing to change: no Apply offered.
    dialog = required(page.sync())
    qtbot.waitUntil(lambda: dialog.command is not None, timeout=WAIT_MS)
    assert dialog.command is not None
    as_service(
        site,
        "UPDATE service_commands SET status = 'DONE', result = 'Nothing to change.' WHERE id = :i",
        i=dialog.command.id,
    )
    qtbot.waitUntil(lambda: finished(dialog), timeout=WAIT_MS)
    assert dialog.state_label.text() == "The router already matches the database."
    assert not dialog.apply_button.isVisible()

    # A secret typed over on the router by hand: previewed, then applied, with the re-send.
    assert dialog.resend_secret.isVisible()
    assert dialog.resend_secret.isEnabled()
    dialog.resend_secret.setChecked(True)
    assert not dialog.resend_secret.isEnabled()
    qtbot.waitUntil(lambda: len(commands(site)) == before + 4, timeout=WAIT_MS)
    resend_id, kind, payload, _status = commands(site)[before + 3]
    assert (kind, payload) == ("ROUTER_SYNC", {"apply": False, "resend_secret": True})
    as_service(
        site,
        "UPDATE service_commands SET status = 'DONE', finished_at = now(), result = :r "
        "WHERE id = :i",
        r="1. /radius set *1: secret=*** (radius: secret re-sent on request)",
        i=resend_id,
    )
    qtbot.waitUntil(lambda: finished(dialog), timeout=WAIT_MS)
    assert dialog.resend_secret.isEnabled()
    dialog.apply_button.click()
    qtbot.waitUntil(lambda: len(commands(site)) == before + 5, timeout=WAIT_MS)
    _id, kind, payload, _status = commands(site)[before + 4]
    assert (kind, payload) == ("ROUTER_SYNC", {"apply": True, "resend_secret": True})
    dialog.reject()


def test_no_answer_says_whether_the_service_runs(
    qtbot: QtBot,
    site: Site,
    tmp_path: Path,
    windows: list[MainWindow],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(router_dialogs, "ANSWER_TIMEOUT_MS", 10)
    window, page = open_routers(qtbot, site, "ADMIN", tmp_path, windows)
    assert window.service_running is False  # no heartbeat in this database
    page.select_row(router_row(page))
    dialog = required(page.test_connection())
    qtbot.waitUntil(lambda: dialog.timed_out, timeout=WAIT_MS)
    assert "the site service is not running" in dialog.state_label.text()
    dialog.reject()


def test_a_viewer_gets_no_router_actions_and_the_database_refuses_them(
    qtbot: QtBot, site: Site, tmp_path: Path, windows: list[MainWindow]
) -> None:
    _window, page = open_routers(qtbot, site, "VIEWER", tmp_path, windows)
    assert page.allowed_actions() == []
    for action in page.actions_by_key.values():
        assert not action.button.isVisibleTo(page)

    with session_scope(sessionmaker(site.engine("VIEWER", guarded=False))) as session:
        tenant = TenantRepository(session).get_by_name(site.tenant)
        nas_id = NasRepository(session).get_by_name(tenant.id, ROUTER).id
        with pytest.raises(PermissionDenied):
            queue_command(session, kind=ServiceCommandKind.ROUTER_TEST, nas_id=nas_id)


def test_a_suspected_secret_mismatch_shows_in_the_problem_column(
    qtbot: QtBot, site: Site, tmp_path: Path, windows: list[MainWindow]
) -> None:
    as_service(
        site,
        "UPDATE nas SET secret_mismatch_since = now(), health_error = NULL WHERE name = :n",
        n=ROUTER,
    )
    window, page = open_routers(qtbot, site, "ADMIN", tmp_path, windows)
    problem = cell(page, router_row(page), "health_error")
    assert problem.startswith("RADIUS secret mismatch suspected since 20")
    assert "re-send" in problem
    assert cell(page, router_row(page), "health_error", Qt.ItemDataRole.ToolTipRole) == problem

    # A valid request clears it; the open page follows (live update).
    assert window.live is not None
    qtbot.waitUntil(window.live.listening.is_set, timeout=WAIT_MS)
    as_service(site, "UPDATE nas SET secret_mismatch_since = NULL WHERE name = :n", n=ROUTER)
    qtbot.waitUntil(lambda: cell(page, router_row(page), "health_error") == "", timeout=WAIT_MS)
