"""Create/edit/deactivate flows of the office pages (Invoices, Chart of accounts, VPN peers,
Payment and SMS gateways, Tenants) through real widgets, each role's own login and the real
database with the GUI-thread guard on; and the database refusing each write to a role that
lacks the permission when the service is called directly."""

from __future__ import annotations

import json
import uuid
from decimal import Decimal

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QAbstractItemModelTester, QTest
from PySide6.QtWidgets import QApplication, QLabel
from pytestqt.qtbot import QtBot
from sqlalchemy import text
from sqlalchemy.orm import sessionmaker

from easyisp_core.db.engine import session_scope
from easyisp_core.errors import EasyIspError, NotFound, PermissionDenied, ValidationFailed
from easyisp_core.models.enums import TenantStatus, VpnPeerStatus
from easyisp_core.services import chart_of_accounts, gateway_edits, invoices, tenants
from easyisp_core.services.gateways import (
    PAYMENT_CREDENTIALS,
    SMS_CREDENTIALS,
    create_payment_gateway,
)
from easyisp_core.services.vpn import set_peer_status
from easyisp_desktop.framework.entity_page import EntityPage
from easyisp_desktop.framework.forms import FormDialog
from easyisp_desktop.framework.gui_thread_guard import GUARD_ENV
from easyisp_desktop.views.accounts import AccountsPage
from easyisp_desktop.views.gateways import PaymentGatewaysPage, SmsGatewaysPage
from easyisp_desktop.views.invoices import InvoicesPage
from easyisp_desktop.views.tenants import TenantsPage
from easyisp_desktop.views.vpn_peers import VpnPeersPage
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

MPESA_SECRETS = {"consumer_key": "ck-1", "consumer_secret": "cs-1", "passkey": "pk-1"}


@pytest.fixture(autouse=True)
def _guard_on(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(GUARD_ENV, "1")


def checked(page: EntityPage) -> EntityPage:
    """The page, its model watched by Qt's model tester for the rest of the test (the page
    owns the tester, so it sees every reload the flow causes)."""
    QAbstractItemModelTester(page.model, QAbstractItemModelTester.FailureReportingMode.Fatal, page)
    return page


def click(qtbot: QtBot, page: EntityPage, action: str) -> str:
    page.confirm = lambda _title, _question: True
    with qtbot.waitSignal(page.action_done, timeout=WAIT_MS) as done:
        page.actions_by_key[action].button.click()
    return str(done.args[0])


def sealed(site: Site, table: str, name: str, purpose: str) -> dict[str, str]:
    """A gateway's stored credentials, decrypted with the site key (database owner's view)."""
    with session_scope(site.admin_sessions()) as session:
        blob = session.scalar(
            text(f"SELECT credentials_enc FROM {table} WHERE name = :n"),
            {"n": name},
        )
    assert blob is not None
    return dict(json.loads(site.box.decrypt(bytes(blob), purpose)))


@pytest.mark.parametrize(
    ("page_type", "role"),
    [
        (InvoicesPage, "STAFF"),
        (AccountsPage, "ADMIN"),
        (PaymentGatewaysPage, "ADMIN"),
        (SmsGatewaysPage, "ADMIN"),
        (TenantsPage, "SUPER_ADMIN"),
    ],
)
def test_each_new_form_opens_with_ctrl_n_fits_a_laptop_screen_and_tabs_in_order(
    qtbot: QtBot, open_page: OpenPage, page_type: type[EntityPage], role: str
) -> None:
    page = open_page(page_type, role)
    page.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is page, timeout=WAIT_MS)
    page.table.setFocus()
    with qtbot.waitSignal(page.form_opened, timeout=WAIT_MS) as opened:
        QTest.keyClick(page.table, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)
    form: FormDialog = opened.args[0]
    # 1366×768 less the taskbar and the title bar.
    assert form.sizeHint().height() <= 680, form.sizeHint()
    assert form.sizeHint().width() <= 900, form.sizeHint()
    editors = list(form.editors.values())
    qtbot.waitUntil(lambda: QApplication.activeWindow() is form, timeout=WAIT_MS)
    assert editors[0].widget.hasFocus()
    QTest.keyClick(editors[0].widget, Qt.Key.Key_Tab)
    assert editors[1].widget.hasFocus()
    with qtbot.waitSignal(form.rejected, timeout=WAIT_MS):
        QTest.keyClick(form, Qt.Key.Key_Escape)


