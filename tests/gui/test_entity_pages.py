"""Every entity page, for every staff role, in the real main window over the role's own login.

Each role sees exactly the pages its permissions allow, each page loads its rows off the GUI
thread (the guard is on), each model passes QAbstractItemModelTester, and the actions shown
are exactly the ones the role may take. A VIEWER gets no edit actions, and the database
refuses the write anyway.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from functools import partial
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings
from PySide6.QtTest import QAbstractItemModelTester
from pytestqt.qtbot import QtBot
from sqlalchemy.orm import Session, sessionmaker

from easyisp_core.db.engine import Database, session_scope
from easyisp_core.errors import PermissionDenied
from easyisp_core.models.enums import StaffRole
from easyisp_core.repositories.customer_list import (
    CustomerListQuery,
    CustomerListRepository,
    RowCount,
)
from easyisp_core.repositories.packages import PackageRepository
from easyisp_core.rules.permissions import ROLE_DEFAULTS
from easyisp_core.services.identity import current_identity
from easyisp_core.services.packages import create_package, delete_package, update_package
from easyisp_core.services.payments import record_payment
from easyisp_core.services.tenants import update_config
from easyisp_desktop.framework.entity_page import EntityPage
from easyisp_desktop.framework.gui_thread_guard import GUARD_ENV
from easyisp_desktop.framework.table_page import TablePage
from easyisp_desktop.main_window import MainWindow
from easyisp_desktop.views.registry import PAGES
from easyisp_desktop.views.settings import SettingsPage
from tests.gui.pages_support import (
    ROLES,
    WAIT_MS,
    Site,
    engines_disposed,
    site,
)

__all__ = ["engines_disposed", "site"]

# The write actions each page offers, and the permission each one needs.
ACTIONS = {
    "Packages": {"new": "packages.write", "edit": "packages.write", "delete": "packages.write"},
    "Vouchers": {"new": "vouchers.write", "void": "vouchers.write", "void_batch": "vouchers.write"},
    "Payments": {"new": "payments.create"},
    "M-Pesa suspense": {"assign": "payments.create", "reconcile": "payments.create"},
    "Payment review": {"edit": "payments.read", "close": "payments.create"},
    "Routers": {
        "new": "nas.write",
        "edit": "nas.write",
        "delete": "nas.write",
        "script": "nas.secrets.read",
        # Queued for the site service: also needs sessions.disconnect, which every role
        # with nas.write has.
        "test": "nas.write",
        "sync": "nas.write",
        "vpn_on": "vpn.write",
        "vpn_off": "vpn.write",
    },
    "Sessions": {},
    "Staff": dict.fromkeys(
        ("new", "edit", "permissions", "suspend", "reactivate", "password", "delete"),
        "staff.manage",
    ),
    "Audit log": {},
    "Invoices": {
        "new": "invoices.write",
        "edit": "invoices.write",
        "paid": "invoices.write",
        "void": "invoices.write",
    },
    "Expenses": {"new": "expenses.write", "edit": "expenses.write", "delete": "expenses.write"},
    "Chart of accounts": {
        "new": "accounts.write",
        "edit": "accounts.write",
        "delete": "accounts.write",
    },
    "VPN peers": {"enable": "vpn.write", "disable": "vpn.write"},
    "Payment gateways": dict.fromkeys(("new", "edit", "off", "on"), "gateways.write"),
    "SMS gateways": dict.fromkeys(("new", "edit", "off", "on"), "gateways.write"),
    "SMS log": {},
    "Tenants": dict.fromkeys(("new", "edit", "suspend", "reactivate"), "tenants.manage"),
}


def site_tenant_id(session: Session) -> uuid.UUID:
    tenant_id = current_identity(session).tenant_id
    assert tenant_id is not None
    return tenant_id


def counted(page: EntityPage) -> bool:
    return page.model.count is not None


def settled(page: SettingsPage) -> bool:
    return not page.form.busy


@pytest.fixture(autouse=True)
def _guard_on(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(GUARD_ENV, "1")


@pytest.fixture
def console(qtbot: QtBot, site: Site, tmp_path: Path) -> Iterator[dict[str, MainWindow]]:
    windows: dict[str, MainWindow] = {}
    yield windows
    for window in windows.values():
        assert window.shutdown()


def open_window(qtbot: QtBot, site: Site, role: str, tmp_path: Path) -> MainWindow:
    engine = site.engine(role)
    database = Database(engine, sessionmaker(engine, expire_on_commit=False))
    window = MainWindow(
        lambda *, progress: database,
        settings=QSettings(str(tmp_path / f"{role}.ini"), QSettings.Format.IniFormat),
        secret_box=site.box,
    )
    qtbot.addWidget(window)
    window.resize(1366, 768)
    window.show()
    window.start()
    qtbot.waitUntil(lambda: window.identity is not None, timeout=WAIT_MS)
    return window


@pytest.mark.parametrize("role", ROLES)
def test_each_role_sees_its_pages_with_only_the_actions_it_may_take(
    qtbot: QtBot, site: Site, role: str, tmp_path: Path, console: dict[str, MainWindow]
) -> None:
    window = console[role] = open_window(qtbot, site, role, tmp_path)
    allowed = ROLE_DEFAULTS[StaffRole(role)]

    expected = [spec.title for spec in PAGES if spec.permission in allowed]
    offered = [t for t in window.page_titles() if t not in ("Dashboard", "Customers")]
    assert offered == expected

    for title in expected:
        page = window.show_page(title)
        if isinstance(page, SettingsPage):
            qtbot.waitUntil(partial(settled, page), timeout=WAIT_MS)
            assert page.form.editor("timezone").text() == "Africa/Nairobi"
            assert page.form.message_text == ""
            continue
        assert isinstance(page, EntityPage)
        qtbot.waitUntil(partial(counted, page), timeout=WAIT_MS)
        QAbstractItemModelTester(page.model, QAbstractItemModelTester.FailureReportingMode.Fatal)
        assert page.status_label.text() == "", (title, page.status_label.text())
        may = sorted(key for key, needs in ACTIONS[title].items() if needs in allowed)
        assert sorted(page.allowed_actions()) == may, title
        for key, action in page.actions_by_key.items():
            assert action.button.isVisibleTo(page) == (key in may)


def test_each_page_shows_only_its_own_tenants_rows(
    qtbot: QtBot, site: Site, tmp_path: Path, console: dict[str, MainWindow]
) -> None:
    window = console["ADMIN"] = open_window(qtbot, site, "ADMIN", tmp_path)
    shown: dict[str, list[object]] = {}
    office = ("Invoices", "Expenses", "Chart of accounts", "VPN peers", "SMS log")
    for title in ("Packages", "Routers", "Payments", "Sessions", "Staff", *office):
        page = window.show_page(title)
        assert isinstance(page, EntityPage)
        qtbot.waitUntil(partial(counted, page), timeout=WAIT_MS)
        shown[title] = list(page.model.rows)
    assert [r.name for r in shown["Packages"]] == ["Home 10", "Home 5"]  # type: ignore[attr-defined]
    assert [r.name for r in shown["Routers"]] == ["core-router"]  # type: ignore[attr-defined]
    assert [r.customer_name for r in shown["Payments"]] == ["Wanjiru Kamau"]  # type: ignore[attr-defined]
    assert len(shown["Sessions"]) == 1  # online now: the open one
    assert len(shown["Staff"]) == len(ROLES)
    assert {title: len(shown[title]) for title in office} == dict.fromkeys(office, 1)


def test_only_a_super_admin_sees_the_tenants_and_sees_them_all(
    qtbot: QtBot, site: Site, tmp_path: Path, console: dict[str, MainWindow]
) -> None:
    window = console["SUPER_ADMIN"] = open_window(qtbot, site, "SUPER_ADMIN", tmp_path)
    page = window.show_page("Tenants")
    assert isinstance(page, EntityPage)
    qtbot.waitUntil(partial(counted, page), timeout=WAIT_MS)
    assert site.tenant in [row.name for row in page.model.rows]
    assert len(page.model.rows) >= 2  # another ISP's too


def test_a_viewer_has_no_edit_actions_and_the_database_refuses_the_write_anyway(
    site: Site,
) -> None:
    sessions = sessionmaker(site.engine("VIEWER", guarded=False))
    refused = pytest.raises(PermissionDenied, match="You do not have permission")
    with refused, session_scope(sessions) as session:
        create_package(
                session,
                {"tenant": site.tenant, "name": "Sneaky", "type": "PPPOE", "price": "1",
                 "download_speed": "1", "upload_speed": "1", "validity_value": 1,
                 "validity_unit": "DAYS"},
            )  # fmt: skip
    with session_scope(sessions) as session:
        home = PackageRepository(session).get_by_name(site_tenant_id(session), "Home 5").id
    with refused, session_scope(sessions) as session:
        update_package(
            session, home,
            {"name": "Home 5", "type": "PPPOE", "price": "1", "download_speed": "5",
             "upload_speed": "2", "validity_value": 1, "validity_unit": "MONTHS"},
        )  # fmt: skip
    with refused, session_scope(sessions) as session:
        delete_package(session, home)
    with refused, session_scope(sessions) as session:
        update_config(session, site.tenant, {"currency": "USD"})
    with refused, session_scope(sessions) as session:
        record_payment(
            session,
            {"tenant": site.tenant, "customer": site.customer, "amount": "1", "method": "CASH"},
        )


def test_a_payment_recorded_elsewhere_appears_in_the_open_payments_page(
    qtbot: QtBot, site: Site, tmp_path: Path, console: dict[str, MainWindow]
) -> None:
    window = console["ADMIN"] = open_window(qtbot, site, "ADMIN", tmp_path)
    qtbot.waitUntil(lambda: window.live is not None, timeout=WAIT_MS)
    assert window.live is not None
    qtbot.waitUntil(window.live.listening.is_set, timeout=WAIT_MS)
    page = window.show_page("Payments")
    assert isinstance(page, EntityPage)
    qtbot.waitUntil(partial(counted, page), timeout=WAIT_MS)
    before = page.model.rowCount()

    # Another front desk takes a payment: no refresh here, the row simply appears.
    with session_scope(site.admin_sessions()) as session:
        record_payment(
            session,
            {"tenant": site.tenant, "customer": site.customer, "amount": "700", "method": "CASH"},
        )
    qtbot.waitUntil(lambda: page.model.rowCount() == before + 1, timeout=WAIT_MS)


def test_every_page_and_the_customer_workspace_load_under_the_gui_thread_guard(
    qtbot: QtBot, site: Site, tmp_path: Path, console: dict[str, MainWindow]
) -> None:
    """An ADMIN opens every page of the registry, the Customers page and a customer's
    workspace with the guard on: a database call on the GUI thread anywhere raises (and an
    exception in a Qt slot fails the test), so every read here ran in a worker."""
    window = console["ADMIN"] = open_window(qtbot, site, "ADMIN", tmp_path)
    database = window.database
    assert database is not None
    # The guard is on for the window's engine: on this (GUI) thread it refuses outright.
    with pytest.raises(RuntimeError, match="GUI thread"), database.engine.connect():
        pass

    allowed = ROLE_DEFAULTS[StaffRole.ADMIN]
    expected = ["Customers", *(spec.title for spec in PAGES if spec.permission in allowed)]
    assert [t for t in window.page_titles() if t != "Dashboard"] == expected
    for title in expected:
        page = window.show_page(title)
        if isinstance(page, SettingsPage):
            qtbot.waitUntil(partial(settled, page), timeout=WAIT_MS)
            assert page.form.message_text == ""
            continue
        assert isinstance(page, TablePage), title
        qtbot.waitUntil(lambda p=page: p.model.count is not None, timeout=WAIT_MS)  # type: ignore[misc]
        assert page.status_label.text() == "", (title, page.status_label.text())

    customers = window.customers
    assert customers is not None
    assert customers.model.rowCount() >= 1
    customers.table.setCurrentIndex(customers.model.index(0, 0))
    workspace = customers.open_current()
    assert workspace is not None
    qtbot.waitUntil(lambda: workspace.data is not None, timeout=WAIT_MS)
    assert workspace.data is not None
    assert workspace.data.profile.full_name == "Wanjiru Kamau"
    assert workspace.data.tabs["payments"]  # the site has paid (other tests may add more)
    customers.close_workspaces()


@pytest.mark.parametrize(
    ("typed", "found"),
    [
        ("wanjiru", ["Wanjiru Kamau"]),
        ("kamau wanj", ["Wanjiru Kamau"]),  # every term, in any order
        ("WANJIRU  kamau", ["Wanjiru Kamau"]),
        ("not ours", []),  # another ISP's customer
        ("wanjiru zzz", []),
        ("", ["Wanjiru Kamau"]),
    ],
)
def test_a_staff_login_filters_customers_through_the_search_function(
    site: Site, typed: str, found: list[str]
) -> None:
    """Under row-level security the filter goes through easyisp_customers_matching (0025):
    same matches as the LIKE, only the caller's tenant, an exact count."""
    sessions = sessionmaker(site.engine("CUSTOMER_CARE", guarded=False))
    with session_scope(sessions) as session:
        query = CustomerListQuery(text=typed, tenant_id=site_tenant_id(session))
        page = CustomerListRepository(session).first_page(query)
        also_without_tenant = CustomerListRepository(session).first_page(
            CustomerListQuery(text=typed)
        )
    assert [row.full_name for row in page.rows] == found
    assert page.count == RowCount(len(found), exact=True)
    assert [row.full_name for row in also_without_tenant.rows] == found
