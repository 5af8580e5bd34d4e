"""Create/edit/delete through each editable page and the real database, and how forms
report what went wrong: next to the field, above the fields, never losing the input."""

from __future__ import annotations

from decimal import Decimal

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox
from pytestqt.qtbot import QtBot
from sqlalchemy import select, text
from sqlalchemy.orm import sessionmaker

from easyisp_core.db.engine import session_scope
from easyisp_core.models import Nas
from easyisp_core.repositories.lists import VoucherRow
from easyisp_core.services.secrets import read_router_secrets
from easyisp_desktop.framework.forms import FormDialog
from easyisp_desktop.framework.gui_thread_guard import GUARD_ENV
from easyisp_desktop.views.audit import AuditPage
from easyisp_desktop.views.expenses import ExpensesPage
from easyisp_desktop.views.packages import PackagesPage
from easyisp_desktop.views.payments import PaymentsPage
from easyisp_desktop.views.routers import RoutersPage
from easyisp_desktop.views.sessions import SessionsPage
from easyisp_desktop.views.settings import SettingsPage
from easyisp_desktop.views.staff import StaffPage
from easyisp_desktop.views.vouchers import VouchersPage
from tests.gui.pages_support import (
    WAIT_MS,
    OpenPage,
    Site,
    engines_disposed,
    loaded,
    open_page,
    refused,
    reloaded,
    save,
    site,
)

__all__ = ["engines_disposed", "open_page", "site"]


