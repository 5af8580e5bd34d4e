"""Which pages the console offers, in navigation order, and the permission each needs."""

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


@dataclass(frozen=True)
class PageSpec:
    title: str
    permission: str
    build: Callable[[PageContext], QWidget]


PAGES = (
    PageSpec("Packages", packages.PERMISSION, packages.PackagesPage),
    PageSpec("Vouchers", vouchers.PERMISSION, vouchers.VouchersPage),
    PageSpec("Payments", payments.PERMISSION, payments.PaymentsPage),
    PageSpec("M-Pesa suspense", mpesa_suspense.PERMISSION, mpesa_suspense.SuspensePage),
    PageSpec("Payment review", mpesa_review.PERMISSION, mpesa_review.PaymentReviewPage),
    PageSpec("Invoices", invoices.PERMISSION, invoices.InvoicesPage),
    PageSpec("Expenses", expenses.PERMISSION, expenses.ExpensesPage),
    PageSpec("Chart of accounts", accounts.PERMISSION, accounts.AccountsPage),
    PageSpec("Routers", routers.PERMISSION, routers.RoutersPage),
    PageSpec("Sessions", sessions.PERMISSION, sessions.SessionsPage),
    PageSpec("VPN peers", vpn_peers.PERMISSION, vpn_peers.VpnPeersPage),
    PageSpec("Staff", staff.PERMISSION, staff.StaffPage),
    PageSpec("Payment gateways", gateways.PERMISSION, gateways.PaymentGatewaysPage),
    PageSpec("SMS gateways", gateways.PERMISSION, gateways.SmsGatewaysPage),
    PageSpec("SMS log", sms_log.PERMISSION, sms_log.SmsLogPage),
    PageSpec("Audit log", audit.PERMISSION, audit.AuditPage),
    PageSpec("Tenants", tenants.PERMISSION, tenants.TenantsPage),
    PageSpec("Settings", settings.PERMISSION, settings.SettingsPage),
)


def pages_for(permissions: frozenset[str]) -> list[PageSpec]:
    return [spec for spec in PAGES if spec.permission in permissions]
