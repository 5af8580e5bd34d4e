"""The dashboard and the grouped navigation in the real main window over staff logins.

The figures come from one service call in a worker (the GUI-thread guard is on) and are
checked against the rows themselves, read back by the superuser; a login without
payments.read sees no money at all; a payment committed by another connection shows up
without Refresh (LISTEN/NOTIFY); the expiring list opens a customer's workspace.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from PySide6.QtCore import QSettings, Qt
from PySide6.QtGui import QFontMetrics
from PySide6.QtTest import QAbstractItemModelTester
from pytestqt.qtbot import QtBot
from sqlalchemy import text
from sqlalchemy.orm import sessionmaker

from easyisp_core.db.engine import Database, make_engine, session_scope
from easyisp_core.services.dashboard import DashboardFigures
from easyisp_core.services.payments import record_payment
from easyisp_desktop.framework.gui_thread_guard import GUARD_ENV
from easyisp_desktop.framework.navigation import INDENT
from easyisp_desktop.main_window import MainWindow
from easyisp_desktop.views import dashboard as dashboard_view
from easyisp_desktop.views.dashboard import DashboardPage
from tests.factories import make_customer, make_nas
from tests.gui.pages_support import (
    WAIT_MS,
    Site,
    engines_disposed,
    site,
)

__all__ = ["engines_disposed", "site"]

NAIROBI = ZoneInfo("Africa/Nairobi")
PROBLEM = "unreachable: API timed out after 10 s"


@pytest.fixture(autouse=True)
def _guard_on(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(GUARD_ENV, "1")


@pytest.fixture(scope="module")
def dash_site(site: Site) -> Site:
    """The pages' site plus what the dashboard counts: customers expiring soon, expired and
    suspended ones, an offline router, older and refunded payments, M-Pesa items waiting,
    and another tenant's payment today (which no one here may count)."""
    engine = make_engine(site.url, application_name="easyisp-tests")
    now = datetime.now(UTC)
    try:
        with session_scope(sessionmaker(engine, expire_on_commit=False)) as session:
            tenant = SimpleNamespace(name=site.tenant)
            names = ("Otieno Soon", "Akinyi Later", "Kamau Lapsed", "Mutua Held", "Njeri Gone")
            ids = {
                name: make_customer(session, site.box, tenant, full_name=name).id  # type: ignore[arg-type]
                for name in names
            }  # fmt: skip
            for name, status, expires in (
                ("Otieno Soon", "ACTIVE", now + timedelta(hours=2)),
                ("Akinyi Later", "ACTIVE", now + timedelta(hours=20)),
                ("Kamau Lapsed", "ACTIVE", now - timedelta(hours=1)),  # not swept yet
                ("Mutua Held", "SUSPENDED", now + timedelta(days=3)),
                ("Njeri Gone", "EXPIRED", now - timedelta(days=2)),
            ):
                session.execute(
                    text("UPDATE customers SET status = :s, expires_at = :e WHERE id = :i"),
                    {"s": status, "e": expires, "i": ids[name]},
                )
            router = make_nas(session, site.box, tenant, name="far-router")  # type: ignore[arg-type]
            session.execute(
                text("UPDATE nas SET status = 'OFFLINE', health_error = :p WHERE id = :i"),
                {"p": PROBLEM, "i": router.id},
            )
            tenant_id = session.scalar(
                text("SELECT id FROM tenants WHERE name = :n"), {"n": site.tenant}
            )
            other_id = session.scalar(text("SELECT tenant_id FROM nas WHERE name = 'other-router'"))
            payer = ids["Otieno Soon"]
            other_payer = session.scalar(
                text("SELECT id FROM customers WHERE tenant_id = :t"), {"t": other_id}
            )
            for tenant_of, customer, amount, status, paid_at, ref in (
                (tenant_id, payer, "999.00", "COMPLETED", now - timedelta(days=5), "TDASH1"),
                (tenant_id, payer, "77.00", "REFUNDED", now, "TDASH2"),
                (tenant_id, payer, "55.00", "PENDING", None, "TDASH3"),
                (other_id, other_payer, "4321.00", "COMPLETED", now, "TDASH4"),
            ):
                session.execute(
                    text(
                        "INSERT INTO payments (tenant_id, customer_id, amount, method, status, "
                        "transaction_id, paid_at) VALUES (:t, :c, :a, 'MPESA', :s, :r, :p)"
                    ),
                    {
                        "t": tenant_of,
                        "c": customer,
                        "a": amount,
                        "s": status,
                        "r": ref,
                        "p": paid_at,
                    },
                )
            session.execute(
                text(
                    "INSERT INTO mpesa_suspense (tenant_id, receipt, amount, msisdn, reason) "
                    "VALUES (:t, 'TDSUSP1', 700, '2547****126', 'account names no customer')"
                ),
                {"t": tenant_id},
            )
            session.execute(
                text(
                    "INSERT INTO mpesa_callbacks (tenant_id, kind, external_id, trusted, "
                    "source_address, body, outcome, review_reason) VALUES (:t, "
                    "'C2B_CONFIRMATION', 'TDREVIEW1', true, '196.201.214.200', '{}', 'REVIEW', "
                    "'amount below the package price')"
                ),
                {"t": tenant_id},
            )
        return site
    finally:
        engine.dispose()


