"""Deleting a customer from the workspace: only a mistaken registration (nothing on record)
goes; one with history is explained and offered Suspend; the database refuses the rest."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QSettings
from pytestqt.qtbot import QtBot
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from easyisp_core.crypto import SecretBox
from easyisp_core.db.engine import make_engine
from easyisp_desktop.framework.gui_thread_guard import GUARD_ENV
from easyisp_desktop.framework.worker import WorkerPool
from easyisp_desktop.views.customers import CustomersPage
from easyisp_desktop.workspace.window import CustomerWorkspace
from tests.gui.workspace_site import TIMEOUT_MS, Site, db_value, login, mistaken_registration


@pytest.fixture(autouse=True)
def _guard_on(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(GUARD_ENV, "1")


def _workspace(
    qtbot: QtBot, page: CustomersPage, customer_id: uuid.UUID, answer: bool
) -> CustomerWorkspace:
    with qtbot.waitSignal(page.workspace_opened, timeout=TIMEOUT_MS) as opened:
        page.open_workspace(customer_id)
    workspace: CustomerWorkspace = opened.args[0]
    qtbot.waitUntil(lambda: workspace.data is not None, timeout=TIMEOUT_MS)
    workspace.confirm = lambda _title, _question: answer
    return workspace


def _page(qtbot: QtBot, site: Site, role: str, workers: WorkerPool, tmp_path: Path) -> Any:
    engine, sessions = login(site, role)
    page = CustomersPage(
        sessions, workers, QSettings(str(tmp_path / "t.ini"), QSettings.Format.IniFormat),
        tenant_id=site.tenant_id,
    )  # fmt: skip
    qtbot.addWidget(page)
    page.show()
    qtbot.waitUntil(lambda: page.model.rowCount() >= 1, timeout=TIMEOUT_MS)
    return engine, page


def test_a_mistaken_registration_is_deleted_and_audited(
    qtbot: QtBot, site: Site, workers: WorkerPool, tmp_path: Path, secret_box: SecretBox
) -> None:
    typo = mistaken_registration(site, secret_box)
    engine, page = _page(qtbot, site, "ADMIN", workers, tmp_path)
    try:
        qtbot.waitUntil(lambda: page.model.rowCount() == 2, timeout=TIMEOUT_MS)
        workspace = _workspace(qtbot, page, typo, answer=True)
        assert workspace.buttons["delete"].isVisibleTo(workspace)
        with qtbot.waitSignal(workspace.deleted, timeout=TIMEOUT_MS) as deleted:
            workspace.act_delete()
        assert deleted.args == ["Otieno Typo"]
        assert not workspace.isVisible()
        qtbot.waitUntil(lambda: page.model.rowCount() == 1, timeout=TIMEOUT_MS)
        qtbot.waitUntil(
            lambda: page.status_label.text() == "Customer Otieno Typo deleted", timeout=TIMEOUT_MS
        )
        assert db_value(site, "SELECT count(*) FROM customers WHERE id = :c", c=typo) == 0
        actor = db_value(
            site,
            "SELECT actor FROM audit_logs WHERE action = 'CUSTOMER_DELETE' AND before->>'id' = :c",
            c=str(typo),
        )
        assert actor == site.staff["ADMIN"]
    finally:
        page.close_workspaces()
        workers.wait(10_000)
        engine.dispose()


def test_a_customer_with_history_is_explained_and_offered_suspend(
    qtbot: QtBot, site: Site, workers: WorkerPool, tmp_path: Path
) -> None:
    engine, page = _page(qtbot, site, "ADMIN", workers, tmp_path)
    try:
        workspace = _workspace(qtbot, page, site.customer_id, answer=False)
        reason = (
            "Wanjiru Kamau has sessions on record, so they cannot be deleted; suspend them instead."
        )
        assert workspace.buttons["delete"].toolTip() == reason
        workspace.act_delete()  # declines the offered Suspend: the reason stays on screen
        assert workspace.message.text() == reason
        assert db_value(site, "SELECT status FROM customers WHERE id = :c", c=site.customer_id) == (
            "ACTIVE"
        )

        workspace.confirm = lambda _title, _question: True  # accepts Suspend
        with qtbot.waitSignal(workspace.action_done, timeout=TIMEOUT_MS) as done:
            workspace.act_delete()
        assert done.args == ["suspend"]
        qtbot.waitUntil(
            lambda: workspace.header["status"].text() == "Suspended", timeout=TIMEOUT_MS
        )
        assert db_value(site, "SELECT count(*) FROM customers WHERE id = :c", c=site.customer_id)
    finally:
        page.close_workspaces()
        workers.wait(10_000)
        engine.dispose()


def test_a_viewer_sees_no_delete_and_the_database_refuses_it(
    qtbot: QtBot, site: Site, workers: WorkerPool, tmp_path: Path, secret_box: SecretBox
) -> None:
    typo = mistaken_registration(site, secret_box)
    engine, page = _page(qtbot, site, "VIEWER", workers, tmp_path)
    try:
        workspace = _workspace(qtbot, page, typo, answer=True)
        assert not workspace.buttons["delete"].isVisibleTo(workspace)
        with qtbot.waitSignal(workspace.action_failed, timeout=TIMEOUT_MS) as failed:
            workspace.act_delete()  # hidden from VIEWER; the database is the real gate
        assert failed.args[0] == "delete"
        assert str(failed.args[1]).startswith("You do not have permission")
        assert db_value(site, "SELECT count(*) FROM customers WHERE id = :c", c=typo) == 1
    finally:
        page.close_workspaces()
        workers.wait(10_000)
        engine.dispose()


def test_the_database_refuses_deleting_a_customer_with_history_for_every_client(
    site: Site,
) -> None:
    engine = make_engine(site.url)  # the superuser: past every policy, not past the trigger
    try:
        with (
            pytest.raises(DBAPIError, match="has sessions on record, so they cannot be deleted"),
            engine.begin() as conn,
        ):
            conn.execute(text("DELETE FROM customers WHERE id = :c"), {"c": site.customer_id})
    finally:
        engine.dispose()
    assert db_value(site, "SELECT count(*) FROM customers WHERE id = :c", c=site.customer_id) == 1