@pytest.fixture(autouse=True)
def _guard_on(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(GUARD_ENV, "1")


def test_a_validation_error_shows_next_to_its_field_and_keeps_the_input(
    qtbot: QtBot, open_page: OpenPage
) -> None:
    page = open_page(PackagesPage, "ADMIN")
    form = page.new()
    form.editor("name").type_text("Home 5")  # taken
    form.editor("price").type_text("12.345")  # three decimals: caught in the form
    form.editor("download_speed").type_text("10")
    form.editor("upload_speed").type_text("5")

    form.save_button.click()
    assert form.error_text("price") == "Enter an amount like 1500.00"
    assert form.message_text == "Please correct the fields marked below."

    form.editor("price").type_text("1000")
    form.editor("upload_speed").type_text("-1")  # refused by the core's validation
    message = refused(qtbot, form)
    assert message == "Please correct the fields marked below."
    assert form.error_text("price") == ""
    assert form.error_text("upload_speed").startswith("Input should be greater than 0")
    assert form.editor("name").text() == "Home 5"
    assert form.editor("upload_speed").text() == "-1"

    form.editor("upload_speed").type_text("5")
    message = refused(qtbot, form)  # the duplicate name: refused by the database
    assert message == "Name: a package with this name already exists."
    assert form.editor("name").text() == "Home 5"


def test_a_write_the_database_refuses_reads_you_do_not_have_permission(
    qtbot: QtBot, open_page: OpenPage
) -> None:
    page = open_page(PackagesPage, "STAFF")
    assert page.allowed_actions() == []
    form = page.new()  # hidden from STAFF; the database is the real gate
    form.editor("name").type_text("Sneaky")
    form.editor("price").type_text("10")
    form.editor("download_speed").type_text("10")
    form.editor("upload_speed").type_text("5")

    message = refused(qtbot, form)
    assert message.startswith("You do not have permission to")
    assert form.editor("name").text() == "Sneaky"


def test_routers_are_added_edited_and_deleted_with_their_secrets_sealed(
    qtbot: QtBot, open_page: OpenPage, site: Site
) -> None:
    page = open_page(RoutersPage, "FIELD_TECH")
    form = page.new()
    form.editor("name").type_text("tower-2")
    form.editor("ip_address").type_text("10.20.0.1")
    form.editor("secret").type_text("s3cret-value")
    save(qtbot, form)
    index = reloaded(qtbot, page, name="tower-2")
    assert page.model.rows[index].ip_address == "10.20.0.1"

    page.select_row(index)
    form = loaded(qtbot, page.edit())
    assert form.editor("secret").text() == ""  # never shown
    assert form.editor("ip_address").text() == "10.20.0.1"
    form.editor("location").type_text("Kisumu water tower")
    save(qtbot, form)
    index = reloaded(qtbot, page, location="Kisumu water tower")

    engine = site.engine("ADMIN", guarded=False)
    with session_scope(sessionmaker(engine)) as session:
        nas_id = session.scalar(select(Nas.id).where(Nas.name == "tower-2"))
        assert nas_id is not None
        # The empty secret on edit kept the stored one.
        assert read_router_secrets(session, site.box, nas_id).radius_secret == "s3cret-value"

    page.select_row(index)
    page.confirm = lambda _title, _question: True
    with qtbot.waitSignal(page.action_done, timeout=WAIT_MS) as done:
        page.actions_by_key["delete"].button.click()
    assert done.args[0] == "Router tower-2 deleted"
    qtbot.waitUntil(lambda: "tower-2" not in [r.name for r in page.model.rows], timeout=WAIT_MS)


def test_a_cashier_records_a_cash_payment_and_a_bank_payment_needs_a_reference(
    qtbot: QtBot, open_page: OpenPage, site: Site
) -> None:
    page = open_page(PaymentsPage, "CUSTOMER_CARE")
    form = page.record()
    form.editor("customer").type_text(site.customer)
    form.editor("amount").type_text("750")
    form.editor("method").set_value("BANK")
    refused(qtbot, form)
    assert form.error_text("transaction_id") == "A reference is required for non-cash payments"

    form.editor("method").set_value("CASH")
    payment = save(qtbot, form)
    assert payment.amount == Decimal("750")  # type: ignore[attr-defined]
    reloaded(qtbot, page, amount=Decimal("750.00"), method="CASH")


def test_staff_are_created_given_a_role_suspended_reactivated_a_new_password_and_deleted(
    qtbot: QtBot, open_page: OpenPage, site: Site
) -> None:
    page = open_page(StaffPage, "ADMIN")
    form = page.new()
    form.editor("username").type_text("pages.cashier")
    form.editor("full_name").type_text("Akinyi Cashier")
    form.editor("role").set_value("CUSTOMER_CARE")
    form.editor("password").type_text("Cashier-pass-2026")
    form.editor("password_again").type_text("Cashier-pass-2027")
    refused(qtbot, form)
    assert form.error_text("password_again") == "The two passwords differ"

    form.editor("password_again").type_text("Cashier-pass-2026")
    save(qtbot, form)
    index = reloaded(qtbot, page, username="pages.cashier", role="CUSTOMER_CARE")

    page.select_row(index)
    form = page.change_role()  # type: ignore[assignment]
    assert form is not None
    form.editor("role").set_value("STAFF")
    save(qtbot, form)
    index = reloaded(qtbot, page, username="pages.cashier", role="STAFF")

    page.confirm = lambda _title, _question: True
    page.select_row(index)
    assert page.actions_by_key["reactivate"].button.isEnabled() is False
    page.actions_by_key["suspend"].button.click()
    index = reloaded(qtbot, page, username="pages.cashier", status="SUSPENDED")
    page.select_row(index)
    page.actions_by_key["reactivate"].button.click()
    index = reloaded(qtbot, page, username="pages.cashier", status="ACTIVE")

    # A forgotten password: the manager sets a new one (the login role's verifier changes).
    before = login_verifier(site, "pages.cashier")
    page.select_row(index)
    form = page.set_password()  # type: ignore[assignment]
    assert form is not None
    form.editor("password").type_text("Cashier-new-2026")
    form.editor("password_again").type_text("Cashier-new-2027")
    refused(qtbot, form)
    assert form.error_text("password_again") == "The two passwords differ"
    form.editor("password_again").type_text("Cashier-new-2026")
    save(qtbot, form)
    assert login_verifier(site, "pages.cashier") not in (before, None)

    # Deleted: no login any more, the row stays for the audit trail.
    index = reloaded(qtbot, page, username="pages.cashier", status="ACTIVE")
    page.select_row(index)
    page.actions_by_key["delete"].button.click()
    index = reloaded(qtbot, page, username="pages.cashier", status="DELETED")
    page.select_row(index)
    assert not page.actions_by_key["password"].button.isEnabled()
    assert not page.actions_by_key["delete"].button.isEnabled()
    assert login_verifier(site, "pages.cashier") is None


def login_verifier(site: Site, login: str) -> str | None:
    """The login role's password verifier; None when it cannot log in (or is gone)."""
    with site.engine_admin().connect() as conn:
        return conn.execute(
            text("SELECT rolpassword FROM pg_authid WHERE rolname = :r AND rolcanlogin"),
            {"r": login},
        ).scalar()


def test_settings_save_as_typed_values_and_errors_land_on_their_field(
    qtbot: QtBot, open_page: OpenPage
) -> None:
    page = open_page(SettingsPage, "ADMIN")
    form = loaded(qtbot, page.form)
    assert form.editor("mpesa.stk_timeout_seconds").text() == "60"

    form.editor("branding.primary_color").type_text("green")
    form.editor("sms.sender_id").type_text("KILIMANET")
    refused(qtbot, form)
    assert "String should match pattern" in form.error_text("branding.primary_color")
    assert form.editor("sms.sender_id").text() == "KILIMANET"

    form.editor("branding.primary_color").type_text("#123ABC")
    save(qtbot, form)
    again = open_page(SettingsPage, "ADMIN")
    form = loaded(qtbot, again.form)
    assert form.editor("branding.primary_color").text() == "#123ABC"
    assert form.editor("sms.sender_id").text() == "KILIMANET"


def test_sessions_switch_between_online_now_and_history(qtbot: QtBot, open_page: OpenPage) -> None:
    page = open_page(SessionsPage, "FIELD_TECH")
    assert [r.stopped_at for r in page.model.rows] == [None]
    with qtbot.waitSignal(page.model.page_loaded, timeout=WAIT_MS):
        page.show_active(False)
    assert len(page.model.rows) == 1
    assert page.model.rows[0].stopped_at is not None
    with qtbot.waitSignal(page.model.page_loaded, timeout=WAIT_MS):
        page.show_active(None)
    assert len(page.model.rows) == 2


def test_the_audit_log_filters_by_target_and_actor(
    qtbot: QtBot, open_page: OpenPage, site: Site
) -> None:
    page = open_page(AuditPage, "ADMIN")
    assert page.model.rows  # the seeding itself was audited
    with qtbot.waitSignal(page.model.page_loaded, timeout=WAIT_MS):
        page.filter_by(target_type="PACKAGE")
    assert {r.target_type for r in page.model.rows} == {"PACKAGE"}
    with qtbot.waitSignal(page.model.page_loaded, timeout=WAIT_MS):
        page.filter_by(actor="nobody-at-all")
    assert page.model.rows == ()


def test_a_batch_of_vouchers_is_generated_for_a_package(qtbot: QtBot, open_page: OpenPage) -> None:
    page = open_page(VouchersPage, "STAFF")
    assert page.model.rows == ()
    with qtbot.waitSignal(page.form_opened, timeout=WAIT_MS) as opened:
        page.actions_by_key["new"].button.click()
    form: FormDialog = opened.args[0]
    form.editor("name").type_text("Promo")
    form.editor("quantity").type_text("5000")
    refused(qtbot, form)
    assert form.error_text("quantity") == "Input should be less than or equal to 1000"

    form.editor("quantity").type_text("3")
    form.editor("prefix").type_text("klm")
    packages = form.editor("package_id").widget
    assert isinstance(packages, QComboBox)
    packages.setCurrentIndex(packages.findText("Home 5", Qt.MatchFlag.MatchStartsWith))
    batch = save(qtbot, form)
    assert len(batch.codes) == 3  # type: ignore[attr-defined]
    qtbot.waitUntil(lambda: len(page.model.rows) == 3, timeout=WAIT_MS)
    rows: list[VoucherRow] = list(page.model.rows)
    assert all(r.code.startswith("KLM-") and r.status == "AVAILABLE" for r in rows)
    assert {(r.package_name, r.price) for r in rows} == {("Home 5", Decimal("1500.00"))}


def test_an_expense_is_recorded_corrected_and_deleted(qtbot: QtBot, open_page: OpenPage) -> None:
    page = open_page(ExpensesPage, "STAFF")
    form = page.new()
    form.editor("category").type_text("Bandwidth")
    form.editor("description").type_text("Upstream transit, December")
    form.editor("amount").type_text("85,000")
    save(qtbot, form)
    index = reloaded(qtbot, page, category="Bandwidth", amount=Decimal("85000.00"))

    page.select_row(index)
    form = loaded(qtbot, page.edit())
    assert form.editor("amount").text() == "85000.00"
    form.editor("amount").type_text("84,500.50")
    save(qtbot, form)
    index = reloaded(qtbot, page, category="Bandwidth", amount=Decimal("84500.50"))

    page.select_row(index)
    page.confirm = lambda _title, _question: True
    with qtbot.waitSignal(page.action_done, timeout=WAIT_MS):
        page.actions_by_key["delete"].button.click()
    qtbot.waitUntil(
        lambda: "Bandwidth" not in [r.category for r in page.model.rows], timeout=WAIT_MS
    )