@pytest.fixture
def windows() -> Iterator[list[MainWindow]]:
    opened: list[MainWindow] = []
    yield opened
    for window in opened:
        assert window.shutdown()


def open_window(
    qtbot: QtBot, site: Site, role: str, tmp_path: Path, windows: list[MainWindow]
) -> MainWindow:
    engine = site.engine(role)
    database = Database(engine, sessionmaker(engine, expire_on_commit=False))
    window = MainWindow(
        lambda *, progress: database,
        settings=QSettings(str(tmp_path / f"{role}.ini"), QSettings.Format.IniFormat),
        secret_box=site.box,
    )
    windows.append(window)
    qtbot.addWidget(window)
    window.resize(1366, 768)
    window.show()
    with qtbot.waitSignal(window.dashboard.overview_shown, timeout=WAIT_MS):
        window.start()
    qtbot.waitUntil(lambda: window.identity is not None, timeout=WAIT_MS)
    return window


def rows(site: Site, sql: str) -> list[Any]:
    """What is really in the database, read by the superuser for the site's tenant."""
    engine = make_engine(site.url, application_name="easyisp-tests")
    try:
        with engine.connect() as conn:
            return list(conn.execute(text(sql), {"t": site.tenant}))
    finally:
        engine.dispose()


MINE = "tenant_id = (SELECT id FROM tenants WHERE name = :t)"


def expected_revenue(site: Site, today: date) -> tuple[Decimal, int, Decimal, list[Decimal]]:
    completed = f"SELECT amount, paid_at FROM payments WHERE {MINE} AND status = 'COMPLETED'"
    paid = [(r.amount, r.paid_at.astimezone(NAIROBI).date()) for r in rows(site, completed)]
    on = [sum((a for a, d in paid if d == today), Decimal(0))]
    month = sum((a for a, d in paid if (d.year, d.month) == (today.year, today.month)), Decimal(0))
    days = [today - timedelta(days=n) for n in range(13, -1, -1)]
    series = [sum((a for a, d in paid if d == day), Decimal(0)) for day in days]
    return on[0], sum(1 for _a, d in paid if d == today), month, series