def test_enter_saves_a_new_account(qtbot: QtBot, open_page: OpenPage) -> None:
    page = open_page(AccountsPage, "ADMIN")
    form = page.new()
    form.editor("code").type_text("1001")
    form.editor("name").type_text("Cash")
    form.editor("type").set_value("ASSET")
    with qtbot.waitSignal(form.saved, timeout=WAIT_MS):
        QTest.keyClick(form.editor("name").widget, Qt.Key.Key_Return)
    reloaded(qtbot, page, code="1001", type="ASSET")


def test_an_invoice_is_issued_with_lines_corrected_paid_and_then_final(
    qtbot: QtBot, open_page: OpenPage, site: Site
) -> None:
    page = checked(open_page(InvoicesPage, "STAFF"))
    assert sorted(page.allowed_actions()) == ["edit", "new", "paid", "void"]
    form = page.new()
    form.editor("customer").type_text(site.customer)
    form.editor("items").type_text("Home 10, December | 1 | 2500\nInstallation | 2 | 499.995")
    form.editor("vat_percent").type_text("16")
    refused(qtbot, form)
    assert form.error_text("items").startswith("Line 2, unit price: decimal input should have")
    assert "499.995" in form.editor("items").text()  # the input is kept

    form.editor("items").type_text("Home 10, December | 1 | 2500\nInstallation | 2 | 500")
    totals = [w.text() for w in form.findChildren(QLabel) if w.text().startswith("Subtotal")]
    assert totals == ["Subtotal KES 3,500.00 · VAT KES 560.00 · Total KES 4,060.00"]
    issued = save(qtbot, form)
    assert (issued.subtotal, issued.tax, issued.total) == (  # type: ignore[attr-defined]
        Decimal("3500.00"), Decimal("560.00"), Decimal("4060.00"),
    )  # fmt: skip
    number = issued.invoice_no  # type: ignore[attr-defined]
    index = reloaded(qtbot, page, invoice_no=number, total=Decimal("4060.00"))

    page.select_row(index)
    form = loaded(qtbot, page.edit())
    assert form.editor("items").text() == (
        "Home 10, December | 1 | 2500.00\nInstallation | 2 | 500.00"
    )
    assert form.editor("vat_percent").text() == "16"
    form.editor("items").type_text("Home 10, December | 2500")  # one of it
    form.editor("vat_percent").type_text("")
    save(qtbot, form)
    index = reloaded(qtbot, page, invoice_no=number, total=Decimal("2500.00"))

    page.select_row(index)
    assert click(qtbot, page, "paid") == f"Invoice {number} marked paid"
    index = reloaded(qtbot, page, invoice_no=number, status="paid")
    assert page.model.rows[index].paid_at is not None
    page.select_row(index)
    assert not page.actions_by_key["edit"].button.isEnabled()
    assert not page.actions_by_key["void"].button.isEnabled()
    assert page.edit() is None  # Enter on it: said, not opened
    assert page.status_label.text() == f"Invoice {number} is paid; it is final."
    staff = sessionmaker(site.engine("STAFF", guarded=False))
    with pytest.raises(ValidationFailed, match="final"), session_scope(staff) as session:
        invoices.void_invoice(session, page.model.rows[index].id)


def test_a_pending_invoice_is_voided_and_kept(
    qtbot: QtBot, open_page: OpenPage, site: Site
) -> None:
    page = checked(open_page(InvoicesPage, "ADMIN"))
    form = page.new()
    form.editor("items").type_text("Walk-in router sale | 3200")
    issued = save(qtbot, form)
    number = issued.invoice_no  # type: ignore[attr-defined]
    page.select_row(reloaded(qtbot, page, invoice_no=number))
    assert click(qtbot, page, "void") == f"Invoice {number} voided"
    reloaded(qtbot, page, invoice_no=number, status="cancelled")


