"""The generic table model and the Customers page over a real database, GUI-thread guard on."""

from __future__ import annotations

import csv
import gc
import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QSettings, Qt
from PySide6.QtTest import QAbstractItemModelTester
from pytestqt.qtbot import QtBot
from sqlalchemy import Engine, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from easyisp_core.crypto import SecretBox
from easyisp_core.db.engine import make_engine, session_scope
from easyisp_core.repositories.customer_list import search_terms
from easyisp_core.repositories.query_cancel import QueryCanceller
from easyisp_desktop.framework.gui_thread_guard import GUARD_ENV, install_guard
from easyisp_desktop.framework.table_model import OBJECT_ROLE, SORT_ROLE, RecordTableModel
from easyisp_desktop.framework.worker import WorkerPool
from easyisp_desktop.views.customers import COLUMNS, CustomerSource, CustomersPage, format_phone
from tests import pg
from tests.factories import make_customer, make_package, make_tenant

WAIT_MS = 20_000
CUSTOMERS = 250
FIRST = ["Achieng", "Wanjiru", "Kamau", "Otieno", "Njeri", "Mutua", "Akinyi", "Kiptoo"]
LAST = ["Odhiambo", "Mwangi", "Chebet", "Wafula", "Kariuki", "Omondi", "Nyambura"]
SORTS = ["full_name", "username", "account_number", "expires_at", "status", "created_at"]