def test_the_dashboard_figures_match_the_database_for_an_admin(
    qtbot: QtBot, dash_site: Site, tmp_path: Path, windows: list[MainWindow]
) -> None:
    window = open_window(qtbot, dash_site, "ADMIN", tmp_path, windows)
    page = window.dashboard
    figures = page.overview
    assert isinstance(figures, DashboardFigures)
    assert page.state == "figures"

    now = figures.as_of
    customers = rows(dash_site, f"SELECT full_name, status, expires_at FROM customers WHERE {MINE}")

    def left(c: Any) -> bool:
        return c.expires_at is None or c.expires_at > now

    active = [c for c in customers if c.status == "ACTIVE" and left(c)]
    expired = [
        c for c in customers if c.status == "EXPIRED" or (c.status == "ACTIVE" and not left(c))
    ]
    suspended = [c for c in customers if c.status == "SUSPENDED"]
    day_ahead = now + timedelta(hours=24)
    soon = sorted(
        (c for c in active if c.expires_at is not None and c.expires_at <= day_ahead),
        key=lambda c: c.expires_at,
    )
    assert [c.full_name for c in soon] == ["Otieno Soon", "Akinyi Later"]
    assert page.value_text("active") == str(len(active))
    assert page.value_text("expired") == str(len(expired)) == "2"
    assert page.value_text("suspended") == str(len(suspended)) == "1"
    assert [c.full_name for c in page.view.expiring_customers()] == ["Otieno Soon", "Akinyi Later"]
    assert page.value_text("expiring") == "2 customers:"

    open_sessions = rows(
        dash_site, f"SELECT count(*) FROM sessions WHERE {MINE} AND stopped_at IS NULL"
    )
    assert page.value_text("online_now") == str(open_sessions[0][0]) == "1"

    today, count, month, series = expected_revenue(dash_site, figures.today)
    assert figures.revenue is not None
    assert figures.revenue.today == today == Decimal("1500.00")  # not the refund, not the other ISP
    assert figures.revenue.today_count == count == 1
    assert figures.revenue.month == month
    assert [d.total for d in figures.revenue.days] == series
    assert page.value_text("revenue_today") == f"{today:,.2f}"
    assert page.value_text("revenue_month") == f"{month:,.2f}"
    assert page.view.chart.days == figures.revenue.days

    routers = rows(dash_site, f"SELECT status, count(*) FROM nas WHERE {MINE} GROUP BY status")
    by_status = {r.status: r.count for r in routers}
    assert page.value_text("routers") == (
        f"{by_status.get('ONLINE', 0)} online · {by_status.get('OFFLINE', 0)} offline · "
        f"{by_status.get('PENDING', 0)} pending"
    )
    assert [(r.name, r.problem) for r in page.view.offline_routers()] == [("far-router", PROBLEM)]
    assert page.value_text("mpesa") == "1 payment in suspense · 1 callback for review"
    assert page.value_text("service").startswith("Site service NOT running")
    assert window.service_label.text() == "Site service: NOT running"


def test_a_login_without_payments_read_sees_no_money(
    qtbot: QtBot, dash_site: Site, tmp_path: Path, windows: list[MainWindow]
) -> None:
    window = open_window(qtbot, dash_site, "FIELD_TECH", tmp_path, windows)
    assert window.identity is not None
    assert not window.identity.may("payments.read")
    page = window.dashboard
    figures = page.overview
    assert figures is not None
    assert figures.revenue is None
    assert figures.mpesa is None
    for key in ("revenue_today", "revenue_month", "mpesa"):
        assert page.value_text(key) == "", key
    assert page.view.tiles["revenue_today"].isHidden()
    assert page.view.revenue_panel.isHidden()
    assert page.view.mpesa_panel.isHidden()
    shown = " ".join(
        tile.value + tile.detail for tile in page.view.tiles.values() if tile.isVisible()
    )
    assert "KES" not in shown
    assert "1,500" not in shown
    # What the role may see is still there.
    assert page.value_text("online_now") == "1"
    assert [r.name for r in page.view.offline_routers()] == ["far-router"]


