"""Deleting from the Customers list: the selected row, by the Delete key, the button or the
row's context menu; the same pre-check, question and core service as the workspace."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings, Qt
from pytestqt.qtbot import QtBot
from sqlalchemy import Engine
from sqlalchemy.orm import sessionmaker

from easyisp_core.crypto import SecretBox
from easyisp_core.db.engine import session_scope
from easyisp_core.services.identity import current_identity
from easyisp_desktop.framework.gui_thread_guard import GUARD_ENV
from easyisp_desktop.framework.worker import WorkerPool
from easyisp_desktop.views.customers import CustomersPage
from tests.gui.workspace_site import (
    TIMEOUT_MS,
    Site,
    db_value,
    login,
    mistaken_registration,
    staff_engine,
)


@pytest.fixture(autouse=True)
def _guard_on(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(GUARD_ENV, "1")


def _page(
    qtbot: QtBot, site: Site, role: str, workers: WorkerPool, tmp_path: Path, rows: int
) -> tuple[Engine, CustomersPage, list[tuple[str, str]]]:
    reader = staff_engine(site.url, site.staff[role])  # unguarded: the test thread reads
    try:
        with session_scope(sessionmaker(reader)) as session:
            identity = current_identity(session)
    finally:
        reader.dispose()
    engine, sessions = login(site, role)
    page = CustomersPage(
        sessions, workers, QSettings(str(tmp_path / "t.ini"), QSettings.Format.IniFormat),
        tenant_id=site.tenant_id, permissions=identity.permissions,
    )  # fmt: skip
    qtbot.addWidget(page)
    page.show()
    qtbot.waitUntil(lambda: page.model.rowCount() == rows, timeout=TIMEOUT_MS)
    asked: list[tuple[str, str]] = []
    return engine, page, asked


def _select(page: CustomersPage, customer_id: uuid.UUID) -> None:
    for row in range(page.model.rowCount()):
        if page.model.row_object(row).id == customer_id:
            page.table.selectRow(row)
            page.table.setFocus()
            return
    raise AssertionError("customer not listed")


def test_the_delete_key_deletes_a_mistaken_registration_after_the_question(
    qtbot: QtBot, site: Site, workers: WorkerPool, tmp_path: Path, secret_box: SecretBox
) -> None:
    typo = mistaken_registration(site, secret_box)
    engine, page, asked = _page(qtbot, site, "ADMIN", workers, tmp_path, rows=2)
    try:
        assert page.delete_button.isVisibleTo(page)
        assert not page.delete_button.isEnabled()  # nothing selected yet
        assert page.delete_action in page.table.actions()  # the row's context menu
        assert page.table.contextMenuPolicy() == Qt.ContextMenuPolicy.ActionsContextMenu

        page.confirm = lambda title, question: asked.append((title, question)) or False
        _select(page, typo)
        assert page.delete_button.isEnabled()
        page.delete_button.click()  # declined: nothing changes
        qtbot.waitUntil(lambda: len(asked) == 1, timeout=TIMEOUT_MS)
        title, question = asked[0]
        assert title == "Delete customer"
        assert question.startswith("Delete Otieno Typo (")
        assert "registration made by mistake; it cannot be undone" in question
        assert db_value(site, "SELECT count(*) FROM customers WHERE id = :c", c=typo) == 1

        page.confirm = lambda title, question: asked.append((title, question)) or True
        with qtbot.waitSignal(page.deleted, timeout=TIMEOUT_MS) as deleted:
            qtbot.keyClick(page.table, Qt.Key.Key_Delete)
        assert deleted.args == ["Otieno Typo"]
        qtbot.waitUntil(lambda: page.model.rowCount() == 1, timeout=TIMEOUT_MS)
        qtbot.waitUntil(
            lambda: page.status_label.text() == "Customer Otieno Typo deleted", timeout=TIMEOUT_MS
        )
        assert db_value(site, "SELECT count(*) FROM customers WHERE id = :c", c=typo) == 0
        assert db_value(
            site,
            "SELECT actor FROM audit_logs WHERE action = 'CUSTOMER_DELETE' AND before->>'id' = :c",
            c=str(typo),
        ) == site.staff["ADMIN"]  # fmt: skip
    finally:
        workers.wait(10_000)
        engine.dispose()


def test_a_customer_with_history_is_explained_and_offered_suspend(
    qtbot: QtBot, site: Site, workers: WorkerPool, tmp_path: Path
) -> None:
    engine, page, asked = _page(qtbot, site, "ADMIN", workers, tmp_path, rows=1)
    reason = (
        "Wanjiru Kamau has sessions on record, so they cannot be deleted; suspend them instead."
    )
    try:
        page.confirm = lambda title, question: asked.append((title, question)) or False
        _select(page, site.customer_id)
        page.delete_action.trigger()  # as from the context menu
        qtbot.waitUntil(lambda: page.status_label.text() == reason, timeout=TIMEOUT_MS)
        assert asked == [("Customer cannot be deleted", f"{reason}\n\nSuspend Wanjiru Kamau now?")]

        page.confirm = lambda _title, _question: True  # accepts Suspend
        page.delete_current()
        qtbot.waitUntil(
            lambda: page.status_label.text() == "Customer Wanjiru Kamau suspended",
            timeout=TIMEOUT_MS,
        )
        status = db_value(site, "SELECT status FROM customers WHERE id = :c", c=site.customer_id)
        assert status == "SUSPENDED"
    finally:
        workers.wait(10_000)
        engine.dispose()


def test_without_customers_delete_there_is_no_delete(
    qtbot: QtBot, site: Site, workers: WorkerPool, tmp_path: Path, secret_box: SecretBox
) -> None:
    typo = mistaken_registration(site, secret_box)
    engine, page, asked = _page(qtbot, site, "CUSTOMER_CARE", workers, tmp_path, rows=2)
    try:
        page.confirm = lambda title, question: asked.append((title, question)) or True
        assert not page.delete_button.isVisibleTo(page)
        assert page.delete_action not in page.table.actions()
        _select(page, typo)
        qtbot.keyClick(page.table, Qt.Key.Key_Delete)
        page.delete_current()
        workers.wait(10_000)
        assert asked == []
        assert db_value(site, "SELECT count(*) FROM customers WHERE id = :c", c=typo) == 1
    finally:
        workers.wait(10_000)
        engine.dispose()
