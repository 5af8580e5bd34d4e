"""The console's first slice with real widgets over a real database, the GUI-thread guard on."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from functools import partial
from pathlib import Path

import pytest
import shiboken6
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QDialog
from pytestqt.qtbot import QtBot
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import sessionmaker

from easyisp_core.crypto import SecretBox
from easyisp_core.db.engine import Database, make_engine, session_scope
from easyisp_core.db.revision import upgrade
from easyisp_core.models import Nas, Payment
from easyisp_core.models.enums import NasStatus, PaymentMethod, PaymentStatus
from easyisp_core.repositories.heartbeats import HeartbeatRepository
from easyisp_core.settings import Settings
from easyisp_desktop.app import Preparer, connect_database, demo_preparer
from easyisp_desktop.framework.gui_thread_guard import GUARD_ENV, install_guard
from easyisp_desktop.framework.worker import Worker, WorkerPool
from easyisp_desktop.main_window import MainWindow, ProgressFn
from tests.factories import make_customer, make_nas, make_tenant

LOAD_TIMEOUT_MS = 30_000


@pytest.fixture(autouse=True)
def _guard_on(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(GUARD_ENV, "1")


OpenConsole = Callable[..., MainWindow]


@pytest.fixture
def open_console(qtbot: QtBot, tmp_path: Path) -> Iterator[OpenConsole]:
    windows: list[MainWindow] = []
    settings_file = str(tmp_path / "console.ini")

    def open_window(database_url: str, prepare: Preparer | None = None) -> MainWindow:
        settings = Settings(database_url=database_url, data_dir=tmp_path / "data")
        window = MainWindow(
            partial(connect_database, settings, prepare),
            settings=QSettings(settings_file, QSettings.Format.IniFormat),
        )
        qtbot.addWidget(window)
        window.show()
        windows.append(window)
        return window

    yield open_window
    for window in windows:
        assert window.shutdown()
        if window.database is not None:
            window.database.close()


def seed_site(database_url: str, box: SecretBox) -> None:
    engine = make_engine(database_url, application_name="easyisp-tests")
    now = datetime.now(UTC)
    try:
        with session_scope(sessionmaker(engine)) as session:
            tenant = make_tenant(session)
            make_tenant(session)
            payer, *_ = [make_customer(session, box, tenant) for _ in range(3)]
            make_customer(session, box, tenant, status="SUSPENDED")
            statuses = [NasStatus.ONLINE, NasStatus.ONLINE, NasStatus.OFFLINE]
            for status in statuses:
                nas = session.get(Nas, make_nas(session, box, tenant).id)
                assert nas is not None
                nas.status = status

            def pay(amount: str, ref: str, paid_at: datetime | None, status: PaymentStatus) -> None:
                session.add(
                    Payment(
                        tenant_id=tenant.id,
                        customer_id=payer.id,
                        amount=Decimal(amount),
                        method=PaymentMethod.MPESA,
                        status=status,
                        transaction_id=ref,
                        paid_at=paid_at,
                    )
                )

            pay("1500.50", "TGUI0001", now, PaymentStatus.COMPLETED)
            pay("250.25", "TGUI0002", now, PaymentStatus.COMPLETED)
            pay("999.00", "TGUI0003", now - timedelta(days=2), PaymentStatus.COMPLETED)
            pay("100.00", "TGUI0004", None, PaymentStatus.PENDING)
            HeartbeatRepository(session).upsert(
                instance="test:1", hostname="test", version="0", pid=1, started_at=now, counters={}
            )
    finally:
        engine.dispose()


def test_the_dashboard_shows_the_site_figures_loaded_off_the_gui_thread(
    qtbot: QtBot,
    open_console: OpenConsole,
    fresh_db_url: str,
    secret_box: SecretBox,
) -> None:
    seed_site(fresh_db_url, secret_box)
    window = open_console(fresh_db_url)

    with qtbot.waitSignal(window.dashboard.overview_shown, timeout=LOAD_TIMEOUT_MS):
        window.start()
        assert window.dashboard.state == "waiting"

    page = window.dashboard
    assert page.state == "figures"
    # The database administrator sees every part, across every tenant.
    assert page.value_text("active") == "3"
    assert page.value_text("expired") == "0"
    assert page.value_text("suspended") == "1"
    assert page.value_text("routers") == "2 online · 1 offline · 0 pending"
    assert page.value_text("revenue_today") == "1,750.75"
    assert page.view.tiles["revenue_today"].detail == "2 payments"
    assert page.value_text("service") == "Site service running"
    assert page.overview is not None
    assert page.overview.revenue is not None
    assert page.overview.revenue.today == Decimal("1750.75")
    assert window.service_label.text() == "Site service: running"
    assert f"Database: {make_url(fresh_db_url).database}@" in window.database_label.text()

    # The figures above came through the guarded engine: on this (GUI) thread it refuses.
    assert window.database is not None
    with pytest.raises(RuntimeError, match="GUI thread"), window.database.sessions() as session:
        session.execute(text("SELECT 1"))


def test_an_unmigrated_database_shows_the_fix_and_retry_connects_once_fixed(
    qtbot: QtBot, open_console: OpenConsole, empty_db_url: str
) -> None:
    window = open_console(empty_db_url)

    with qtbot.waitSignal(window.dashboard.error_shown, timeout=LOAD_TIMEOUT_MS) as shown:
        window.start()

    assert "easyisp db upgrade" in shown.args[0]
    assert window.dashboard.state == "error"
    assert "easyisp db upgrade" in window.dashboard.error_message
    assert window.dashboard.retry_button.isVisible()
    assert window.database is None

    engine = make_engine(empty_db_url, application_name="easyisp-tests")
    try:
        upgrade(engine)
    finally:
        engine.dispose()
    with qtbot.waitSignal(window.dashboard.overview_shown, timeout=LOAD_TIMEOUT_MS):
        window.dashboard.retry_button.click()
    assert window.dashboard.value_text("active") == "0"
    assert window.dashboard.value_text("service") == "Site service NOT running"


def test_demo_mode_fills_an_empty_site_once(
    qtbot: QtBot, open_console: OpenConsole, fresh_db_url: str, secret_box: SecretBox
) -> None:
    lines: list[str] = []
    demo = demo_preparer(secret_box)

    def prepare(database: Database, progress: ProgressFn) -> None:
        def record(line: str) -> None:
            lines.append(line)
            progress(line)

        demo(database, record)

    first = open_console(fresh_db_url, prepare)
    with qtbot.waitSignal(first.dashboard.overview_shown, timeout=120_000) as shown:
        first.start()
    assert shown.args[0].customers.total > 0
    assert any(line.startswith("Loading the demo") for line in lines)

    # The site has tenants now: a second --demo start loads nothing (and does not fail).
    lines.clear()
    second = open_console(fresh_db_url, prepare)
    with qtbot.waitSignal(second.dashboard.overview_shown, timeout=LOAD_TIMEOUT_MS) as again:
        second.start()
    assert again.args[0].customers.total == shown.args[0].customers.total
    assert lines == []


def test_an_unreachable_database_shows_a_plain_message_with_retry(
    qtbot: QtBot, open_console: OpenConsole
) -> None:
    # Port 1 on the loopback: refused at once, no timeout to wait out.
    window = open_console("postgresql://postgres@127.0.0.1:1/easyisp")

    with qtbot.waitSignal(window.dashboard.error_shown, timeout=LOAD_TIMEOUT_MS) as shown:
        window.start()

    assert shown.args[0].startswith("Cannot reach the database easyisp@127.0.0.1:1")
    assert window.dashboard.retry_button.isVisible()
    assert window.database_label.text() == "Database: not connected"


def test_the_window_remembers_its_size(
    qtbot: QtBot, open_console: OpenConsole, db_url: str
) -> None:
    first = open_console(db_url)
    first.resize(700, 500)
    first.close()

    second = open_console(db_url)

    assert (second.width(), second.height()) == (700, 500)


def test_a_worker_reports_an_exception_through_its_error_signal(qtbot: QtBot) -> None:
    pool = WorkerPool()
    worker = Worker(lambda: 1 / 0)
    results: list[object] = []
    worker.signals.result.connect(results.append)

    with (
        qtbot.waitSignal(worker.signals.finished, timeout=5000),
        qtbot.waitSignal(worker.signals.error, timeout=5000) as failed,
    ):
        pool.start(worker)

    assert isinstance(failed.args[0], ZeroDivisionError)
    assert results == []
    assert pool.wait(5000)


def test_a_pool_destroyed_while_its_worker_runs_waits_for_it_quietly(qtbot: QtBot) -> None:
    """Closing a window destroys its pool while a worker may still run: the pool waits,
    and the worker's last report to it is dropped without an error."""
    pool = WorkerPool()
    started, release = threading.Event(), threading.Event()

    def work() -> str:
        started.set()
        release.wait(5)
        return "late"

    pool.start(Worker(work))
    assert started.wait(5)
    threading.Timer(0.2, release.set).start()
    del pool  # the window's pool goes away; its thread pool waits for the worker

    qtbot.wait(50)  # no "Signal source has been deleted" reaches the event loop