def test_a_new_payment_appears_without_pressing_refresh(
    qtbot: QtBot, dash_site: Site, tmp_path: Path, windows: list[MainWindow]
) -> None:
    window = open_window(qtbot, dash_site, "ADMIN", tmp_path, windows)
    page = window.dashboard
    assert window.live is not None
    assert window.live.listening.wait(WAIT_MS / 1000)
    assert page.overview is not None
    assert page.overview.revenue is not None
    before = page.overview.revenue.today
    # Well under the periodic refresh: only the notification can bring the payment in time.
    assert dashboard_view.REFRESH_INTERVAL_MS > 2 * 10_000

    engine = make_engine(dash_site.url, application_name="easyisp-tests")
    try:
        with session_scope(sessionmaker(engine)) as session:
            record_payment(
                session,
                {"tenant": dash_site.tenant, "customer": dash_site.customer, "amount": "250.50",
                 "method": "CASH"},
            )  # fmt: skip
    finally:
        engine.dispose()

    expected = before + Decimal("250.50")
    qtbot.waitUntil(lambda: page.value_text("revenue_today") == f"{expected:,.2f}", timeout=10_000)
    assert page.overview.revenue.today == expected  # type: ignore[union-attr]


def test_double_click_on_an_expiring_customer_opens_their_workspace(
    qtbot: QtBot, dash_site: Site, tmp_path: Path, windows: list[MainWindow]
) -> None:
    window = open_window(qtbot, dash_site, "ADMIN", tmp_path, windows)
    customers = window.customers
    assert customers is not None
    table = window.dashboard.view.expiring_table
    QAbstractItemModelTester(table.model(), QAbstractItemModelTester.FailureReportingMode.Fatal)
    QAbstractItemModelTester(
        window.dashboard.view.offline_table.model(),
        QAbstractItemModelTester.FailureReportingMode.Fatal,
    )
    center = table.visualRect(table.model().index(0, 0)).center()
    with qtbot.waitSignal(customers.workspace_opened, timeout=WAIT_MS) as opened:
        # As a person does it: the first click presses the row, the second is the double-click.
        qtbot.mouseClick(table.viewport(), Qt.MouseButton.LeftButton, pos=center)
        qtbot.mouseDClick(table.viewport(), Qt.MouseButton.LeftButton, pos=center)
    workspace = opened.args[0]
    qtbot.waitUntil(lambda: workspace.data is not None, timeout=WAIT_MS)
    assert workspace.data.profile.full_name == "Otieno Soon"


def test_the_dashboard_fits_a_1366_by_768_screen(
    qtbot: QtBot, dash_site: Site, tmp_path: Path, windows: list[MainWindow]
) -> None:
    window = open_window(qtbot, dash_site, "ADMIN", tmp_path, windows)
    page = window.dashboard
    qtbot.waitUntil(lambda: page.isVisible())
    assert page.view.scroll_area.verticalScrollBar().maximum() == 0  # nothing below the fold
    for tile in page.view.tiles.values():
        assert tile.width() >= tile.minimumSizeHint().width()


# Navigation -----------------------------------------------------------------------------


def test_the_navigation_groups_pages_under_headers_with_no_gap(
    qtbot: QtBot, dash_site: Site, tmp_path: Path, windows: list[MainWindow]
) -> None:
    window = open_window(qtbot, dash_site, "ADMIN", tmp_path, windows)
    navigation = window.navigation
    assert navigation.sections() == [
        ("Front desk", ["Dashboard", "Customers", "Packages", "Vouchers", "Payments",
                        "M-Pesa suspense", "Payment review", "Invoices"]),
        ("Network", ["Routers", "Sessions", "VPN peers"]),
        ("Accounts", ["Expenses", "Chart of accounts"]),
        ("Administration", ["Staff", "Payment gateways", "SMS gateways", "SMS log", "Audit log",
                            "Settings"]),
    ]  # fmt: skip
    # The list is as wide as its pane (no blank gap beside it), every title fits, and the
    # rows are comfortable to click.
    assert navigation.width() == window._splitter.sizes()[0]
    metrics = QFontMetrics(navigation.font())
    for row in range(navigation.count()):
        item = navigation.item(row)
        assert metrics.horizontalAdvance(item.text()) + INDENT < navigation.viewport().width()
        body = navigation.visualItemRect(item).height() - navigation.header_height(row)
        assert body >= metrics.height() + 10


