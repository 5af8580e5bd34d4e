"""The customer workspace end to end: real widgets, real database, staff logins, GUI guard on."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings, Qt
from PySide6.QtPrintSupport import QPrinter
from pytestqt.qtbot import QtBot
from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from easyisp_core.crypto import SecretBox
from easyisp_core.db.engine import make_engine, session_scope
from easyisp_core.errors import PermissionDenied
from easyisp_core.services import customer_actions as actions
from easyisp_desktop.framework.gui_thread_guard import GUARD_ENV
from easyisp_desktop.framework.worker import WorkerPool
from easyisp_desktop.views.customers import CustomersPage
from easyisp_desktop.workspace.receipt import ROLL_80MM_LAYOUT
from easyisp_desktop.workspace.window import ACTIONS, CustomerWorkspace
from tests.gui.workspace_site import TIMEOUT_MS, Site, db_value, login, staff_engine


@pytest.fixture(autouse=True)
def _guard_on(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(GUARD_ENV, "1")


def open_workspace(
    qtbot: QtBot, sessions: sessionmaker[Session], workers: WorkerPool, site: Site,
    box: SecretBox | None = None,
) -> CustomerWorkspace:  # fmt: skip
    kwargs = {"secret_box": (lambda: box)} if box is not None else {}
    workspace = CustomerWorkspace(sessions, workers, site.customer_id, **kwargs)  # type: ignore[arg-type]
    qtbot.addWidget(workspace)
    with qtbot.waitSignal(workspace.loaded, timeout=TIMEOUT_MS):
        workspace.reload()
    workspace.show()
    return workspace


def run_action(qtbot: QtBot, workspace: CustomerWorkspace, name: str) -> None:
    with qtbot.waitSignal(workspace.action_done, timeout=TIMEOUT_MS):
        getattr(workspace, f"act_{name}")()


def submit(qtbot: QtBot, workspace: CustomerWorkspace, values: dict[str, str]) -> None:
    dialog = workspace.dialog
    assert dialog is not None
    for key, value in values.items():
        widget = dialog.fields[key]
        if hasattr(widget, "setText"):
            widget.setText(value)
        elif hasattr(widget, "setPlainText"):
            widget.setPlainText(value)
        else:
            widget.setCurrentIndex(widget.findData(value))
    dialog.buttons.button(dialog.buttons.StandardButton.Ok).click()


def test_enter_on_a_customer_row_opens_the_workspace_and_escape_closes_it(
    qtbot: QtBot, site: Site, workers: WorkerPool, tmp_path: Path
) -> None:
    engine, sessions = login(site, "ADMIN")
    try:
        page = CustomersPage(
            sessions, workers, QSettings(str(tmp_path / "t.ini"), QSettings.Format.IniFormat),
            tenant_id=site.tenant_id,
        )  # fmt: skip
        qtbot.addWidget(page)
        page.show()
        qtbot.waitUntil(lambda: page.model.rowCount() == 1, timeout=TIMEOUT_MS)
        page.table.setFocus()
        page.table.setCurrentIndex(page.model.index(0, 0))
        with qtbot.waitSignal(page.workspace_opened, timeout=TIMEOUT_MS) as opened:
            qtbot.keyClick(page.table, Qt.Key.Key_Return)  # type: ignore[no-untyped-call]
        workspace: CustomerWorkspace = opened.args[0]
        qtbot.waitUntil(lambda: workspace.data is not None, timeout=TIMEOUT_MS)
        assert workspace.title.text().startswith("Wanjiru Kamau")
        assert workspace.header["package"].text() == "Home 10 (KES 1,500.00)"
        assert workspace.header["status"].text() == "Active"
        assert "12 days" in workspace.header["expiry"].text()
        assert workspace.header["wallet"].text() == "KES 0.00"
        sessions_model = workspace.models["sessions"]
        assert sessions_model.rowCount() == 1
        assert sessions_model.index(0, 3).data() == "50.0 MB"
        assert sessions_model.index(0, 4).data() == "700.0 MB"
        assert sessions_model.index(0, 5).data() == "1h 30m 00s"
        assert all(workspace.buttons[name].isVisibleTo(workspace) for name in ACTIONS)
        # A second Enter raises the same window rather than opening another.
        assert page.open_current() is workspace
        workspace.activateWindow()
        qtbot.keyClick(workspace, Qt.Key.Key_Escape)  # type: ignore[no-untyped-call]
        assert not workspace.isVisible()
        page.close_workspaces()
    finally:
        workers.wait(10_000)
        engine.dispose()


def roll_printer(path: Path) -> QPrinter:
    """A real QPrinter writing a PDF file, loaded with 80 mm receipt-roll paper."""
    printer = QPrinter(QPrinter.PrinterMode.HighResolution)
    printer.setOutputFormat(QPrinter.OutputFormat.PdfFormat)
    printer.setOutputFileName(str(path))
    printer.setPageLayout(ROLL_80MM_LAYOUT)
    return printer


def test_every_action_works_end_to_end_through_the_database(
    qtbot: QtBot, site: Site, workers: WorkerPool, tmp_path: Path, secret_box: SecretBox
) -> None:
    engine, sessions = login(site, "ADMIN")
    try:
        ws = open_workspace(qtbot, sessions, workers, site, secret_box)
        cid = str(site.customer_id)

        # A cash payment: recorded, credited to the wallet, the receipt printed at once (on a
        # PDF-file printer with an 80 mm roll here, in place of the print dialog).
        printed_path = tmp_path / "printed.pdf"
        ws.choose_printer = lambda: roll_printer(printed_path)
        ws.act_payment()
        with qtbot.waitSignal(ws.receipt_printed, timeout=TIMEOUT_MS):
            submit(qtbot, ws, {"amount": "1500", "method": "CASH", "note": "counter"})
        assert printed_path.read_bytes().startswith(b"%PDF")
        assert b"/MediaBox [0 0 227" in printed_path.read_bytes()  # 80 mm ≈ 227 pt
        # Saved as a PDF again later: the payment selected on the Payments tab.
        receipt_path = tmp_path / "receipt.pdf"
        ws.choose_receipt_path = lambda _suggested: receipt_path
        qtbot.waitUntil(lambda: ws.models["payments"].rowCount() == 1, timeout=TIMEOUT_MS)
        ws.select_payment(0)
        with qtbot.waitSignal(ws.receipt_saved, timeout=TIMEOUT_MS):
            ws.save_receipt()
        assert db_value(site, "SELECT count(*) FROM payments WHERE customer_id = :c", c=cid) == 1
        credited = (
            "SELECT amount FROM wallet_transactions WHERE customer_id = :c AND kind = 'TOPUP'"
        )
        assert db_value(site, credited, c=cid) == Decimal("1500.00")
        data = receipt_path.read_bytes()
        assert data.startswith(b"%PDF")
        assert b"/Type /Page" in data
        assert ws.last_receipt is not None
        assert ws.last_receipt.number.startswith("RCT-")
        qtbot.waitUntil(lambda: ws.header["wallet"].text() == "KES 1,500.00", timeout=TIMEOUT_MS)
        assert ws.models["payments"].rowCount() == 1
        assert ws.models["ledger"].index(0, 3).data() == "KES 1,500.00"

        # A bank payment without its reference: the message sits under the form, input kept.
        ws.act_payment()
        dialog = ws.dialog
        assert dialog is not None
        with qtbot.waitSignal(ws.action_failed, timeout=TIMEOUT_MS):
            submit(qtbot, ws, {"amount": "abc", "method": "BANK"})
        assert dialog.error_text("amount") != ""
        assert dialog.fields["amount"].text() == "abc"  # type: ignore[union-attr]
        dialog.reject()

        # Top up the wallet (a manual, audited credit).
        ws.act_top_up()
        with qtbot.waitSignal(ws.loaded, timeout=TIMEOUT_MS):
            submit(qtbot, ws, {"amount": "200.50", "reason": "goodwill credit"})
        assert db_value(site, "SELECT wallet_balance FROM customers WHERE id = :c", c=cid) == (
            Decimal("1700.50")
        )

        # Edit the profile: a bad phone is refused next to the field, then a good one saved.
        ws.act_edit()
        dialog = ws.dialog
        assert dialog is not None
        with qtbot.waitSignal(ws.action_failed, timeout=TIMEOUT_MS):
            submit(qtbot, ws, {"phone": "12345", "address": "Ngong Road"})
        assert dialog.error_text("phone") != ""
        assert dialog.fields["address"].text() == "Ngong Road"  # type: ignore[union-attr]
        with qtbot.waitSignals([ws.action_done, ws.loaded], timeout=TIMEOUT_MS):
            submit(qtbot, ws, {"phone": "0722 000 111"})
        assert dialog.message.text() == ""
        assert db_value(site, "SELECT phone FROM customers WHERE id = :c", c=cid) == "254722000111"
        assert db_value(site, "SELECT address FROM customers WHERE id = :c", c=cid) == "Ngong Road"

        # The line: a static address and the MAC binding, checked and normalised.
        ws.act_edit()
        dialog = ws.dialog
        assert dialog is not None
        assert dialog.fields["mac_address"].text() == "aa:bb:cc:dd:ee:01"  # type: ignore[union-attr]
        with qtbot.waitSignal(ws.action_failed, timeout=TIMEOUT_MS):
            submit(qtbot, ws, {"static_ip": "10.20.0.999", "mac_address": "aa-bb"})
        assert dialog.error_text("static_ip") == "Input is not a valid IPv4 address"
        assert dialog.error_text("mac_address").endswith("MAC address looks like AA:BB:CC:DD:EE:FF")
        with qtbot.waitSignals([ws.action_done, ws.loaded], timeout=TIMEOUT_MS):
            submit(qtbot, ws, {"static_ip": "10.20.0.99", "mac_address": "aabb.cc00.1199"})
        line = "SELECT host(static_ip) || ' ' || mac_address::text FROM customers WHERE id = :c"
        assert db_value(site, line, c=cid) == "10.20.0.99 aa:bb:cc:00:11:99"

        # Change the package.
        with qtbot.waitSignal(ws.action_done, timeout=TIMEOUT_MS):
            ws.act_package()
            qtbot.waitUntil(lambda: ws.dialog is not dialog, timeout=TIMEOUT_MS)
            submit(qtbot, ws, {"package_id": str(site.package_ids[1])})
        assert (
            db_value(site, "SELECT package_id FROM customers WHERE id = :c", c=cid)
            == (site.package_ids[1])
        )
        # The customer is online: the new package's speed goes to the router by CoA
        # (migration 0024 queues it in the same transaction).
        rate_change = "SELECT status FROM service_commands WHERE kind = 'CHANGE_RATE_LIMIT'"
        assert db_value(site, rate_change) == "QUEUED"

        # Suspend, then reactivate. Online: the suspension queues the disconnect at once.
        run_action(qtbot, ws, "suspend")
        assert db_value(site, "SELECT status FROM customers WHERE id = :c", c=cid) == "SUSPENDED"
        cut = "SELECT payload->>'reason' FROM service_commands WHERE kind = 'DISCONNECT'"
        assert db_value(site, cut) == "suspended by staff"
        qtbot.waitUntil(lambda: ws.buttons["suspend"].text() == "Reactivate", timeout=TIMEOUT_MS)
        run_action(qtbot, ws, "suspend")
        assert db_value(site, "SELECT status FROM customers WHERE id = :c", c=cid) == "ACTIVE"

        # Disconnect now: a DISCONNECT row queued for the router of the open session.
        run_action(qtbot, ws, "disconnect")
        row = db_value(
            site,
            "SELECT kind || ' ' || status || ' ' || nas_id FROM service_commands "
            "WHERE customer_id = :c AND kind = 'DISCONNECT' AND payload ? 'username'",
            c=cid,
        )
        assert row == f"DISCONNECT QUEUED {site.nas_id}"
        qtbot.waitUntil(lambda: ws.models["commands"].rowCount() == 3, timeout=TIMEOUT_MS)
        kinds = [ws.models["commands"].index(n, 1).data() for n in range(3)]
        assert kinds == ["Disconnect", "Disconnect", "Change rate limit"]  # newest first
        assert ws.models["commands"].index(0, 2).data() == "QUEUED"

        # Reset the MAC binding.
        run_action(qtbot, ws, "reset_mac")
        assert db_value(site, "SELECT mac_address FROM customers WHERE id = :c", c=cid) is None

        # Reveal the PPPoE password: shown, and audited.
        run_action(qtbot, ws, "reveal")
        assert ws.password_value.text() == site.password
        assert (
            db_value(
                site,
                "SELECT count(*) FROM audit_logs WHERE target_customer_id = :c "
                "AND action = 'CUSTOMER_PASSWORD_REVEAL'",
                c=cid,
            )
            == 1
        )
        qtbot.waitUntil(
            lambda: any(a.action == "CUSTOMER_PASSWORD_REVEAL" for a in ws.models["audit"].rows),
            timeout=TIMEOUT_MS,
        )
    finally:
        workers.wait(10_000)
        engine.dispose()


def test_a_viewer_sees_no_actions_and_the_database_refuses_the_writes(
    qtbot: QtBot, site: Site, workers: WorkerPool
) -> None:
    engine, sessions = login(site, "VIEWER")
    try:
        ws = open_workspace(qtbot, sessions, workers, site)
        assert not any(button.isVisibleTo(ws) for button in ws.buttons.values())
        # Even when the button is bypassed, the database says no, in plain words.
        with qtbot.waitSignal(ws.action_failed, timeout=TIMEOUT_MS) as failed:
            ws.act_suspend()
        assert failed.args[1].startswith("You do not have permission")
        assert "permission" in ws.message.text()
        writes = (
            lambda s: actions.set_suspended(s, site.customer_id, True),
            lambda s: actions.take_payment(s, site.customer_id, {"amount": "10", "method": "CASH"}),
            lambda s: actions.disconnect_now(s, site.customer_id),
            lambda s: actions.top_up_wallet(s, site.customer_id, {"amount": "5", "reason": "x y"}),
        )
        # Straight through the services too (an unguarded login: this test is the GUI thread).
        direct = staff_engine(site.url, site.staff["VIEWER"])
        try:
            for write in writes:
                with pytest.raises(PermissionDenied), session_scope(sessionmaker(direct)) as s:
                    write(s)
        finally:
            direct.dispose()
        cid = str(site.customer_id)
        assert db_value(site, "SELECT status FROM customers WHERE id = :c", c=cid) == "ACTIVE"
        assert db_value(site, "SELECT count(*) FROM service_commands") == 0
        assert db_value(site, "SELECT count(*) FROM payments") == 0
    finally:
        workers.wait(10_000)
        engine.dispose()


def test_customer_care_may_reveal_but_not_top_up(
    qtbot: QtBot, site: Site, workers: WorkerPool
) -> None:
    engine, sessions = login(site, "CUSTOMER_CARE")
    try:
        ws = open_workspace(qtbot, sessions, workers, site)
        assert ws.buttons["reveal"].isVisibleTo(ws)
        assert ws.buttons["payment"].isVisibleTo(ws)
        assert not ws.buttons["top_up"].isVisibleTo(ws)
        # No audit.read: the audit tab is not offered at all.
        assert "audit" not in ws.data.tabs  # type: ignore[union-attr]
    finally:
        workers.wait(10_000)
        engine.dispose()


def test_the_commands_tab_shows_each_step_the_site_service_took(
    qtbot: QtBot, site: Site, workers: WorkerPool
) -> None:
    # What the command worker writes (radius_service/commands/worker.py): a disconnect that
    # the router NAKed, was retried, and was confirmed by its Accounting-Stop.
    steps = [
        {"at": "2026-12-06T09:00:00.000+00:00", "attempt": 1, "step": "sent",
         "detail": "router-1: Disconnect-Request for sess-1"},
        {"at": "2026-12-06T09:00:00.200+00:00", "attempt": 1, "step": "nak",
         "detail": "router-1: NAK (Session-Context-Not-Found)"},
        {"at": "2026-12-06T09:00:05.000+00:00", "attempt": 2, "step": "confirmed",
         "detail": "router-1: Accounting-Stop arrived"},
    ]  # fmt: skip
    engine = make_engine(site.url)
    try:
        with engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO service_commands (tenant_id, kind, status, customer_id, nas_id,"
                    " attempts, result, steps) VALUES (:t, 'DISCONNECT', 'DONE', :c, :n, 2,"
                    " 'disconnected 1 session(s)', CAST(:s AS jsonb))"
                ),
                {"t": site.tenant_id, "c": site.customer_id, "n": site.nas_id,
                 "s": json.dumps(steps)},
            )  # fmt: skip
    finally:
        engine.dispose()
    # Customer care reads the history through its own role (the steps column is granted).
    staff_db, sessions = login(site, "CUSTOMER_CARE")
    try:
        ws = open_workspace(qtbot, sessions, workers, site)
        model = ws.models["commands"]
        assert model.rowCount() == 1
        titles = [model.headerData(n, Qt.Orientation.Horizontal) for n in range(4, 6)]
        assert titles == ["Result", "Steps"]
        assert model.index(0, 5).data() == "sent → nak → confirmed"
        assert model.index(0, 5).data(Qt.ItemDataRole.ToolTipRole) == (
            "12:00:00  #1 sent: router-1: Disconnect-Request for sess-1\n"
            "12:00:00  #1 nak: router-1: NAK (Session-Context-Not-Found)\n"
            "12:00:05  #2 confirmed: router-1: Accounting-Stop arrived"
        )
        assert model.index(0, 4).data(Qt.ItemDataRole.ToolTipRole) is None
    finally:
        staff_db.dispose()