def test_an_account_code_is_unique_per_tenant_and_an_account_is_edited_and_deleted(
    qtbot: QtBot, open_page: OpenPage
) -> None:
    page = checked(open_page(AccountsPage, "ADMIN"))
    form = page.new()
    form.editor("code").type_text("40")
    form.editor("name").type_text("Hotspot sales")
    refused(qtbot, form)
    assert form.error_text("code") == "Use 3-10 digits, like 4001"

    form.editor("code").type_text("4001")  # the seed's Internet sales
    message = refused(qtbot, form)
    assert message == "Code: another account already has this code."
    assert form.error_text("code") == "Another account already has this code"
    assert form.editor("name").text() == "Hotspot sales"

    form.editor("code").type_text("4002")
    save(qtbot, form)
    index = reloaded(qtbot, page, code="4002", name="Hotspot sales", is_active=True)

    page.select_row(index)
    form = loaded(qtbot, page.edit())
    assert form.editor("type").widget.currentData() == "REVENUE"  # type: ignore[attr-defined]
    form.editor("name").type_text("Hotspot voucher sales")
    form.editor("is_active").set_value(False)
    save(qtbot, form)
    index = reloaded(qtbot, page, code="4002", name="Hotspot voucher sales", is_active=False)

    page.select_row(index)
    assert click(qtbot, page, "delete") == "Account 4002 deleted"
    qtbot.waitUntil(lambda: "4002" not in [r.code for r in page.model.rows], timeout=WAIT_MS)


def test_a_field_tech_disables_and_enables_a_vpn_peer(qtbot: QtBot, open_page: OpenPage) -> None:
    page = checked(open_page(VpnPeersPage, "FIELD_TECH"))
    assert sorted(page.allowed_actions()) == ["disable", "enable"]
    page.select_row(reloaded(qtbot, page, name="core-tunnel", status="ACTIVE"))
    assert not page.actions_by_key["enable"].button.isEnabled()
    assert click(qtbot, page, "disable") == "VPN peer core-tunnel disabled"
    page.select_row(reloaded(qtbot, page, name="core-tunnel", status="DISABLED"))
    assert click(qtbot, page, "enable") == "VPN peer core-tunnel enabled"
    reloaded(qtbot, page, name="core-tunnel", status="ACTIVE")


def test_an_mpesa_gateway_is_added_edited_without_showing_secrets_and_switched_off(
    qtbot: QtBot, open_page: OpenPage, site: Site
) -> None:
    page = checked(open_page(PaymentGatewaysPage, "ADMIN"))
    form = page.new()
    form.editor("name").type_text("Hotspot till")
    form.editor("provider").set_value("MPESA_TILL")
    form.editor("purpose").set_value("HOTSPOT")
    form.editor("shortcode").type_text("12")
    form.editor("environment").set_value("production")
    form.editor("base_url").type_text("http://daraja.example")
    for key, value in MPESA_SECRETS.items():
        form.editor(key).type_text(value)
    refused(qtbot, form)
    assert form.error_text("shortcode").startswith("String should match pattern")
    form.editor("shortcode").type_text("123456")
    message = refused(qtbot, form)  # production needs https: a config (whole-form) error
    assert form.error_text("environment") == "Production needs an https base_url"
    assert message == "Please correct the fields marked below."

    form.editor("base_url").type_text("")
    form.editor("allowed_callback_ips").type_text("196.201.214.0/24, 196.201.213.114")
    save(qtbot, form)
    index = reloaded(qtbot, page, name="Hotspot till", purpose="HOTSPOT", is_active=True)
    assert sealed(site, "payment_gateways", "Hotspot till", PAYMENT_CREDENTIALS) == MPESA_SECRETS

    page.select_row(index)
    form = loaded(qtbot, page.edit())
    assert [form.editor(k).text() for k in MPESA_SECRETS] == ["", "", ""]  # never shown
    assert form.editor("allowed_callback_ips").text() == "196.201.214.0/24, 196.201.213.114"
    form.editor("shortcode").type_text("654321")
    form.editor("passkey").type_text("pk-2")  # only the passkey changes
    save(qtbot, form)
    index = reloaded(qtbot, page, name="Hotspot till", shortcode="654321")
    stored = sealed(site, "payment_gateways", "Hotspot till", PAYMENT_CREDENTIALS)
    assert stored == {**MPESA_SECRETS, "passkey": "pk-2"}

    # The Transaction Status initiator is added later, sealed beside the other secrets.
    page.select_row(index)
    form = loaded(qtbot, page.edit())
    assert form.editor("security_credential").text() == ""
    form.editor("initiator_name").type_text("reconcile-api")
    form.editor("security_credential").type_text("c2VhbGVk")
    save(qtbot, form)
    index = reloaded(qtbot, page, name="Hotspot till", shortcode="654321")
    stored = sealed(site, "payment_gateways", "Hotspot till", PAYMENT_CREDENTIALS)
    initiator = {"initiator_name": "reconcile-api", "security_credential": "c2VhbGVk"}
    assert stored == {**MPESA_SECRETS, "passkey": "pk-2", **initiator}

    # A second active gateway for hotspot payments: refused, and said next to "Used for".
    form = page.new()
    form.editor("name").type_text("Second till")
    form.editor("purpose").set_value("HOTSPOT")
    form.editor("shortcode").type_text("222222")
    for key, value in MPESA_SECRETS.items():
        form.editor(key).type_text(value)
    assert refused(qtbot, form).startswith("Purpose: an active payment gateway already serves")
    assert form.error_text("purpose").startswith("An active payment gateway already serves")
    form.reject()

    page.select_row(index)
    assert click(qtbot, page, "off") == "Gateway Hotspot till deactivated"
    page.select_row(reloaded(qtbot, page, name="Hotspot till", is_active=False))
    assert click(qtbot, page, "on") == "Gateway Hotspot till activated"
    reloaded(qtbot, page, name="Hotspot till", is_active=True)


