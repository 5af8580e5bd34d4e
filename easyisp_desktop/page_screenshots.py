"""The entity pages' part of `python -m easyisp_desktop.screenshots`: one PNG per page.

Runs inside the screenshots script once the main window is up on the demo data."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from PySide6.QtWidgets import QApplication, QWidget

from easyisp_desktop.framework.entity_page import EntityPage
from easyisp_desktop.main_window import MainWindow
from easyisp_desktop.views.gateways import PaymentGatewaysPage
from easyisp_desktop.views.invoices import InvoicesPage
from easyisp_desktop.views.mpesa_suspense import SuspensePage
from easyisp_desktop.views.packages import PackagesPage
from easyisp_desktop.views.payments import PaymentsPage
from easyisp_desktop.views.routers import RoutersPage
from easyisp_desktop.views.settings import SettingsPage

# Navigation title → file name.
PAGE_SHOTS = {
    "Packages": "packages.png",
    "Vouchers": "vouchers.png",
    "Payments": "payments.png",
    "M-Pesa suspense": "mpesa-suspense.png",
    "Invoices": "invoices.png",
    "Expenses": "expenses.png",
    "Routers": "routers.png",
    "Sessions": "sessions.png",
    "Staff": "staff.png",
    "Audit log": "audit-log.png",
    "Settings": "settings.png",
}


def _wait(done: Callable[[], bool], seconds: float = 60.0) -> None:
    deadline = time.monotonic() + seconds
    while not done():
        if time.monotonic() > deadline:
            raise TimeoutError("the page did not load in time")
        QApplication.processEvents()
        time.sleep(0.02)


def _settle(seconds: float = 0.3) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        QApplication.processEvents()
        time.sleep(0.02)


def _loaded(page: QWidget) -> bool:
    if isinstance(page, EntityPage):
        return page.model.count is not None and not page.model.loading
    if isinstance(page, SettingsPage):
        return not page.form.busy
    return True


def capture_pages(
    window: MainWindow,
    out: Path,
    statement: Path | None = None,
    *,
    answer_sync: Callable[[int], None] | None = None,
) -> int:
    """Save each entity page the logged-in user sees, a few forms and, given an M-Pesa
    statement, its reconciliation; returns how many.

    `answer_sync(command_id)` plays the site service answering a Sync preview."""
    saved = 0
    for title, name in PAGE_SHOTS.items():
        if title not in window.page_titles():
            continue
        page = window.show_page(title)
        _wait(lambda page=page: _loaded(page))  # type: ignore[misc]
        if isinstance(page, SuspensePage) and page.model.rowCount():
            page.select_row(0)  # the row's action enabled, as an operator sees it
        _settle()
        window.grab().save(str(out / name))
        saved += 1
    packages = window.page_by_title.get("Packages")
    if isinstance(packages, PackagesPage):
        window.show_page("Packages")
        packages.select_row(0)
        edit = packages.edit()
        if edit is not None:
            _wait(lambda: not edit.busy)
            _settle()
            edit.grab().save(str(out / "package-form.png"))
            edit.reject()
            saved += 1
    payments = window.page_by_title.get("Payments")
    if isinstance(payments, PaymentsPage):
        window.show_page("Payments")
        form = payments.record()
        form.editor("customer").type_text("no-such-customer")
        form.editor("amount").type_text("12.345")
        form.submit()
        _settle()
        form.grab().save(str(out / "payment-form-error.png"))
        form.reject()
        saved += 1
    suspense = window.page_by_title.get("M-Pesa suspense")
    if statement is not None and isinstance(suspense, SuspensePage):
        window.show_page("M-Pesa suspense")
        dialog = suspense.reconcile()
        if dialog is not None:
            dialog.load_file(statement)
            _wait(lambda: dialog.outcome is not None)
            dialog.tabs.setCurrentIndex(1)
            dialog.select_missing(0)
            _settle()
            dialog.grab().save(str(out / "mpesa-reconcile.png"))
            dialog.reject()
            saved += 1
    routers = window.page_by_title.get("Routers")
    if isinstance(routers, RoutersPage):
        saved += _capture_router_dialogs(window, routers, out, answer_sync)
    return saved + _capture_office_forms(window, out)


def _capture_office_forms(window: MainWindow, out: Path) -> int:
    """A new invoice with its running total, and a new M-Pesa gateway (secrets masked)."""
    saved = 0
    invoices = window.page_by_title.get("Invoices")
    if isinstance(invoices, InvoicesPage):
        window.show_page("Invoices")
        form = invoices.new()
        form.editor("items").type_text("Home 10 Mbps, December | 1 | 2500\nInstallation | 1 | 1500")
        form.editor("vat_percent").type_text("16")
        _settle()
        form.grab().save(str(out / "invoice-form.png"))
        form.reject()
        saved += 1
    gateways = window.page_by_title.get("Payment gateways")
    if isinstance(gateways, PaymentGatewaysPage):
        window.show_page("Payment gateways")
        form = gateways.new()
        for key, value in (("name", "Hotspot till"), ("shortcode", "5123456"),
                           ("consumer_key", "key"), ("consumer_secret", "secret")):  # fmt: skip
            form.editor(key).type_text(value)
        form.editor("purpose").set_value("HOTSPOT")
        form.editor("provider").set_value("MPESA_TILL")
        _settle()
        form.grab().save(str(out / "mpesa-gateway-form.png"))
        form.reject()
        saved += 1
    return saved


def _capture_router_dialogs(
    window: MainWindow,
    page: RoutersPage,
    out: Path,
    answer_sync: Callable[[int], None] | None,
) -> int:
    saved = 0
    window.show_page("Routers")
    _wait(lambda: _loaded(page))
    # A RouterOS 7 router: its script carries the WireGuard tunnel.
    versions = [page.model.row_object(i).routeros_version for i in range(page.model.rowCount())]
    page.select_row(next((i for i, v in enumerate(versions) if (v or "").startswith("7")), 0))
    _settle()
    window.grab().save(str(out / "routers.png"))  # again, a router selected: its actions
    script = page.show_script()
    if script is not None:
        script.resize(900, 640)
        _wait(lambda: not script.busy)
        _settle()
        script.grab().save(str(out / "router-script.png"))
        script.reject()
        saved += 1
    sync = page.sync()
    if sync is not None and answer_sync is not None:
        sync.resize(760, 420)
        _wait(lambda: sync.command is not None)
        command = sync.command
        assert command is not None
        window.workers.run(lambda: answer_sync(command.id))
        _wait(lambda: sync.command is not None and sync.command.finished)
        _settle()
        sync.grab().save(str(out / "router-sync.png"))
        sync.reject()
        saved += 1
    return saved
