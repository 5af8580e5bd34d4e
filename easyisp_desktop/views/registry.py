"""Which pages the console offers, in navigation order, the permission each needs and the
navigation section each sits in."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtWidgets import QWidget

from easyisp_desktop.framework.entity_page import PageContext
from easyisp_desktop.views import (
    accounts,
    audit,
    expenses,
    gateways,
    invoices,
    mpesa_review,
    mpesa_suspense,
    packages,
    payments,
    routers,
    sessions,
    settings,
    sms_log,
    staff,
    tenants,
    vouchers,
    vpn_peers,
)

# Navigation sections, in order. The Dashboard and Customers (built by the main window
# itself, not from this registry) open the front desk's section.
FRONT_DESK = "Front desk"
NETWORK = "Network"
ACCOUNTS = "Accounts"
ADMINISTRATION = "Administration"


@dataclass(frozen=True)
class PageSpec:
    title: str
    permission: str
    build: Callable[[PageContext], QWidget]
    section: str


PAGES = (
    PageSpec("Packages", packages.PERMISSION, packages.PackagesPage, FRONT_DESK),
    PageSpec("Vouchers", vouchers.PERMISSION, vouchers.VouchersPage, FRONT_DESK),
    PageSpec("Payments", payments.PERMISSION, payments.PaymentsPage, FRONT_DESK),
    PageSpec("M-Pesa suspense", mpesa_suspense.PERMISSION, mpesa_suspense.SuspensePage, FRONT_DESK),
    PageSpec("Payment review", mpesa_review.PERMISSION, mpesa_review.PaymentReviewPage, FRONT_DESK),
    PageSpec("Invoices", invoices.PERMISSION, invoices.InvoicesPage, FRONT_DESK),
    PageSpec("Routers", routers.PERMISSION, routers.RoutersPage, NETWORK),
    PageSpec("Sessions", sessions.PERMISSION, sessions.SessionsPage, NETWORK),
    PageSpec("VPN peers", vpn_peers.PERMISSION, vpn_peers.VpnPeersPage, NETWORK),
    PageSpec("Expenses", expenses.PERMISSION, expenses.ExpensesPage, ACCOUNTS),
    PageSpec("Chart of accounts", accounts.PERMISSION, accounts.AccountsPage, ACCOUNTS),
    PageSpec("Staff", staff.PERMISSION, staff.StaffPage, ADMINISTRATION),
    PageSpec("Payment gateways", gateways.PERMISSION, gateways.PaymentGatewaysPage, ADMINISTRATION),
    PageSpec("SMS gateways", gateways.PERMISSION, gateways.SmsGatewaysPage, ADMINISTRATION),
    PageSpec("SMS log", sms_log.PERMISSION, sms_log.SmsLogPage, ADMINISTRATION),
    PageSpec("Audit log", audit.PERMISSION, audit.AuditPage, ADMINISTRATION),
    PageSpec("Tenants", tenants.PERMISSION, tenants.TenantsPage, ADMINISTRATION),
    PageSpec("Settings", settings.PERMISSION, settings.SettingsPage, ADMINISTRATION),
)


def pages_for(permissions: frozenset[str]) -> list[PageSpec]:
    return [spec for spec in PAGES if spec.permission in permissions]