def test_an_sms_gateway_keeps_its_api_key_sealed_and_is_switched_off(
    qtbot: QtBot, open_page: OpenPage, site: Site
) -> None:
    page = checked(open_page(SmsGatewaysPage, "ADMIN"))
    form = page.new()
    form.editor("name").type_text("AT bulk")
    form.editor("sender_id").type_text("KILIMANET-LONG")
    form.editor("api_key").type_text("at-key-1")
    refused(qtbot, form)
    assert form.error_text("sender_id").startswith("String should have at most 11 characters")
    form.editor("sender_id").type_text("KILIMANET")
    form.editor("username").type_text("kilimanet")
    form.editor("is_default").set_value(True)
    save(qtbot, form)
    index = reloaded(qtbot, page, name="AT bulk", sender_id="KILIMANET", is_default=True)
    assert sealed(site, "sms_gateways", "AT bulk", SMS_CREDENTIALS) == {"api_key": "at-key-1"}

    page.select_row(index)
    form = loaded(qtbot, page.edit())
    assert form.editor("api_key").text() == ""
    assert form.editor("username").text() == "kilimanet"
    form.editor("sender_id").type_text("KILIMA")
    save(qtbot, form)  # the empty API key keeps the stored one
    index = reloaded(qtbot, page, name="AT bulk", sender_id="KILIMA")
    assert sealed(site, "sms_gateways", "AT bulk", SMS_CREDENTIALS) == {"api_key": "at-key-1"}

    page.select_row(index)
    assert click(qtbot, page, "off") == "Gateway AT bulk deactivated"
    reloaded(qtbot, page, name="AT bulk", is_active=False, is_default=False)


def test_a_super_admin_creates_renames_suspends_and_reactivates_a_tenant(
    qtbot: QtBot, open_page: OpenPage
) -> None:
    page = checked(open_page(TenantsPage, "SUPER_ADMIN"))
    assert sorted(page.allowed_actions()) == ["edit", "new", "reactivate", "suspend"]
    form = page.new()
    form.editor("name").type_text("Coast Net")
    form.editor("display_name").type_text("Coast Networks")
    refused(qtbot, form)
    assert form.error_text("name").startswith("Use 2-63 lower-case letters")
    form.editor("name").type_text("coastnet")
    save(qtbot, form)
    index = reloaded(qtbot, page, name="coastnet", status="ACTIVE")

    page.select_row(index)
    form = page.edit()
    assert form is not None
    assert form.editor("display_name").text() == "Coast Networks"
    form.editor("display_name").type_text("Coast Networks Ltd")
    save(qtbot, form)
    page.select_row(reloaded(qtbot, page, name="coastnet", display_name="Coast Networks Ltd"))
    assert click(qtbot, page, "suspend") == "coastnet suspended"
    page.select_row(reloaded(qtbot, page, name="coastnet", status="SUSPENDED"))
    assert click(qtbot, page, "reactivate") == "coastnet reactivated"
    reloaded(qtbot, page, name="coastnet", status="ACTIVE")


