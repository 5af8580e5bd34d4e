"""Packages page: CRUD through the real database under the staff member's own role."""

from __future__ import annotations

from decimal import Decimal

import pytest
from pytestqt.qtbot import QtBot

from easyisp_desktop.framework.gui_thread_guard import GUARD_ENV
from easyisp_desktop.views.packages import PackagesPage
from tests.gui.pages_support import (
    QT_WARNINGS_FAIL,
    WAIT_MS,
    OpenPage,
    engines_disposed,
    no_logged_warnings,
    open_page,
    site,
)

# A Qt warning fails the test too (the offscreen platform's own notice aside).
pytestmark = QT_WARNINGS_FAIL

__all__ = ["engines_disposed", "no_logged_warnings", "open_page", "site"]


@pytest.fixture(autouse=True)
def _guard_on(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(GUARD_ENV, "1")


def names(page: PackagesPage) -> list[str]:
    return [row.name for row in page.model.rows]


def test_an_admin_creates_edits_and_deletes_a_package(qtbot: QtBot, open_page: OpenPage) -> None:
    page = open_page(PackagesPage, "ADMIN")
    assert names(page) == ["Home 10", "Home 5"]

    form = page.new()
    form.editor("name").type_text("Fibre 50")
    form.editor("price").type_text("4,500.50")
    form.editor("download_speed").type_text("50")
    form.editor("upload_speed").type_text("20")
    with qtbot.waitSignal(form.saved, timeout=WAIT_MS) as saved:
        form.save_button.click()
    assert saved.args[0].price == Decimal("4500.50")
    qtbot.waitUntil(lambda: "Fibre 50" in names(page), timeout=WAIT_MS)

    page.select_row(names(page).index("Fibre 50"))
    edit_form = page.edit()
    assert edit_form is not None
    form = edit_form
    qtbot.waitUntil(lambda: not form.busy, timeout=WAIT_MS)
    assert form.editor("price").text() == "4500.50"
    form.editor("name").type_text("Fibre 60")
    with qtbot.waitSignal(form.saved, timeout=WAIT_MS):
        form.save_button.click()
    qtbot.waitUntil(lambda: "Fibre 60" in names(page), timeout=WAIT_MS)

    page.select_row(names(page).index("Fibre 60"))
    page.confirm = lambda _title, _question: True
    with qtbot.waitSignal(page.action_done, timeout=WAIT_MS) as done:
        page.actions_by_key["delete"].button.click()
    assert done.args[0] == "Package Fibre 60 deleted"
    qtbot.waitUntil(lambda: "Fibre 60" not in names(page), timeout=WAIT_MS)
