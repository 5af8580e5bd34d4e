"""The console works on a 1366×768 laptop: the main window never needs more than the screen
whichever page is shown, and every form and workspace dialog fits it (no Save button below
the bottom edge). Sizes are Qt's size hints with the real widgets and the real data."""

from __future__ import annotations

from collections.abc import Iterator
from functools import partial
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings, QSize
from PySide6.QtWidgets import QDialog, QWidget
from pytestqt.qtbot import QtBot
from sqlalchemy.orm import sessionmaker

from easyisp_core.db.engine import Database
from easyisp_desktop.framework.entity_page import EntityPage
from easyisp_desktop.framework.forms import FormDialog
from easyisp_desktop.framework.gui_thread_guard import GUARD_ENV
from easyisp_desktop.main_window import MainWindow
from easyisp_desktop.views.registry import PAGES
from easyisp_desktop.views.settings import SettingsPage
from easyisp_desktop.workspace.window import CustomerWorkspace
from tests.gui.pages_support import WAIT_MS, Site, engines_disposed, site

__all__ = ["engines_disposed", "site"]

SCREEN = QSize(1366, 768)
# What a dialog may take: the screen less a taskbar and a title bar.
DIALOG = QSize(1366, 680)
# A window's own frame and title bar come on top of its minimum size.
WINDOW = QSize(1366, 768 - 40 - 30)


@pytest.fixture(autouse=True)
def _guard_on(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(GUARD_ENV, "1")


@pytest.fixture
def window(qtbot: QtBot, site: Site, tmp_path: Path) -> Iterator[MainWindow]:
    """The SUPER_ADMIN's console (every page, every action) on a 1366×768 screen."""
    engine = site.engine("SUPER_ADMIN")
    database = Database(engine, sessionmaker(engine, expire_on_commit=False))
    console = MainWindow(
        lambda *, progress: database,
        settings=QSettings(str(tmp_path / "laptop.ini"), QSettings.Format.IniFormat),
        secret_box=site.box,
    )
    qtbot.addWidget(console)
    console.resize(SCREEN)
    console.show()
    console.start()
    qtbot.waitUntil(lambda: console.identity is not None, timeout=WAIT_MS)
    yield console
    assert console.shutdown()


def fits(widget: QWidget, room: QSize) -> bool:
    need = widget.minimumSizeHint().expandedTo(widget.minimumSize())
    return need.width() <= room.width() and need.height() <= room.height()


def dialog_fits(dialog: QDialog) -> bool:
    hint = dialog.sizeHint()
    return hint.width() <= DIALOG.width() and hint.height() <= DIALOG.height()


def open_form(qtbot: QtBot, page: EntityPage, key: str) -> FormDialog:
    with qtbot.waitSignal(page.form_opened, timeout=WAIT_MS) as opened:
        page.actions_by_key[key].run()
    form: FormDialog = opened.args[0]
    qtbot.waitUntil(lambda: not form.busy, timeout=WAIT_MS)
    return form


def test_every_page_and_its_forms_fit_a_1366_by_768_screen(
    qtbot: QtBot, window: MainWindow
) -> None:
    checked: list[str] = []
    for spec in PAGES:
        page = window.show_page(spec.title)
        if isinstance(page, SettingsPage):
            qtbot.waitUntil(lambda p=page: not p.form.busy, timeout=WAIT_MS)  # type: ignore[misc]
            # The fields scroll; Save stays wholly in sight without scrolling.
            save = page.form.save_button
            assert save.visibleRegion().boundingRect() == save.rect(), save.visibleRegion()
        else:
            assert isinstance(page, EntityPage), spec.title
            qtbot.waitUntil(partial(lambda p: p.model.count is not None, page), timeout=WAIT_MS)
        assert fits(window, WINDOW), (spec.title, window.minimumSizeHint())
        assert window.size() == SCREEN, spec.title
        if not isinstance(page, EntityPage):
            continue
        for key in ("new", "edit"):
            action = page.actions_by_key.get(key)
            if action is None or not action.allowed:
                continue
            if key == "edit":
                if page.model.rowCount() == 0:
                    continue
                page.select_row(0)
            form = open_form(qtbot, page, key)
            assert dialog_fits(form), (spec.title, key, form.sizeHint())
            checked.append(f"{spec.title}:{key}")
            form.reject()
    # The pages with forms were all measured (a renamed action would skip one silently).
    assert {
        "Packages:new", "Vouchers:new", "Payments:new", "Invoices:edit", "Routers:edit",
        "Expenses:edit", "Chart of accounts:edit", "Staff:edit", "Payment gateways:new",
        "SMS gateways:new", "Tenants:edit",
    } <= set(checked), checked  # fmt: skip


def test_the_register_form_and_the_workspace_and_its_dialogs_fit_a_1366_by_768_screen(
    qtbot: QtBot, window: MainWindow
) -> None:
    customers = window.customers
    assert customers is not None
    window.show_page("Customers")
    qtbot.waitUntil(lambda: customers.model.rowCount() >= 1, timeout=WAIT_MS)
    register = customers.register()
    assert register is not None
    # Measured with its package and router lists filled in.
    qtbot.waitUntil(lambda: register.status.text() == "", timeout=WAIT_MS)
    assert dialog_fits(register), register.sizeHint()
    register.reject()

    customers.table.setCurrentIndex(customers.model.index(0, 0))
    workspace = customers.open_current()
    assert isinstance(workspace, CustomerWorkspace)
    qtbot.waitUntil(lambda: workspace.data is not None, timeout=WAIT_MS)
    assert fits(workspace, WINDOW), workspace.minimumSizeHint()
    for name in ("edit", "payment", "top_up", "package"):
        workspace.dialog = None
        getattr(workspace, f"act_{name}")()
        qtbot.waitUntil(lambda: workspace.dialog is not None, timeout=WAIT_MS)
        dialog = workspace.dialog
        assert dialog is not None
        assert dialog_fits(dialog), (name, dialog.sizeHint())
        dialog.reject()
    customers.close_workspaces()
