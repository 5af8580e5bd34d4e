"""The M-Pesa suspense and Payment review pages, and statement reconciliation, over each
staff role's own login with the GUI-thread guard on: what a role sees, what it may do, and
that assigning or crediting really moves money in the database (once)."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtTest import QAbstractItemModelTester
from pytestqt.qtbot import QtBot
from sqlalchemy import text
from sqlalchemy.orm import sessionmaker

from easyisp_core.db.engine import session_scope
from easyisp_core.errors import PermissionDenied, ValidationFailed
from easyisp_core.models.enums import StaffRole
from easyisp_core.rules.permissions import ROLE_DEFAULTS
from easyisp_core.services.customers import register_customer
from easyisp_core.services.mpesa_review import close_review
from easyisp_core.services.mpesa_suspense import resolve_suspense
from easyisp_core.services.payments import record_payment
from easyisp_desktop.framework.gui_thread_guard import GUARD_ENV
from easyisp_desktop.views.mpesa_reconcile import ReconcileDialog
from easyisp_desktop.views.mpesa_review import CallbackDetails, PaymentReviewPage
from easyisp_desktop.views.mpesa_suspense import SuspensePage
from easyisp_desktop.views.registry import pages_for
from tests.gui.pages_support import (
    ROLES,
    WAIT_MS,
    OpenPage,
    Site,
    engines_disposed,
    open_page,
    site,
)

__all__ = ["engines_disposed", "open_page", "site"]

STATEMENT = Path(__file__).parents[1] / "data" / "mpesa" / "org_statement.csv"
BODY = {"TransID": "TKRREVIEW1", "TransAmount": "99.00", "BillRefNumber": "nobody"}


@pytest.fixture(autouse=True)
def _guard_on(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(GUARD_ENV, "1")


@pytest.fixture(scope="module")
def money(site: Site) -> dict[str, Any]:
    """Suspense entries, a callback kept for review, a customer whose username is the
    statement's ACCOUNT2, and our payments that match (or are missing from) the statement."""
    sessions = site.admin_sessions()
    with session_scope(sessions) as session:
        tenant_id = session.scalar(
            text("SELECT id FROM tenants WHERE name = :n"), {"n": site.tenant}
        )
        owner, _password = register_customer(
            session, site.box,
            {"tenant": site.tenant, "username": "account2", "full_name": "Otieno Odhiambo",
             "connection_type": "PPPOE", "phone": "0722000111"},
        )  # fmt: skip
        ids: dict[str, uuid.UUID] = {}
        for receipt, amount, account in (
            ("TKRSUSP001", "700.00", "wrongacc"),
            ("TKRSUSP002", "40.00", "x"),
            ("TKRSUSP003", "10.00", "y"),
        ):
            ids[receipt] = session.scalar(
                text(
                    "INSERT INTO mpesa_suspense (tenant_id, receipt, amount, msisdn, "
                    "account_reference, payer_name, paid_at, reason) VALUES "
                    "(:t, :r, :a, '2547****126', :acc, 'WANJIRU KAMAU', "
                    "now() - make_interval(mins => :m), "
                    "'account names no customer') RETURNING id"
                ),
                {"t": tenant_id, "r": receipt, "a": amount, "acc": account, "m": 10 - len(ids)},
            )
        session.execute(
            text(
                "INSERT INTO mpesa_callbacks (tenant_id, kind, external_id, trusted, "
                "source_address, body, outcome, review_reason) VALUES "
                "(:t, 'C2B_CONFIRMATION', 'TKRREVIEW1', true, '196.201.214.200', "
                "CAST(:b AS jsonb), 'REVIEW', 'amount below the package price')"
            ),
            {"t": tenant_id, "b": json.dumps(BODY)},
        )
        for receipt, amount, paid_at in (
            ("TKR1AAAAA1", "1500.00", "2026-11-25 09:15:02+03"),
            ("TKR1OURS01", "300.00", "2026-11-25 10:00:00+03"),
        ):
            record_payment(
                session,
                {"tenant": site.tenant, "customer": site.customer, "amount": amount,
                 "method": "MPESA", "transaction_id": receipt},
            )  # fmt: skip
            session.execute(
                text(
                    "UPDATE payments SET paid_at = CAST(:p AS timestamptz) "
                    "WHERE transaction_id = :r"
                ),
                {"p": paid_at, "r": receipt},
            )
    return {"tenant_id": tenant_id, "owner": owner, "suspense": ids}


