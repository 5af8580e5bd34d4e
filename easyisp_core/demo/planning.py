"""What the services create for a demo tenant before the bulk rows: staff and routers.

Planned here (pure, seeded), created by the loader through the same services operators use.
"""

from __future__ import annotations

from dataclasses import dataclass

from easyisp_core.demo.catalog import STAFF_ROLES, DemoTenant
from easyisp_core.demo.dice import Dice, Weighted
from easyisp_core.demo.names import COMMUNITIES, SAFARICOM_PREFIXES, person
from easyisp_core.models.enums import StaffRole

_NOT_IN_EMAILS = str.maketrans("", "", "'- ")


@dataclass(frozen=True)
class RouterPlan:
    name: str
    ip_address: str
    estate: str
    town: str


def plan_routers(tenant: DemoTenant, tenant_index: int, count: int) -> list[RouterPlan]:
    """One router per estate, walking the region's towns; 10.<40+tenant>.<n>.1 addresses."""
    sites = [(estate, town) for town, estates in tenant.region.towns for estate in estates]
    plans = []
    for n in range(count):
        estate, town = sites[n % len(sites)]
        label = estate.replace("'", "")
        suffix = "" if n < len(sites) else f"-{n // len(sites) + 1}"
        plans.append(
            RouterPlan(
                name=f"{tenant.code}-{label}{suffix}",
                ip_address=f"10.{40 + tenant_index}.{n // 250}.{n % 250 + 1}",
                estate=estate.replace("-", " "),
                town=town,
            )
        )
    return plans


@dataclass(frozen=True)
class StaffPlan:
    username: str
    full_name: str
    role: StaffRole
    email: str
    phone: str


def plan_staff(tenant: DemoTenant, tenant_index: int, seed: int) -> list[StaffPlan]:
    """One user per role (two field technicians), named '<job>.<tenant slug>'."""
    d = Dice(f"easyisp-demo/{seed}/{tenant_index}/staff")
    community = Weighted(d, COMMUNITIES, tenant.region.community_weights)
    domain = tenant.slug.replace("-", "") + ".co.ke"
    staff = []
    for prefix, role in STAFF_ROLES:
        first, surname, full_name = person(d, community(), business=False)
        email = f"{first}.{surname}@{domain}".lower().translate(_NOT_IN_EMAILS)
        local = "0" + d.choice(SAFARICOM_PREFIXES) + f"{d.randrange(1_000_000):06d}"
        phone = f"{local[:4]} {local[4:7]} {local[7:]}"
        staff.append(StaffPlan(f"{prefix}.{tenant.slug}", full_name, role, email, phone))
    return staff
