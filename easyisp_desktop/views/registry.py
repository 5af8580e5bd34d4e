"""Which pages the console offers, in navigation order, and the permission each needs."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtWidgets import QWidget

from easyisp_desktop.framework.entity_page import PageContext
from easyisp_desktop.views import (
    audit,
    packages,
    payments,
    routers,
    sessions,
    settings,
    staff,
    vouchers,
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
    PageSpec("Routers", routers.PERMISSION, routers.RoutersPage),
    PageSpec("Sessions", sessions.PERMISSION, sessions.SessionsPage),
    PageSpec("Staff", staff.PERMISSION, staff.StaffPage),
    PageSpec("Audit log", audit.PERMISSION, audit.AuditPage),
    PageSpec("Settings", settings.PERMISSION, settings.SettingsPage),
)


def pages_for(permissions: frozenset[str]) -> list[PageSpec]:
    return [spec for spec in PAGES if spec.permission in permissions]
