"""Packages page CRUD, and filter-as-you-type and CSV export on an entity page."""

from __future__ import annotations

import csv
from decimal import Decimal
from functools import partial
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot
from sqlalchemy import text

from easyisp_desktop.framework.gui_thread_guard import GUARD_ENV
from easyisp_desktop.views.packages import PackagesPage
from easyisp_desktop.views.payments import PaymentsPage
from tests.gui.pages_support import (
    WAIT_MS,
    OpenPage,
    Site,
    engines_disposed,
    open_page,
    site,
)

__all__ = ["engines_disposed", "open_page", "site"]


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


def test_a_page_filters_as_you_type_and_exports_what_it_shows(
    qtbot: QtBot, open_page: OpenPage, tmp_path: Path
) -> None:
    page = open_page(PaymentsPage, "VIEWER")
    page.search_box.setText("wanjiru")
    qtbot.waitUntil(lambda: page.model.query.text == "wanjiru" and not page.model.loading)
    assert [r.customer_name for r in page.model.rows] == ["Wanjiru Kamau"]

    target = tmp_path / "payments.csv"
    with qtbot.waitSignal(page.export_finished, timeout=WAIT_MS):
        page.export_to(target)
    with target.open(encoding="utf-8-sig", newline="") as stream:
        lines = list(csv.reader(stream))
    assert lines[0][:4] == ["Date", "Customer", "Username", "Amount"]
    assert [line[1] for line in lines[1:]] == ["Wanjiru Kamau"]
    assert lines[1][3] == "KES 1,500.00"

    page.search_box.setText("nobody by that name")
    qtbot.waitUntil(lambda: not page.model.loading and page.model.rows == ())
    assert page.count_label.text() == "0 payments"


def test_cancelling_an_export_stops_its_query_on_the_server(
    qtbot: QtBot, open_page: OpenPage, site: Site, tmp_path: Path
) -> None:
    page = open_page(PackagesPage, "ADMIN")
    target = tmp_path / "packages.csv"
    with site.engine_admin().connect() as holder:
        # The export's first page waits behind this lock: only a cancel that reaches the
        # server can end it while the lock is held.
        holder.execute(text("LOCK TABLE packages IN ACCESS EXCLUSIVE MODE"))
        worker = page.export_to(target)
        assert page.cancel_export_button.isVisibleTo(page)
        qtbot.waitUntil(partial(waiting_on_a_lock, site), timeout=WAIT_MS)
        with qtbot.waitSignal(worker.signals.finished, timeout=WAIT_MS):
            page.cancel_export()
        holder.rollback()
    assert page.status_label.text() == "Export cancelled"
    assert page.export_button.isEnabled()
    assert not page.cancel_export_button.isVisibleTo(page)
    assert list(tmp_path.glob("packages.csv*")) == []  # no file, no half file


def waiting_on_a_lock(site: Site) -> bool:
    with site.engine_admin().connect() as conn:
        return bool(
            conn.execute(
                text(
                    "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                    "AND datname = current_database()"
                )
            ).scalar()
        )