@pytest.fixture(autouse=True)
def _guard_on(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(GUARD_ENV, "1")


@pytest.fixture(scope="module")
def customers_db(admin_url: str, template_db: str, secret_box: SecretBox) -> Iterator[str]:
    """A private database with CUSTOMERS customers of one tenant (and one of another)."""
    name = pg.create_database(admin_url, "easyisp_test_table", template=template_db)
    url = pg.database_url(admin_url, name)
    engine = make_engine(url, application_name="easyisp-tests")
    try:
        with session_scope(sessionmaker(engine)) as session:
            tenant = make_tenant(session)
            package = make_package(session, tenant, name="Home 10")
            for i in range(CUSTOMERS):
                make_customer(
                    session,
                    secret_box,
                    tenant,
                    full_name=f"{FIRST[i % len(FIRST)]} {LAST[i % len(LAST)]}",
                    phone=f"07{(i * 7919) % 100_000_000:08d}",
                    status="SUSPENDED" if i % 5 == 0 else "ACTIVE",
                    package=package.name if i % 2 else None,
                )
            # Expiry dates with ties and NULLs, to exercise the nullable keyset.
            session.execute(
                text(
                    "UPDATE customers SET expires_at = CASE WHEN random() < 0.3 THEN NULL "
                    "ELSE timestamptz '2026-01-01' + (abs(hashtext(username)) % 20) "
                    "* interval '1 day' END"
                )
            )
        yield url
    finally:
        engine.dispose()
        pg.drop_database(admin_url, name)


@pytest.fixture
def engine(customers_db: str) -> Iterator[Engine]:
    eng = make_engine(customers_db, application_name="easyisp-tests")
    install_guard(eng, force=True)
    yield eng
    eng.dispose()


@pytest.fixture
def sessions(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


@pytest.fixture
def workers(qtbot: QtBot) -> Iterator[WorkerPool]:
    pool = WorkerPool()
    yield pool
    pool.cancel_all()
    assert pool.wait(WAIT_MS)


def db_rows(engine: Engine, query: str, **params: object) -> list[tuple[object, ...]]:
    """Ground truth read off the GUI thread (the guard refuses it on this thread)."""
    result: list[tuple[object, ...]] = []

    def read() -> None:
        with engine.connect() as conn:
            result.extend(tuple(r) for r in conn.execute(text(query), params))

    thread = threading.Thread(target=read)
    thread.start()
    thread.join()
    return result


def load_all(qtbot: QtBot, model: RecordTableModel) -> None:
    with qtbot.waitSignal(model.page_loaded, timeout=WAIT_MS):
        model.refresh()
    while model.canFetchMore(model.index(-1, -1)):
        with qtbot.waitSignal(model.page_loaded, timeout=WAIT_MS):
            model.fetchMore(model.index(-1, -1))


def make_model(
    sessions: sessionmaker[Session], workers: WorkerPool, page_size: int = 40
) -> RecordTableModel:
    return RecordTableModel(
        COLUMNS, CustomerSource(sessions), workers, default_sort="full_name", page_size=page_size
    )


def test_the_model_passes_the_qt_model_tester_while_loading_and_fetching_more(
    qtbot: QtBot, qtlog: Any, sessions: sessionmaker[Session], workers: WorkerPool
) -> None:
    model = make_model(sessions, workers)
    tester = QAbstractItemModelTester(model, QAbstractItemModelTester.FailureReportingMode.Warning)
    load_all(qtbot, model)
    with qtbot.waitSignal(model.page_loaded, timeout=WAIT_MS):
        model.sort(model.column_index("username"), Qt.SortOrder.DescendingOrder)
    model.set_filter_text("wanj")
    qtbot.waitUntil(lambda: model.query.text == "wanj" and not model.loading, timeout=WAIT_MS)
    assert model.rowCount() > 0
    del tester
    assert [m.message for m in qtlog.records if "FAIL" in m.message] == []
    index = model.index(0, model.column_index("full_name"))
    row = model.data(index, OBJECT_ROLE)
    assert model.data(index, SORT_ROLE) == row.full_name
    assert model.data(index) == row.full_name


@pytest.mark.parametrize("sort", SORTS)
@pytest.mark.parametrize("descending", [False, True], ids=["asc", "desc"])
def test_paging_returns_every_customer_once_in_the_chosen_order(
    qtbot: QtBot,
    engine: Engine,
    sessions: sessionmaker[Session],
    workers: WorkerPool,
    sort: str,
    descending: bool,
) -> None:
    model = make_model(sessions, workers, page_size=37)
    columns = [i for i, c in enumerate(COLUMNS) if c.sort_key == sort]
    if columns:
        order = Qt.SortOrder.DescendingOrder if descending else Qt.SortOrder.AscendingOrder
        model.sort(columns[0], order)
    else:  # a sort no column of the page shows is still offered by the source
        model.set_sort(sort, descending=descending)
    load_all(qtbot, model)

    direction = "DESC" if descending else "ASC"
    expected = db_rows(
        engine, f"SELECT id FROM customers ORDER BY {sort} {direction}, id {direction}"
    )
    assert [r.id for r in model.rows] == [r[0] for r in expected]
    assert len(expected) == CUSTOMERS


@pytest.mark.parametrize(
    ("typed", "where"),
    [
        ("njeri", "search LIKE '%njeri%'"),
        ("wanjiru mwangi", "full_name = 'Wanjiru Mwangi'"),
        ("0700 0", "search LIKE '%2547000%'"),
        ("7919", "search LIKE '%7919%'"),
    ],
)
def test_the_filter_finds_by_name_phone_and_account_number(
    qtbot: QtBot,
    engine: Engine,
    sessions: sessionmaker[Session],
    workers: WorkerPool,
    typed: str,
    where: str,
) -> None:
    model = make_model(sessions, workers)
    with qtbot.waitSignal(model.page_loaded, timeout=WAIT_MS):
        model.refresh()
    with qtbot.waitSignal(model.page_loaded, timeout=WAIT_MS):
        model.set_filter_text(typed)
    while model.canFetchMore(model.index(-1, -1)):
        with qtbot.waitSignal(model.page_loaded, timeout=WAIT_MS):
            model.fetchMore(model.index(-1, -1))
    expected = db_rows(engine, f"SELECT id FROM customers WHERE {where} ORDER BY full_name, id")
    assert expected
    assert len(model.rows) == len(expected), (model.query, [r.full_name for r in model.rows][:5])
    got = [(r.full_name, r.id) for r in model.rows]
    assert [r.id for r in model.rows] == [r[0] for r in expected], (got[:6], expected[:6])
    assert model.count is not None
    assert model.count.exact
    assert model.count.value == len(expected)


def test_the_filter_finds_one_account_number(
    qtbot: QtBot, engine: Engine, sessions: sessionmaker[Session], workers: WorkerPool
) -> None:
    [(account, customer_id)] = db_rows(
        engine, "SELECT account_number, id FROM customers ORDER BY account_number DESC LIMIT 1"
    )
    model = make_model(sessions, workers)
    model.set_filter_text(str(account))
    with qtbot.waitSignal(model.page_loaded, timeout=WAIT_MS):
        model.refresh()
    assert [r.id for r in model.rows] == [customer_id]


def test_typing_again_cancels_the_running_query_and_only_the_last_text_counts(
    qtbot: QtBot, sessions: sessionmaker[Session], workers: WorkerPool
) -> None:
    model = make_model(sessions, workers)
    with qtbot.waitSignal(model.page_loaded, timeout=WAIT_MS):
        model.refresh()
    for typed in ["k", "ka", "kam", "kama", "kamau"]:
        model.set_filter_text(typed)
    with qtbot.waitSignal(model.page_loaded, timeout=WAIT_MS):
        pass
    assert model.query.text == "kamau"
    assert model.rows
    assert all("kamau" in r.full_name.lower() for r in model.rows)


def test_a_running_query_is_cancelled_on_the_server(engine: Engine) -> None:
    canceller = QueryCanceller()
    outcome: list[BaseException] = []

    def slow() -> None:
        with Session(engine) as session, canceller.attached(session):
            try:
                session.execute(text("SELECT pg_sleep(20)"))
            except OperationalError as exc:
                outcome.append(exc)

    thread = threading.Thread(target=slow)
    started = time.monotonic()
    thread.start()
    time.sleep(0.5)
    canceller.cancel()
    thread.join(10)
    assert not thread.is_alive()
    assert time.monotonic() - started < 10
    assert outcome
    assert "cancel" in str(outcome[0]).lower()


def test_phone_fragments_are_matched_in_the_stored_form() -> None:
    assert search_terms(" 0712 345 ") == ["254712345"]
    assert search_terms("Wanjiru  KAMAU") == ["wanjiru", "kamau"]
    assert search_terms("ACC-00012") == ["acc-00012"]
    assert search_terms("") == []
    assert format_phone("254712345678") == "0712 345 678"


def test_the_customers_page_exports_every_matching_row_to_csv(
    qtbot: QtBot, tmp_path: Path, engine: Engine, sessions: sessionmaker[Session]
) -> None:
    workers = WorkerPool()
    settings = QSettings(str(tmp_path / "console.ini"), QSettings.Format.IniFormat)
    page = CustomersPage(sessions, workers, settings)
    qtbot.addWidget(page)
    with qtbot.waitSignal(page.model.page_loaded, timeout=WAIT_MS):
        page.show()
    assert page.count_label.text() == f"{CUSTOMERS} customers"
    with qtbot.waitSignal(page.model.page_loaded, timeout=WAIT_MS):
        page.search_box.setText("otieno")
    target = tmp_path / "otieno.csv"
    with qtbot.waitSignal(page.export_finished, timeout=WAIT_MS) as done:
        page.export_to(target)
    expected = db_rows(
        engine,
        "SELECT account_number, full_name, phone FROM customers "
        "WHERE search LIKE '%otieno%' ORDER BY full_name, id",
    )
    assert done.args == [str(target), len(expected)]
    with target.open(encoding="utf-8-sig", newline="") as stream:
        lines = list(csv.reader(stream))
    assert lines[0] == [c.header for c in COLUMNS]
    assert [(line[0], line[1], line[3]) for line in lines[1:]] == [
        (a, n, format_phone(str(p))) for a, n, p in expected
    ]
    assert not (tmp_path / "otieno.csv.part").exists()

    # Column chooser and widths are remembered in QSettings.
    page.set_column_visible(page.model.column_index("username"), False)
    page.table.horizontalHeader().resizeSection(1, 321)
    workers.cancel_all()
    assert workers.wait(WAIT_MS)
    again = CustomersPage(sessions, workers, settings)
    qtbot.addWidget(again)
    header = again.table.horizontalHeader()
    assert header.isSectionHidden(again.model.column_index("username"))
    assert header.sectionSize(1) == 321
    assert workers.wait(WAIT_MS)


def test_the_main_window_adds_the_customers_page_once_connected(
    qtbot: QtBot, tmp_path: Path, customers_db: str
) -> None:
    from functools import partial

    from easyisp_core.settings import Settings
    from easyisp_desktop.app import connect_database
    from easyisp_desktop.main_window import MainWindow

    settings = Settings(database_url=customers_db, data_dir=tmp_path / "data")
    window = MainWindow(
        partial(connect_database, settings, None),
        settings=QSettings(str(tmp_path / "console.ini"), QSettings.Format.IniFormat),
    )
    qtbot.addWidget(window)
    window.show()
    try:
        with qtbot.waitSignal(window.dashboard.overview_shown, timeout=WAIT_MS):
            window.start()
        # Who is logged in (which decides the pages) loads beside the overview, in any order.
        qtbot.waitUntil(lambda: window.customers is not None, timeout=WAIT_MS)
        assert window.customers is not None
        titles = [window.navigation.item(i).text() for i in range(window.navigation.count())]
        assert titles[:2] == ["Dashboard", "Customers"]  # then the other entity pages
        with qtbot.waitSignal(window.customers.model.page_loaded, timeout=WAIT_MS):
            window.navigation.setCurrentRow(1)
        assert window.customers.count_label.text() == f"{CUSTOMERS} customers"
    finally:
        assert window.shutdown()
        if window.database is not None:
            window.database.close()


def test_each_cell_is_formatted_once_however_often_it_is_painted(
    qtbot: QtBot, sessions: sessionmaker[Session], workers: WorkerPool
) -> None:
    """Formatting in data() ran on every repaint of every cell (GUI-thread time while a big
    table scrolls); a row's cells are now formatted once, and again only for new rows."""
    calls: list[str] = []

    def phone(value: Any) -> str:
        calls.append(value)
        return format_phone(value)

    columns = [replace(c, formatter=phone) if c.key == "phone" else c for c in COLUMNS]
    model = RecordTableModel(
        columns, CustomerSource(sessions), workers, default_sort="full_name", page_size=40
    )
    column = model.column_index("phone")
    with qtbot.waitSignal(model.page_loaded, timeout=WAIT_MS):
        model.refresh()
    for _paint in range(3):
        for row in range(model.rowCount()):
            for role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
                model.data(model.index(row, column), role)
    assert len(calls) == model.rowCount() == 40
    shown = [model.data(model.index(r, column)) for r in range(model.rowCount())]
    assert shown == [format_phone(row.phone) for row in model.rows]
    assert model.data(model.index(0, column), Qt.ItemDataRole.ToolTipRole) is None

    # A new order replaces the rows: their cells are formatted afresh, not taken from before.
    with qtbot.waitSignal(model.page_loaded, timeout=WAIT_MS):
        model.sort(model.column_index("full_name"), Qt.SortOrder.DescendingOrder)
    shown = [model.data(model.index(r, column)) for r in range(model.rowCount())]
    assert shown == [format_phone(row.phone) for row in model.rows]
    assert len(calls) == 80


def test_scrolling_far_holds_at_most_max_rows_and_reads_dropped_pages_again_by_keyset(
    qtbot: QtBot,
    qtlog: Any,
    engine: Engine,
    sessions: sessionmaker[Session],
    workers: WorkerPool,
) -> None:
    """Every row scrolled into a big table stayed in memory (~1.2 KB a row, 1 GB at 800,000
    customers). Far pages are dropped; painted again, they are read again from their anchor."""
    model = RecordTableModel(
        COLUMNS,
        CustomerSource(sessions),
        workers,
        default_sort="full_name",
        page_size=10,
        max_rows=30,
    )
    tester = QAbstractItemModelTester(model, QAbstractItemModelTester.FailureReportingMode.Warning)
    column = model.column_index("full_name")
    gc_frozen = gc.get_freeze_count()
    with qtbot.waitSignal(model.page_loaded, timeout=WAIT_MS):
        model.refresh()
    # (The model tester fetches more by itself too.)
    while model.loading or model.canFetchMore(model.index(-1, -1)):
        with qtbot.waitSignal(model.page_loaded, timeout=WAIT_MS):
            model.fetchMore(model.index(-1, -1))
    expected = [r[0] for r in db_rows(engine, "SELECT id FROM customers ORDER BY full_name, id")]
    assert model.rowCount() == CUSTOMERS
    assert model.held_rows == 30
    assert [r.id for r in model.rows[-30:]] == expected[-30:]
    assert model.rows[0] is None
    assert gc.get_freeze_count() == gc_frozen  # nothing frozen process-wide any more

    # Scrolling back to the top: a painted row of a dropped page shows nothing until its page
    # is read again, then the view is told (dataChanged) and shows the same rows as before.
    assert model.data(model.index(0, column)) is None
    with qtbot.waitSignal(model.dataChanged, timeout=WAIT_MS) as changed:
        pass
    first, last = changed.args[:2]
    assert (first.row(), last.row()) == (0, 9)
    assert model.row_object(0).id == expected[0]
    # Every page, visited from the top down as a scroll would, comes back in order.
    seen = []
    for row in range(CUSTOMERS):
        if model.data(model.index(row, column)) is None:
            with qtbot.waitSignal(model.dataChanged, timeout=WAIT_MS):
                pass
        seen.append(model.row_object(row).id)
        assert model.held_rows <= 30
    assert seen == expected
    del tester
    assert [m.message for m in qtlog.records if "FAIL" in m.message] == []