def _ids(site: Site) -> dict[str, uuid.UUID]:
    """Rows of the test tenant (and another tenant's id), read as the database owner."""
    with session_scope(site.admin_sessions()) as session:
        one = session.execute(
            text(
                "SELECT (SELECT id FROM tenants WHERE name = :t) AS tenant, "
                "(SELECT id FROM tenants WHERE name <> :t ORDER BY name LIMIT 1) AS other, "
                "(SELECT i.id FROM invoices i JOIN tenants t ON t.id = i.tenant_id "
                " WHERE t.name = :t ORDER BY i.issued_at LIMIT 1) AS invoice, "
                "(SELECT id FROM chart_of_accounts WHERE code = '4001') AS account, "
                "(SELECT id FROM vpn_peers WHERE name = 'core-tunnel') AS peer"
            ),
            {"t": site.tenant},
        ).one()
    return dict(one._mapping)


def test_the_database_refuses_each_office_write_to_a_role_without_the_permission(
    site: Site,
) -> None:
    ids = _ids(site)
    denied = pytest.raises(PermissionDenied, match="You do not have permission")

    def as_role(role: str) -> sessionmaker:  # type: ignore[type-arg]
        return sessionmaker(site.engine(role, guarded=False))

    viewer, staff, admin = as_role("VIEWER"), as_role("STAFF"), as_role("ADMIN")
    item = [{"description": "Sneaky", "quantity": 1, "unit_price": "1"}]
    with denied, session_scope(viewer) as session:
        invoices.create_invoice(session, {"tenant": site.tenant, "items": item})
    for change in (invoices.mark_invoice_paid, invoices.void_invoice):
        with denied, session_scope(viewer) as session:
            change(session, ids["invoice"])
    with denied, session_scope(viewer) as session:
        invoices.update_invoice(session, ids["invoice"], {"items": item})

    account = {"code": "4999", "name": "Sneaky", "type": "REVENUE"}
    with denied, session_scope(staff) as session:
        chart_of_accounts.create_account(session, site.tenant, account)
    with denied, session_scope(staff) as session:
        chart_of_accounts.update_account(session, ids["account"], {**account, "code": "4001"})
    with denied, session_scope(staff) as session:
        chart_of_accounts.delete_account(session, ids["account"])

    with denied, session_scope(viewer) as session:
        set_peer_status(session, ids["peer"], VpnPeerStatus.DISABLED)

    gateway = {"tenant": site.tenant, "name": "Sneaky", "provider": "MPESA_PAYBILL",
               "shortcode": "999999", "credentials": MPESA_SECRETS}  # fmt: skip
    with denied, session_scope(staff) as session:
        create_payment_gateway(session, site.box, gateway)
    # Without gateways.read the gateways are not even visible to change.
    with session_scope(admin) as session:
        sms_id = session.scalar(text("SELECT id FROM sms_gateways LIMIT 1"))
    hidden = pytest.raises((NotFound, PermissionDenied))
    with hidden, session_scope(staff) as session:
        gateway_edits.set_sms_gateway_active(session, sms_id or uuid.uuid4(), False)

    # An ISP's admin manages its own tenant's settings, never tenants themselves.
    with denied, session_scope(admin) as session:
        tenants.create_tenant(session, {"name": "sneaky-isp", "display_name": "Sneaky"})
    with denied, session_scope(admin) as session:
        tenants.set_tenant_status(session, ids["tenant"], TenantStatus.SUSPENDED)
    with pytest.raises(EasyIspError), session_scope(admin) as session:
        tenants.rename_tenant(session, ids["other"], {"display_name": "Taken over"})
