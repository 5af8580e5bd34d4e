"""Object factories shared by all tests. They go through the real services, so every test
object passed the same validation as production data."""

from __future__ import annotations

import itertools
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from easyisp_core.crypto import SecretBox
from easyisp_core.services.customers import register_customer
from easyisp_core.services.nas import create_nas
from easyisp_core.services.packages import create_package
from easyisp_core.services.results import CustomerInfo, NasInfo, PackageInfo, TenantInfo
from easyisp_core.services.tenants import create_tenant

_counter = itertools.count(1)
# Every test staff member gets this password (it passes the password rules).
PASSWORD = "Test-pass-2026"


def unique(prefix: str) -> str:
    return f"{prefix}{next(_counter)}"


def make_tenant(session: Session, **overrides: Any) -> TenantInfo:
    name = overrides.pop("name", unique("isp-"))
    data = {"name": name, "display_name": name.title(), **overrides}
    return create_tenant(session, data)


def make_package(session: Session, tenant: TenantInfo, **overrides: Any) -> PackageInfo:
    data = {
        "tenant": tenant.name,
        "name": unique("Home "),
        "type": "PPPOE",
        "price": Decimal("1500.00"),
        "download_speed": Decimal("5"),
        "upload_speed": Decimal("2"),
        "validity_value": 1,
        "validity_unit": "MONTHS",
        **overrides,
    }
    return create_package(session, data)


def make_customer(
    session: Session, box: SecretBox, tenant: TenantInfo, **overrides: Any
) -> CustomerInfo:
    data = {
        "tenant": tenant.name,
        "username": unique("user"),
        "full_name": "Achieng Otieno",
        "connection_type": "PPPOE",
        "phone": "0712345678",
        **overrides,
    }
    info, _password = register_customer(session, box, data)
    return info


def make_nas(session: Session, box: SecretBox, tenant: TenantInfo, **overrides: Any) -> NasInfo:
    n = next(_counter)
    data = {
        "tenant": tenant.name,
        "name": f"router-{n}",
        "ip_address": f"10.{n // 65536 % 256}.{n // 256 % 256}.{n % 256}",
        **overrides,
    }
    info, _secret = create_nas(session, box, data)
    return info