def test_navigation_headers_cannot_be_selected_and_arrow_keys_skip_them(
    qtbot: QtBot, dash_site: Site, tmp_path: Path, windows: list[MainWindow]
) -> None:
    window = open_window(qtbot, dash_site, "ADMIN", tmp_path, windows)
    navigation = window.navigation
    titles = window.page_titles()
    assert "Network" not in titles  # headers are not pages
    assert "Front desk" not in titles
    routers = titles.index("Routers")
    invoices = titles.index("Invoices")

    # A click on the "Network" header selects nothing; a click on the row below it does.
    navigation.setCurrentRow(0)
    header = navigation.header_rect(routers)
    assert header.height() > 0
    qtbot.mouseClick(navigation.viewport(), Qt.MouseButton.LeftButton, pos=header.center())
    assert navigation.currentRow() == 0
    assert window.pages.currentWidget() is window.dashboard
    below = navigation.visualItemRect(navigation.item(routers)).bottomLeft()
    below.setX(below.x() + 30)
    below.setY(below.y() - 4)
    qtbot.mouseClick(navigation.viewport(), Qt.MouseButton.LeftButton, pos=below)
    assert navigation.currentItem().text() == "Routers"

    # Down from the last front-desk page lands on the first network page, and back up.
    navigation.setFocus()
    navigation.setCurrentRow(invoices)
    qtbot.keyClick(navigation, Qt.Key.Key_Down)
    assert navigation.currentItem().text() == "Routers"
    assert window.pages.currentWidget() is window.page_by_title["Routers"]
    qtbot.keyClick(navigation, Qt.Key.Key_Up)
    assert navigation.currentItem().text() == "Invoices"
    qtbot.keyClick(navigation, Qt.Key.Key_Home)
    assert window.pages.currentWidget() is window.dashboard
    assert isinstance(window.show_page("Sessions"), type(window.page_by_title["Sessions"]))
    assert navigation.currentItem().text() == "Sessions"
    assert isinstance(window.dashboard, DashboardPage)


def test_the_chart_axis_uses_round_steps_and_short_amounts() -> None:
    from easyisp_desktop.views.dashboard_widgets import axis_step, compact_kes, steps_to_reach

    # The tallest bar always fits under the top gridline.
    assert steps_to_reach(Decimal("14000"), Decimal("5000")) == 3
    assert steps_to_reach(Decimal("15000"), Decimal("5000")) == 3
    assert steps_to_reach(Decimal("0.5"), Decimal("1")) == 1

    assert axis_step(Decimal("31000")) == Decimal("10000")
    assert axis_step(Decimal("18570")) == Decimal("5000")
    assert axis_step(Decimal("3")) == Decimal("1")
    assert [compact_kes(Decimal(n)) for n in (950, 12_500, 20_000, 1_250_000)] == [
        "950", "12.5k", "20k", "1.2M"
    ]  # fmt: skip


def test_the_dashboards_links_open_the_pages_they_name(
    qtbot: QtBot, dash_site: Site, tmp_path: Path, windows: list[MainWindow]
) -> None:
    window = open_window(qtbot, dash_site, "ADMIN", tmp_path, windows)
    view = window.dashboard.view
    assert 'href="M-Pesa suspense"' in view.mpesa_text.text()
    assert 'href="Payment review"' in view.mpesa_text.text()
    # What QLabel emits when the link is clicked or chosen with Tab and Enter.
    view.mpesa_text.linkActivated.emit("M-Pesa suspense")
    assert window.pages.currentWidget() is window.page_by_title["M-Pesa suspense"]
    view.routers_summary.linkActivated.emit("Routers")
    assert window.navigation.currentItem().text() == "Routers"
    # Activating an offline router (double-click or Enter) opens the Routers page too.
    window.show_page("Dashboard")
    view.offline_table.setCurrentIndex(view.offline_model.index(0, 0))
    view.offline_table.activated.emit(view.offline_model.index(0, 0))
    assert window.navigation.currentItem().text() == "Routers"