def wallet(site: Site, username: str) -> Decimal:
    with session_scope(site.admin_sessions()) as session:
        return Decimal(
            session.scalar(
                text("SELECT wallet_balance FROM customers WHERE username = :u"), {"u": username}
            )
        )


@pytest.mark.parametrize("role", ROLES)
def test_each_role_sees_the_mpesa_pages_only_with_payments_read_and_acts_only_with_create(
    open_page: OpenPage, money: dict[str, Any], role: str
) -> None:
    allowed = ROLE_DEFAULTS[StaffRole(role)]
    offered = [spec.title for spec in pages_for(frozenset(allowed))]
    if "payments.read" not in allowed:
        assert "M-Pesa suspense" not in offered
        assert "Payment review" not in offered
        return
    assert {"M-Pesa suspense", "Payment review"} <= set(offered)
    suspense = open_page(SuspensePage, role)
    QAbstractItemModelTester(suspense.model, QAbstractItemModelTester.FailureReportingMode.Fatal)
    # Oldest payment first; TKRSUSP001 is gone once another test assigned it.
    shown = [r.receipt for r in suspense.model.rows]
    assert shown in (["TKRSUSP001", "TKRSUSP002", "TKRSUSP003"], ["TKRSUSP002", "TKRSUSP003"])
    assert suspense.model.data(suspense.model.index(0, 3)) == "2547****126"
    creates = "payments.create" in allowed
    assert sorted(suspense.allowed_actions()) == (["assign", "reconcile"] if creates else [])
    review = open_page(PaymentReviewPage, role)
    QAbstractItemModelTester(review.model, QAbstractItemModelTester.FailureReportingMode.Fatal)
    assert [r.external_id for r in review.model.rows] == ["TKRREVIEW1"]
    assert sorted(review.allowed_actions()) == (["close", "edit"] if creates else ["edit"])


def test_typing_filters_the_suspense_list(
    qtbot: QtBot, open_page: OpenPage, money: dict[str, Any]
) -> None:
    page = open_page(SuspensePage, "ADMIN")
    with qtbot.waitSignal(page.model.page_loaded, timeout=WAIT_MS):
        page.search_box.setText("wrongacc")
        page.model.apply_filter_now()
    assert [r.receipt for r in page.model.rows] == ["TKRSUSP001"]


def test_assigning_a_suspense_payment_credits_the_customers_wallet(
    qtbot: QtBot, site: Site, open_page: OpenPage, money: dict[str, Any]
) -> None:
    page = open_page(SuspensePage, "STAFF")
    before = wallet(site, "account2")
    row = next(i for i, r in enumerate(page.model.rows) if r.receipt == "TKRSUSP001")
    page.select_row(row)
    picker = page.assign()
    assert picker is not None
    QAbstractItemModelTester(picker.model, QAbstractItemModelTester.FailureReportingMode.Fatal)
    with qtbot.waitSignal(picker.model.page_loaded, timeout=WAIT_MS):
        picker.search_box.setText("Otieno Odhiambo")
        picker.model.apply_filter_now()
    assert [c.username for c in picker.model.rows] == ["account2"]
    picker.select_row(0)
    with qtbot.waitSignal(page.action_done, timeout=WAIT_MS):
        picker.accept()
    qtbot.waitUntil(lambda: not page.model.loading, timeout=WAIT_MS)
    assert page.last_result.startswith("TKRSUSP001 credited to Otieno Odhiambo (account2)")
    assert wallet(site, "account2") == before + Decimal("700.00")
    assert "TKRSUSP001" not in [r.receipt for r in page.model.rows]
    with session_scope(site.admin_sessions()) as session:
        status = session.scalar(
            text("SELECT status FROM mpesa_suspense WHERE receipt = 'TKRSUSP001'")
        )
        paid = session.scalar(
            text("SELECT amount FROM payments WHERE transaction_id = 'TKRSUSP001'")
        )
    assert (status, paid) == ("RESOLVED", Decimal("700.00"))


def test_the_database_refuses_an_assignment_without_payments_create(
    site: Site, money: dict[str, Any]
) -> None:
    viewer = sessionmaker(site.engine("VIEWER", guarded=False))
    with (
        pytest.raises(PermissionDenied, match="You do not have permission"),
        session_scope(viewer) as session,
    ):
        resolve_suspense(
            session,
            money["suspense"]["TKRSUSP002"],
            money["owner"].id,
            datetime.now(UTC),
        )


