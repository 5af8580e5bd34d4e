"""Keyboard-first: Ctrl+F searches, Ctrl+N creates, Enter opens and saves, Esc cancels."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from easyisp_desktop.framework.forms import FormDialog
from easyisp_desktop.framework.gui_thread_guard import GUARD_ENV
from easyisp_desktop.views.packages import PackagesPage
from tests.gui.pages_support import (
    WAIT_MS,
    OpenPage,
    engines_disposed,
    open_page,
    site,
)

__all__ = ["engines_disposed", "open_page", "site"]


@pytest.fixture(autouse=True)
def _guard_on(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(GUARD_ENV, "1")


def test_the_keyboard_reaches_every_step_of_an_edit(qtbot: QtBot, open_page: OpenPage) -> None:
    page = open_page(PackagesPage, "ADMIN")
    page.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is page, timeout=WAIT_MS)
    page.table.setFocus()

    QTest.keyClick(page.table, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    assert page.search_box.hasFocus()

    with qtbot.waitSignal(page.form_opened, timeout=WAIT_MS) as opened:
        QTest.keyClick(page.search_box, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)
    form: FormDialog = opened.args[0]
    assert form.windowTitle() == "New package"
    with qtbot.waitSignal(form.rejected, timeout=WAIT_MS):
        QTest.keyClick(form, Qt.Key.Key_Escape)

    page.table.setFocus()
    page.select_row(0)
    with qtbot.waitSignal(page.form_opened, timeout=WAIT_MS) as opened:
        QTest.keyClick(page.table, Qt.Key.Key_Return)
    form = opened.args[0]
    assert form.windowTitle() == "Edit package Home 10"
    qtbot.waitUntil(lambda: not form.busy, timeout=WAIT_MS)
    description = form.editor("description")
    description.type_text("Typed, saved with Enter")
    name = form.editor("name").widget
    name.setFocus()
    QTest.keyClick(name, Qt.Key.Key_Tab)  # fields in the order shown
    assert form.editor("type").widget.hasFocus()
    name.setFocus()
    with qtbot.waitSignal(form.saved, timeout=WAIT_MS):
        QTest.keyClick(name, Qt.Key.Key_Return)