def test_a_worker_reports_progress_and_its_result_from_another_thread(qtbot: QtBot) -> None:
    pool = WorkerPool()
    progress: list[tuple[int, str]] = []

    def work(worker: Worker) -> str:
        worker.report_progress(50, "half way")
        worker.report_progress(100, "done")
        return threading.current_thread().name

    worker = Worker.controlled(work)
    worker.signals.progress.connect(lambda done, message: progress.append((done, message)))
    with qtbot.waitSignal(worker.signals.result, timeout=5000) as finished:
        pool.start(worker)

    assert finished.args[0] != threading.main_thread().name
    qtbot.waitUntil(lambda: len(progress) == 2)
    assert progress == [(50, "half way"), (100, "done")]
    assert pool.wait(5000)


def test_a_cancelled_worker_reports_no_result(qtbot: QtBot) -> None:
    pool = WorkerPool()
    started = threading.Event()

    def work(worker: Worker) -> str:
        started.set()
        while not worker.is_cancelled():
            threading.Event().wait(0.01)
        worker.raise_if_cancelled()
        return "too late"

    worker = Worker.controlled(work)
    results: list[object] = []
    worker.signals.result.connect(results.append)
    with qtbot.waitSignal(worker.signals.finished, timeout=5000):
        pool.start(worker)
        assert started.wait(5)
        pool.cancel_all()

    assert results == []
    assert pool.wait(5000)