def test_the_review_details_show_the_raw_body_read_only(
    qtbot: QtBot, open_page: OpenPage, money: dict[str, Any]
) -> None:
    page = open_page(PaymentReviewPage, "CUSTOMER_CARE")
    page.select_row(0)
    with qtbot.waitSignal(page.details_opened, timeout=WAIT_MS) as opened:
        page.details()
    dialog = opened.args[0]
    assert isinstance(dialog, CallbackDetails)
    assert dialog.body.isReadOnly()
    assert json.loads(dialog.body.toPlainText()) == BODY
    assert '\n  "BillRefNumber": "nobody"' in dialog.body.toPlainText()
    dialog.reject()


def test_reconciling_the_statement_lists_three_ways_and_credits_a_missing_receipt_once(
    qtbot: QtBot, site: Site, open_page: OpenPage, money: dict[str, Any]
) -> None:
    page = open_page(SuspensePage, "ADMIN")
    dialog = page.reconcile()
    assert isinstance(dialog, ReconcileDialog)
    with qtbot.waitSignal(dialog.reconciled, timeout=WAIT_MS):
        dialog.load_file(STATEMENT)
    for model in (dialog.matched, dialog.missing, dialog.not_listed):
        QAbstractItemModelTester(model, QAbstractItemModelTester.FailureReportingMode.Fatal)
    assert [line.receipt for line in dialog.matched.rows] == ["TKR1AAAAA1"]
    assert [line.receipt for line in dialog.missing.rows] == ["TKR1AAAAA2", "TKR1AAAAA3"]
    assert [p.receipt for p in dialog.not_listed.rows] == ["TKR1OURS01"]
    assert dialog.tabs.tabText(1) == "In the statement, not ours (2)"

    before = wallet(site, "account2")
    asked: list[str] = []

    def confirm(_title: str, question: str) -> bool:
        asked.append(question)
        return True

    dialog.confirm = confirm
    dialog.select_missing(0)
    with qtbot.waitSignal(dialog.reconciled, timeout=WAIT_MS):
        dialog.credit_selected()
    assert asked == ["Credit receipt TKR1AAAAA2, KES 50.00, to account ACCOUNT2?"]
    assert dialog.status.text().startswith("Credited TKR1AAAAA2, KES 50.00")
    assert wallet(site, "account2") == before + Decimal("50.00")
    assert [line.receipt for line in dialog.missing.rows] == ["TKR1AAAAA3"]
    assert "TKR1AAAAA2" in [line.receipt for line in dialog.matched.rows]

    # The same line again (a stale list on another PC): refused clearly, nothing changes.
    line = next(x for x in dialog.lines if x.receipt == "TKR1AAAAA2")
    with qtbot.waitSignal(dialog.reconciled, timeout=WAIT_MS):
        dialog.credit(line)
    assert dialog.status.text() == (
        "Already credited: receipt TKR1AAAAA2 was recorded before; nothing changed."
    )
    assert wallet(site, "account2") == before + Decimal("50.00")
    dialog.reject()


def test_reconciling_can_be_cancelled_and_an_unreadable_file_is_explained(
    qtbot: QtBot, open_page: OpenPage, money: dict[str, Any], tmp_path: Path
) -> None:
    page = open_page(SuspensePage, "ADMIN")
    dialog = page.reconcile()
    assert dialog is not None
    worker = dialog.load_file(STATEMENT)
    dialog.cancel()
    assert worker.is_cancelled()
    assert dialog.status.text() == "Cancelled"
    assert not dialog.cancel_button.isVisibleTo(dialog)
    bad = tmp_path / "not-a-statement.csv"
    bad.write_text("hello,world\n1,2\n")
    dialog.load_file(bad)
    qtbot.waitUntil(lambda: "Receipt No." in dialog.status.text(), timeout=WAIT_MS)
    assert dialog.matched.rowCount() == 0
    dialog.reject()


def kept_for_review(site: Site, money: dict[str, Any], receipt: str) -> int:
    with session_scope(site.admin_sessions()) as session:
        return int(
            session.scalar(
                text(
                    "INSERT INTO mpesa_callbacks (tenant_id, kind, external_id, trusted, "
                    "source_address, body, outcome, review_reason) VALUES "
                    "(:t, 'C2B_CONFIRMATION', :r, true, '196.201.214.200', "
                    "CAST(:b AS jsonb), 'REVIEW', 'paid to another business') RETURNING id"
                ),
                {"t": money["tenant_id"], "r": receipt, "b": json.dumps({"TransID": receipt})},
            )
        )


