"""Voiding lost or stolen voucher cards from the Vouchers page, through the real database:
one unused voucher, or every unused voucher of a batch; used ones are kept."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from pytestqt.qtbot import QtBot
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from easyisp_core.db.engine import session_scope
from easyisp_core.models import Package, Voucher
from easyisp_core.models.enums import VoucherStatus
from easyisp_core.services.vouchers import generate_batch
from easyisp_desktop.framework.gui_thread_guard import GUARD_ENV
from easyisp_desktop.views.vouchers import VouchersPage
from tests.gui.pages_support import (
    WAIT_MS,
    OpenPage,
    Site,
    engines_disposed,
    open_page,
    row_index,
    site,
)

__all__ = ["engines_disposed", "open_page", "site"]


@pytest.fixture(autouse=True)
def _guard_on(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(GUARD_ENV, "1")


def _batch(site: Site, name: str, quantity: int, *, used: int = 0) -> list[str]:
    """A batch of `quantity` codes, the first `used` of them already redeemed."""
    with session_scope(site.admin_sessions()) as session:
        package_id = session.scalars(select(Package.id).where(Package.name == "Home 5")).one()
        batch = generate_batch(
            session,
            {"tenant": site.tenant, "name": name, "package_id": package_id, "quantity": quantity},
        )
        codes = sorted(batch.codes)
        for code in codes[:used]:
            session.execute(
                update(Voucher)
                .where(Voucher.code == code)
                .values(status=VoucherStatus.USED, used_at=datetime.now(UTC))
            )
    return codes


def _statuses(session: Session, codes: list[str]) -> dict[str, str]:
    rows = session.execute(select(Voucher.code, Voucher.status).where(Voucher.code.in_(codes)))
    return {code: status.value for code, status in rows}


def _done(qtbot: QtBot, page: VouchersPage, key: str) -> str:
    with qtbot.waitSignal(page.action_done, timeout=WAIT_MS) as done:
        page.actions_by_key[key].button.click()
    return str(done.args[0])


def test_one_unused_voucher_then_the_rest_of_its_batch_are_voided(
    qtbot: QtBot, open_page: OpenPage, site: Site
) -> None:
    used, lost, *rest = codes = _batch(site, "Stolen box", 4, used=1)
    page = open_page(VouchersPage, "STAFF")
    assert {"void", "void_batch"} <= set(page.allowed_actions())

    page.select_row(row_index(page, code=used))
    assert not page.actions_by_key["void"].button.isEnabled()  # used: cannot be voided
    assert page.actions_by_key["void_batch"].button.isEnabled()

    page.select_row(row_index(page, code=lost))
    asked: list[str] = []

    def says_no(_title: str, question: str) -> bool:
        asked.append(question)
        return False

    page.confirm = says_no
    page.actions_by_key["void"].button.click()
    assert len(asked) == 1
    assert lost in asked[0]

    page.confirm = lambda _title, _question: True
    assert _done(qtbot, page, "void") == f"Voucher {lost} voided"
    qtbot.waitUntil(
        lambda: page.model.rows[row_index(page, code=lost)].status == "VOIDED", timeout=WAIT_MS
    )
    with session_scope(site.admin_sessions()) as session:
        assert _statuses(session, codes) == {
            used: "USED", lost: "VOIDED", **dict.fromkeys(rest, "AVAILABLE")
        }  # fmt: skip

    page.select_row(row_index(page, code=used))
    assert _done(qtbot, page, "void_batch") == "Unused vouchers of batch Stolen box voided"
    qtbot.waitUntil(
        lambda: all(page.model.rows[row_index(page, code=c)].status == "VOIDED" for c in rest),
        timeout=WAIT_MS,
    )
    with session_scope(site.admin_sessions()) as session:
        voided = dict.fromkeys([lost, *rest], "VOIDED")
        assert _statuses(session, codes) == {used: "USED", **voided}

    # Nothing unused is left: the batch action says so instead of pretending.
    page.select_row(row_index(page, code=used))
    message = _done(qtbot, page, "void_batch")
    assert message == "Batch Stolen box has no unused vouchers left to void."


def test_a_used_voucher_is_not_voided_even_when_asked(
    qtbot: QtBot, open_page: OpenPage, site: Site
) -> None:
    (used,) = _batch(site, "Spent", 1, used=1)
    page = open_page(VouchersPage, "ADMIN")
    page.select_row(row_index(page, code=used))
    page.confirm = lambda _title, _question: True
    with qtbot.waitSignal(page.action_done, timeout=WAIT_MS) as done:
        page.void()  # the button is disabled; the core refuses as well
    assert done.args[0] == f"Voucher {used} is used; only an unused voucher can be voided."
    with session_scope(site.admin_sessions()) as session:
        assert _statuses(session, [used]) == {used: "USED"}


def test_a_viewer_sees_no_void_and_the_database_refuses_it(
    qtbot: QtBot, open_page: OpenPage, site: Site
) -> None:
    (code,) = _batch(site, "Viewer box", 1)
    page = open_page(VouchersPage, "VIEWER")
    assert page.allowed_actions() == []
    page.select_row(row_index(page, code=code))
    page.confirm = lambda _title, _question: True
    for action in (page.void, page.void_whole_batch):
        with qtbot.waitSignal(page.action_done, timeout=WAIT_MS) as done:
            action()  # hidden from VIEWER; the database is the real gate
        assert str(done.args[0]).startswith("You do not have permission")
    with session_scope(site.admin_sessions()) as session:
        assert _statuses(session, [code]) == {code: "AVAILABLE"}
