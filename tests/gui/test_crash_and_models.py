"""The crash hook (bugs logged and shown with details, known errors shown plainly) and the
workspace's table model under QAbstractItemModelTester."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings
from PySide6.QtTest import QAbstractItemModelTester
from pytestqt.qtbot import QtBot

from easyisp_core.errors import ValidationFailed
from easyisp_core.services.customer_workspace import LedgerEntry, SessionLine
from easyisp_desktop.crash import crash_log_path, install_crash_hook
from easyisp_desktop.framework.display_zone import DEFAULT_ZONE, set_display_zone
from easyisp_desktop.main_window import MainWindow
from easyisp_desktop.views import customers
from easyisp_desktop.views import formatting as views_formatting
from easyisp_desktop.workspace import formatting as workspace_formatting
from easyisp_desktop.workspace import tabs
from easyisp_desktop.workspace.formatting import byte_count, duration, kes, time_left
from easyisp_desktop.workspace.history_model import HistoryModel

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


def _raise(exc: BaseException) -> tuple[type[BaseException], BaseException, object]:
    try:
        raise exc
    except BaseException as caught:
        return type(caught), caught, caught.__traceback__


@pytest.mark.expected_log("unexpected error in the console")
def test_an_unexpected_exception_is_logged_to_the_data_dir_and_shown_with_details(
    tmp_path: Path,
) -> None:
    shown: list[tuple[str, str, str]] = []
    hook = install_crash_hook(tmp_path, lambda *args: shown.append(args))
    try:
        assert sys.excepthook is hook
        hook(*_raise(ZeroDivisionError("division by zero in a slot")))  # type: ignore[arg-type]
    finally:
        hook.uninstall()
    log = crash_log_path(tmp_path).read_text(encoding="utf-8")
    assert "ZeroDivisionError: division by zero in a slot" in log
    assert "Traceback" in log
    (_title, message, details) = shown[0]
    assert "did not expect" in message
    assert str(crash_log_path(tmp_path)) in message
    assert "ZeroDivisionError" in details
    assert sys.excepthook is not hook


def test_an_expected_failure_gets_a_plain_message_and_no_log(tmp_path: Path) -> None:
    shown: list[tuple[str, str, str]] = []
    hook = install_crash_hook(tmp_path, lambda *args: shown.append(args))
    try:
        hook(*_raise(ValidationFailed({"amount": "must be positive"})))  # type: ignore[arg-type]
    finally:
        hook.uninstall()
    assert shown == [("EasyISP", "Invalid input — amount: must be positive", "")]
    assert crash_log_path(tmp_path).read_text(encoding="utf-8") == ""


def test_the_history_model_passes_the_qt_model_tester(qtbot: QtBot) -> None:
    model = HistoryModel(tabs.LEDGER)
    tester = QAbstractItemModelTester(model, QAbstractItemModelTester.FailureReportingMode.Fatal)
    rows = [
        LedgerEntry(i, NOW, "TOPUP", Decimal("100.00") * i, Decimal("100.00") * i, None)
        for i in range(1, 6)
    ]
    model.set_rows(rows)
    assert model.rowCount() == 5
    assert model.index(4, 2).data() == "KES 500.00"
    model.set_rows([])
    sessions = HistoryModel(tabs.SESSIONS)
    QAbstractItemModelTester(sessions, QAbstractItemModelTester.FailureReportingMode.Fatal)
    sessions.set_rows([SessionLine(1, NOW, None, "10.0.0.2", 1536, 3 * 1024**3, 90061, None)])
    assert [sessions.index(0, c).data() for c in range(6)] == [
        "2026-11-25 15:00", "online", "10.0.0.2", "1.5 KB", "3.0 GB", "1d 1h 1m",
    ]  # fmt: skip
    del tester


def test_money_bytes_and_time_read_the_way_the_front_desk_says_them() -> None:
    assert kes(Decimal("1234567.5")) == "KES 1,234,567.50"
    assert kes(Decimal("-20")) == "-KES 20.00"
    assert byte_count(999) == "999 B"
    assert duration(59) == "0m 59s"
    assert time_left(None, NOW) == "no expiry set"
    assert time_left(datetime(2026, 11, 27, 15, 0, tzinfo=UTC), NOW) == "2 days 3 h left"
    assert time_left(datetime(2026, 11, 25, 11, 30, tzinfo=UTC), NOW) == "expired 30 min ago"


def test_every_view_writes_times_in_the_sites_zone(qtbot: QtBot, tmp_path: Path) -> None:
    """The Customers list, the other lists, the workspace and receipts agree on a time, in the
    site's zone (not the PC's or the database session's: those are often UTC)."""
    late_evening_utc = datetime(2026, 11, 25, 21, 30, tzinfo=UTC)
    writers = (customers.format_date, views_formatting.moment, workspace_formatting.moment)
    assert {write(late_evening_utc) for write in writers} == {"2026-11-26 00:30"}
    try:
        window = MainWindow(
            lambda *, progress: None,  # type: ignore[arg-type,return-value]  # never started
            timezone="Asia/Tokyo",
            settings=QSettings(str(tmp_path / "tz.ini"), QSettings.Format.IniFormat),
        )
        qtbot.addWidget(window)
        assert {write(late_evening_utc) for write in writers} == {"2026-11-26 06:30"}
    finally:
        set_display_zone(DEFAULT_ZONE)
    assert customers.format_date(None) == ""