def test_closing_a_review_entry_needs_a_reason_moves_no_money_and_is_audited(
    qtbot: QtBot, site: Site, open_page: OpenPage, money: dict[str, Any]
) -> None:
    callback = kept_for_review(site, money, "TKRCLOSE01")
    balances = wallet(site, "account2"), wallet(site, site.customer)
    page = open_page(PaymentReviewPage, "STAFF")
    page.select_row(next(i for i, r in enumerate(page.model.rows) if r.id == callback))
    form = page.close_entry()
    assert form is not None
    with qtbot.waitSignal(form.failed, timeout=WAIT_MS):
        form.editor("note").type_text("  ")
        form.submit()
    assert form.error_text("note") or form.message_text
    with qtbot.waitSignal(page.action_done, timeout=WAIT_MS):
        form.editor("note").type_text("Test payment by our own technician")
        form.submit()
    qtbot.waitUntil(lambda: not page.model.loading, timeout=WAIT_MS)
    assert callback not in [r.id for r in page.model.rows]
    assert (wallet(site, "account2"), wallet(site, site.customer)) == balances
    with session_scope(site.admin_sessions()) as session:
        closed = session.execute(
            text(
                "SELECT outcome, review_note, reviewed_by IS NOT NULL, reviewed_at IS NOT NULL "
                "FROM mpesa_callbacks WHERE id = :c"
            ),
            {"c": callback},
        ).one()
        audited = session.scalar(
            text(
                "SELECT details FROM audit_logs WHERE action = 'MPESA_REVIEW_CLOSED' "
                "AND target_label = 'M-Pesa callback TKRCLOSE01'"
            )
        )
    assert tuple(closed) == ("IGNORED", "Test payment by our own technician", True, True)
    assert audited == "Test payment by our own technician"


def test_the_database_refuses_closing_a_review_without_payments_create_or_twice(
    site: Site, money: dict[str, Any]
) -> None:
    callback = kept_for_review(site, money, "TKRCLOSE02")
    viewer = sessionmaker(site.engine("VIEWER", guarded=False))
    with (
        pytest.raises(PermissionDenied, match="You do not have permission"),
        session_scope(viewer) as session,
    ):
        close_review(session, callback, "not mine to close")
    staff = sessionmaker(site.engine("STAFF", guarded=False))
    with session_scope(staff) as session:
        close_review(session, callback, "a duplicate of TKRREVIEW1")
    with (
        pytest.raises(ValidationFailed, match="no longer waiting for review"),
        session_scope(staff) as session,
    ):
        close_review(session, callback, "again")


def test_cancelling_the_reconciliation_cancels_its_query_on_the_server(
    qtbot: QtBot, site: Site, open_page: OpenPage, money: dict[str, Any]
) -> None:
    """Cancel used to abandon the worker only: its query went on running on the server
    (here: waiting for a lock the test holds on payments) until it finished by itself."""
    page = open_page(SuspensePage, "ADMIN")
    dialog = page.reconcile()
    assert dialog is not None
    login = site.logins["ADMIN"]
    with site.engine_admin().connect() as holder:
        holder.execute(text("LOCK TABLE payments IN ACCESS EXCLUSIVE MODE"))

        def waiting() -> list[int]:
            with site.engine_admin().connect() as watcher:
                return list(
                    watcher.scalars(
                        text(
                            "SELECT pid FROM pg_stat_activity WHERE usename = :u "
                            "AND state = 'active' AND wait_event_type = 'Lock'"
                        ),
                        {"u": login},
                    )
                )

        worker = dialog.load_file(STATEMENT)
        qtbot.waitUntil(lambda: len(waiting()) == 1, timeout=WAIT_MS)
        [pid] = waiting()
        with qtbot.waitSignal(worker.signals.finished, timeout=WAIT_MS):
            dialog.cancel()
        assert dialog.status.text() == "Cancelled"

        def state() -> str | None:
            with site.engine_admin().connect() as watcher:
                found: str | None = watcher.scalar(
                    text("SELECT state FROM pg_stat_activity WHERE pid = :p"), {"p": pid}
                )
                return found

        # Gone from the server while the lock is still held: cancelled, not finished.
        qtbot.waitUntil(lambda: state() != "active", timeout=WAIT_MS)
        assert waiting() == []
        holder.rollback()
    dialog.reject()
