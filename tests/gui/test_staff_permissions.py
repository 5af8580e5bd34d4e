"""Per-user permission overrides from the Staff page: checkboxes over the catalogue, saved
through services.staff.set_permissions (as `easyisp user permissions`), enforced by the
database."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QCheckBox
from pytestqt.qtbot import QtBot
from sqlalchemy import select, text
from sqlalchemy.orm import sessionmaker

from easyisp_core.db.engine import session_scope
from easyisp_core.models import User
from easyisp_core.rules.permissions import PERMISSIONS
from easyisp_desktop.framework.forms import FormDialog
from easyisp_desktop.framework.gui_thread_guard import GUARD_ENV
from easyisp_desktop.views.staff import StaffPage
from tests.gui.pages_support import (
    WAIT_MS,
    OpenPage,
    Site,
    engines_disposed,
    open_page,
    refused,
    row_index,
    save,
    site,
)

__all__ = ["engines_disposed", "open_page", "site"]


@pytest.fixture(autouse=True)
def _guard_on(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(GUARD_ENV, "1")


def _form(qtbot: QtBot, page: StaffPage, username: str) -> FormDialog:
    page.select_row(row_index(page, username=username))
    with qtbot.waitSignal(page.form_opened, timeout=WAIT_MS) as opened:
        page.actions_by_key["permissions"].button.click()
    form: FormDialog = opened.args[0]
    qtbot.waitUntil(lambda: form.save_button.isEnabled() and not form.busy, timeout=WAIT_MS)
    return form


def _checked(form: FormDialog, name: str) -> bool:
    box = form.editor(name).widget
    assert isinstance(box, QCheckBox)
    return box.isChecked()


def test_a_manager_grants_and_revokes_single_permissions(
    qtbot: QtBot, open_page: OpenPage, site: Site
) -> None:
    cashier = site.logins["STAFF"]
    page = open_page(StaffPage, "ADMIN")
    assert "permissions" in page.allowed_actions()
    form = _form(qtbot, page, cashier)
    assert set(form.editors) == set(PERMISSIONS)  # the whole catalogue
    assert form.sizeHint().height() < 700  # scrolls: fits a 1366x768 laptop
    assert "(role default)" in form.editor("vouchers.write").field.help
    assert _checked(form, "vouchers.write")
    assert not _checked(form, "customers.delete")

    form.editor("customers.delete").set_value(True)
    form.editor("vouchers.write").set_value(False)
    save(qtbot, form)
    qtbot.waitUntil(
        lambda: page.status_label.text() == f"Permissions of {cashier} saved", timeout=WAIT_MS
    )
    with session_scope(site.admin_sessions()) as session:
        user = session.scalars(select(User).where(User.username == cashier)).one()
        assert (list(user.added_permissions), list(user.removed_permissions)) == (
            ["customers.delete"], ["vouchers.write"]
        )  # fmt: skip
    # The database enforces the overrides for the cashier's own login at once.
    with session_scope(sessionmaker(site.engine("STAFF", guarded=False))) as session:
        may = session.execute(
            text(
                "SELECT easyisp_has_permission('customers.delete'), "
                "easyisp_has_permission('vouchers.write')"
            )
        ).one()
    assert tuple(may) == (True, False)

    form = _form(qtbot, page, cashier)  # opened again: shows what was saved
    assert _checked(form, "customers.delete")
    assert not _checked(form, "vouchers.write")
    form.editor("customers.delete").set_value(False)
    form.editor("vouchers.write").set_value(True)
    save(qtbot, form)  # back to the role's defaults: no overrides left
    with session_scope(site.admin_sessions()) as session:
        user = session.scalars(select(User).where(User.username == cashier)).one()
        assert (list(user.added_permissions), list(user.removed_permissions)) == ([], [])


def test_nobody_changes_their_own_permissions_and_others_see_no_action(
    qtbot: QtBot, open_page: OpenPage, site: Site
) -> None:
    page = open_page(StaffPage, "ADMIN")
    form = _form(qtbot, page, site.logins["ADMIN"])
    form.editor("tenants.manage").set_value(True)
    assert refused(qtbot, form).startswith("You do not have permission")
    assert _checked(form, "tenants.manage")  # the input is kept

    viewer = open_page(StaffPage, "STAFF")
    assert "permissions" not in viewer.allowed_actions()