def test_the_guard_refuses_queries_on_the_gui_thread_but_not_in_a_worker(
    qtbot: QtBot, db_url: str
) -> None:
    engine = make_engine(db_url, application_name="easyisp-tests")
    try:
        assert install_guard(engine, force=True)
        with pytest.raises(RuntimeError, match="GUI thread"), engine.connect() as conn:
            conn.execute(text("SELECT 1"))

        def query() -> int:
            with engine.connect() as conn:
                return int(conn.execute(text("SELECT 41 + 1")).scalar_one())

        pool = WorkerPool()
        worker = Worker(query)
        with qtbot.waitSignal(worker.signals.result, timeout=10_000) as answered:
            pool.start(worker)
        assert answered.args[0] == 42
        assert pool.wait(5000)
    finally:
        engine.dispose()


def test_a_result_for_a_dialog_closed_meanwhile_is_dropped(qtbot: QtBot) -> None:
    """WorkerPool.run(context=dialog): the form is gone by the time its read returns."""
    pool = WorkerPool()
    dialog = QDialog()
    release = threading.Event()
    shown: list[object] = []
    pool.run(lambda: release.wait(5) and "late", on_result=shown.append, context=dialog)
    shiboken6.delete(dialog)
    release.set()
    assert pool.wait(5000)
    qtbot.wait(50)  # the queued result arrives here
    assert shown == []

    kept = QDialog()
    pool.run(lambda: "now", on_result=shown.append, context=kept)
    qtbot.waitUntil(lambda: shown == ["now"], timeout=5000)
    assert pool.wait(5000)
