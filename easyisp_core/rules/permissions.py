"""Named permissions, each role's defaults, and a user's effective set.

The database holds the same defaults (table role_permissions) and enforces them; the console
uses this module only to hide what a user may not do. tests/db checks the two agree.
"""

from __future__ import annotations

from collections.abc import Iterable

from easyisp_core.models.enums import StaffRole

PERMISSIONS: dict[str, str] = {
    "tenants.manage": "create, suspend and configure tenants",
    "settings.write": "change the tenant's SMS, M-Pesa and branding settings",
    "staff.read": "see staff users",
    "staff.manage": "create, suspend and delete staff, change their permissions",
    "customers.read": "see customers",
    "customers.write": "register and edit customers, change packages, suspend",
    "customers.delete": "delete customers",
    "customers.password.reveal": "reveal a subscriber's PPPoE password (audited)",
    "packages.read": "see packages",
    "packages.write": "create and edit packages",
    "vouchers.read": "see vouchers",
    "vouchers.write": "generate and void vouchers",
    "payments.read": "see payments and wallets",
    "payments.create": "record cash, bank and card payments",
    "payments.refund": "refund a payment",
    "wallet.adjust": "post manual wallet adjustments",
    "invoices.read": "see invoices",
    "invoices.write": "create and edit invoices",
    "expenses.read": "see expenses",
    "expenses.write": "record and edit expenses",
    "accounts.read": "see the chart of accounts",
    "accounts.write": "edit the chart of accounts",
    "nas.read": "see routers",
    "nas.write": "add and edit routers",
    "nas.secrets.read": "read router RADIUS secrets and API passwords",
    "vpn.read": "see WireGuard peers",
    "vpn.write": "add, enable and disable WireGuard peers",
    "sessions.read": "see sessions and usage",
    "sessions.disconnect": "disconnect a subscriber (queued for the site service)",
    "gateways.read": "see payment and SMS gateways",
    "gateways.write": "configure payment and SMS gateways (credentials included)",
    "sms.read": "see the SMS log",
    "sms.send": "send SMS to customers",
    "audit.read": "see the audit log",
    "reports.finance": "see financial reports",
}

_READS = {p for p in PERMISSIONS if p.endswith(".read") and "secrets" not in p}

ROLE_DEFAULTS: dict[StaffRole, frozenset[str]] = {
    StaffRole.SUPER_ADMIN: frozenset(PERMISSIONS),
    StaffRole.ADMIN: frozenset(PERMISSIONS) - {"tenants.manage"},
    StaffRole.STAFF: frozenset(
        {
            "customers.read",
            "customers.write",
            "packages.read",
            "vouchers.read",
            "vouchers.write",
            "payments.read",
            "payments.create",
            "invoices.read",
            "invoices.write",
            "expenses.read",
            "expenses.write",
            "accounts.read",
            "nas.read",
            "sessions.read",
            "sessions.disconnect",
            "sms.read",
            "sms.send",
        }
    ),
    StaffRole.CUSTOMER_CARE: frozenset(
        {
            "customers.read",
            "customers.write",
            "customers.password.reveal",
            "packages.read",
            "vouchers.read",
            "payments.read",
            "payments.create",
            "invoices.read",
            "nas.read",
            "sessions.read",
            "sessions.disconnect",
            "sms.read",
            "sms.send",
        }
    ),
    StaffRole.FIELD_TECH: frozenset(
        {
            "customers.read",
            "packages.read",
            "nas.read",
            "nas.write",
            "nas.secrets.read",
            "vpn.read",
            "vpn.write",
            "sessions.read",
            "sessions.disconnect",
        }
    ),
    StaffRole.VIEWER: frozenset(_READS - {"staff.read", "audit.read", "gateways.read"}),
}


def effective_permissions(
    role: StaffRole, added: Iterable[str] = (), removed: Iterable[str] = ()
) -> frozenset[str]:
    """Role defaults plus the user's additions, minus the user's removals (removal wins)."""
    return (ROLE_DEFAULTS[role] | frozenset(added)) - frozenset(removed)


def unknown_permissions(names: Iterable[str]) -> list[str]:
    return sorted(set(names) - PERMISSIONS.keys())


def overrides_for(role: StaffRole, wanted: Iterable[str]) -> tuple[list[str], list[str]]:
    """The (added, removed) overrides that give a user of `role` exactly `wanted`."""
    chosen = frozenset(wanted)
    defaults = ROLE_DEFAULTS[role]
    return sorted(chosen - defaults), sorted(defaults - chosen)
