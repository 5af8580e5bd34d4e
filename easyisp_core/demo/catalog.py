"""What a demo ISP sells and runs on: tenants, staff roles, plans, ledger accounts, expenses.

Prices are the KES figures Kenyan fixed-wireless and fibre ISPs advertise; hotspot plans use
the Swahili names customers know from the captive portal (Saa 1, Siku 1, Wiki, Mwezi).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from easyisp_core.demo.names import KISUMU, MOMBASA, MT_KENYA, NAIROBI, RIFT, Region
from easyisp_core.models.enums import AccountType, PackageType, StaffRole, ValidityUnit


@dataclass(frozen=True)
class DemoTenant:
    slug: str
    display_name: str
    sms_sender: str
    # Voucher code prefix and router name prefix.
    code: str
    region: Region


DEMO_TENANTS: tuple[DemoTenant, ...] = (
    DemoTenant("kilimanet", "KilimaNet Communications", "KILIMANET", "KLM", NAIROBI),
    DemoTenant("pwani-fibre", "Pwani Fibre Networks", "PWANIFIBRE", "PWF", MOMBASA),
    DemoTenant("ziwa-wifi", "Ziwa WiFi", "ZIWAWIFI", "ZWF", KISUMU),
    DemoTenant("bonde-net", "Bonde Net", "BONDENET", "BDN", RIFT),
    DemoTenant("mlima-broadband", "Mlima Broadband", "MLIMABB", "MLB", MT_KENYA),
)

# Staff usernames are "<prefix>.<tenant slug>", unique on the whole server as they must be.
STAFF_ROLES: tuple[tuple[str, StaffRole], ...] = (
    ("owner", StaffRole.SUPER_ADMIN),
    ("admin", StaffRole.ADMIN),
    ("office", StaffRole.STAFF),
    ("care", StaffRole.CUSTOMER_CARE),
    ("tech", StaffRole.FIELD_TECH),
    ("tech2", StaffRole.FIELD_TECH),
    ("auditor", StaffRole.VIEWER),
)


@dataclass(frozen=True)
class PlanSpec:
    name: str
    type: PackageType
    price: int  # KES
    down: Decimal  # Mbps
    up: Decimal
    validity_value: int
    validity_unit: ValidityUnit
    # (burst down, burst up, threshold down, threshold up, burst seconds) or None.
    burst: tuple[Decimal, Decimal, Decimal, Decimal, int] | None = None
    priority: int = 8
    shared_users: int = 1
    session_time: int | None = None
    data_cap_gb: int | None = None
    # Relative popularity among the customers this plan can serve.
    weight: float = 1.0
    business: bool = False
    description: str | None = None


def _d(value: str) -> Decimal:
    return Decimal(value)


def _burst(
    down: str, up: str, t_down: str, t_up: str, secs: int
) -> tuple[Decimal, Decimal, Decimal, Decimal, int]:
    return (_d(down), _d(up), _d(t_down), _d(t_up), secs)


M, W, D, H = ValidityUnit.MONTHS, ValidityUnit.WEEKS, ValidityUnit.DAYS, ValidityUnit.HOURS
PPPOE, HOTSPOT = PackageType.PPPOE, PackageType.HOTSPOT

PLANS: tuple[PlanSpec, ...] = (
    PlanSpec(
        "Home 5 Mbps",
        PPPOE,
        1500,
        _d("5"),
        _d("2"),
        1,
        M,
        _burst("8", "3", "4", "1.5", 16),
        weight=30,
    ),
    PlanSpec(
        "Home 8 Mbps",
        PPPOE,
        2000,
        _d("8"),
        _d("3"),
        1,
        M,
        _burst("12", "4", "6", "2", 16),
        weight=22,
    ),
    PlanSpec(
        "Home 10 Mbps",
        PPPOE,
        2500,
        _d("10"),
        _d("4"),
        1,
        M,
        _burst("15", "6", "8", "3", 16),
        weight=18,
    ),
    PlanSpec("Home 15 Mbps", PPPOE, 3000, _d("15"), _d("5"), 1, M, weight=10),
    PlanSpec(
        "Home 20 Mbps",
        PPPOE,
        3500,
        _d("20"),
        _d("8"),
        1,
        M,
        _burst("30", "10", "16", "6", 12),
        weight=8,
    ),
    PlanSpec("Home 30 Mbps", PPPOE, 4500, _d("30"), _d("10"), 1, M, weight=4),
    PlanSpec(
        "Weekly 5 Mbps",
        PPPOE,
        400,
        _d("5"),
        _d("2"),
        1,
        W,
        weight=8,
        description="For customers who pay weekly",
    ),
    PlanSpec(
        "Business 20 Mbps",
        PPPOE,
        6000,
        _d("20"),
        _d("20"),
        1,
        M,
        priority=4,
        weight=5,
        business=True,
        description="Symmetric, static IP available",
    ),
    PlanSpec(
        "Business 50 Mbps",
        PPPOE,
        12000,
        _d("50"),
        _d("50"),
        1,
        M,
        priority=2,
        weight=2,
        business=True,
        description="Symmetric, priority queue, static IP",
    ),
    PlanSpec("Saa 1", HOTSPOT, 10, _d("3"), _d("1"), 1, H, session_time=3600, weight=30),
    PlanSpec("Saa 3", HOTSPOT, 20, _d("3"), _d("1"), 3, H, weight=18),
    PlanSpec(
        "Siku 1", HOTSPOT, 50, _d("4"), _d("2"), 1, D, _burst("6", "3", "3", "1.5", 10), weight=30
    ),
    PlanSpec("Data 5 GB", HOTSPOT, 100, _d("5"), _d("2"), 3, D, data_cap_gb=5, weight=6),
    PlanSpec("Wiki", HOTSPOT, 300, _d("5"), _d("2"), 1, W, shared_users=2, weight=12),
    PlanSpec("Mwezi", HOTSPOT, 1000, _d("5"), _d("2"), 1, M, shared_users=2, weight=4),
)


@dataclass(frozen=True)
class AccountSpec:
    code: str
    name: str
    type: AccountType
    parent: str | None = None


A, L, E, R, X = (
    AccountType.ASSET,
    AccountType.LIABILITY,
    AccountType.EQUITY,
    AccountType.REVENUE,
    AccountType.EXPENSE,
)
CHART_OF_ACCOUNTS: tuple[AccountSpec, ...] = (
    AccountSpec("1000", "Assets", A),
    AccountSpec("1001", "Cash", A, "1000"),
    AccountSpec("1002", "M-Pesa Paybill", A, "1000"),
    AccountSpec("1003", "Bank - Equity Bank", A, "1000"),
    AccountSpec("1004", "Bank - KCB", A, "1000"),
    AccountSpec("1100", "Accounts Receivable", A, "1000"),
    AccountSpec("1500", "Network Equipment", A, "1000"),
    AccountSpec("1510", "Customer Premises Equipment", A, "1000"),
    AccountSpec("2000", "Liabilities", L),
    AccountSpec("2001", "Accounts Payable", L, "2000"),
    AccountSpec("2100", "Customer Wallet Balances", L, "2000"),
    AccountSpec("2200", "VAT Payable", L, "2000"),
    AccountSpec("2300", "Excise Duty Payable", L, "2000"),
    AccountSpec("3000", "Equity", E),
    AccountSpec("3001", "Owner's Capital", E, "3000"),
    AccountSpec("3100", "Retained Earnings", E, "3000"),
    AccountSpec("4000", "Revenue", R),
    AccountSpec("4001", "PPPoE Subscriptions", R, "4000"),
    AccountSpec("4002", "Hotspot and Voucher Sales", R, "4000"),
    AccountSpec("4003", "Installation Fees", R, "4000"),
    AccountSpec("5000", "Expenses", X),
    AccountSpec("5001", "Bandwidth and IP Transit", X, "5000"),
    AccountSpec("5002", "Rent", X, "5000"),
    AccountSpec("5003", "Salaries and Wages", X, "5000"),
    AccountSpec("5004", "Electricity", X, "5000"),
    AccountSpec("5005", "Fuel and Transport", X, "5000"),
    AccountSpec("5006", "Equipment and Repairs", X, "5000"),
    AccountSpec("5007", "M-Pesa Charges", X, "5000"),
    AccountSpec("5008", "Licences and Regulatory Fees", X, "5000"),
    AccountSpec("5009", "Mast and Site Leases", X, "5000"),
)


@dataclass(frozen=True)
class ExpenseSpec:
    category: str
    description: str
    vendor: str
    account: str
    base: int  # KES per month for a small ISP
    per_customer: float  # KES added per customer
    recurrence: str | None  # MONTHLY / QUARTERLY / YEARLY, or None for one-off spending
    per_month: int = 1  # how many one-off entries a month


EXPENSES: tuple[ExpenseSpec, ...] = (
    ExpenseSpec(
        "Bandwidth",
        "Internet transit (fibre uplink)",
        "Safaricom Business",
        "5001",
        45000,
        38.0,
        "MONTHLY",
    ),
    ExpenseSpec(
        "Bandwidth",
        "Backup uplink",
        "Liquid Intelligent Technologies",
        "5001",
        20000,
        6.0,
        "MONTHLY",
    ),
    ExpenseSpec(
        "Rent", "Office and NOC rent", "Mwangi Properties Ltd", "5002", 35000, 0.5, "MONTHLY"
    ),
    ExpenseSpec("Salaries", "Staff salaries", "Payroll", "5003", 180000, 9.0, "MONTHLY"),
    ExpenseSpec(
        "Electricity",
        "KPLC tokens and generator diesel",
        "Kenya Power",
        "5004",
        12000,
        1.5,
        "MONTHLY",
    ),
    ExpenseSpec(
        "M-Pesa charges",
        "Paybill transaction charges",
        "Safaricom M-Pesa",
        "5007",
        2000,
        4.0,
        "MONTHLY",
    ),
    ExpenseSpec(
        "Site lease", "Mast space rental", "Kenya Towers Ltd", "5009", 30000, 1.0, "QUARTERLY"
    ),
    ExpenseSpec(
        "Licence",
        "Communications Authority operating licence",
        "Communications Authority of Kenya",
        "5008",
        150000,
        0.0,
        "YEARLY",
    ),
    ExpenseSpec(
        "Transport",
        "Fuel and boda-boda for installations",
        "Rubis Energy",
        "5005",
        4000,
        0.4,
        None,
        per_month=3,
    ),
    ExpenseSpec(
        "Equipment",
        "Routers, cable and connectors for new installs",
        "Oneplace Networks Ltd",
        "5006",
        25000,
        3.0,
        None,
        per_month=2,
    ),
)

# (text, weight) of notes staff leave on a customer record.
CUSTOMER_NOTES: tuple[str, ...] = (
    "Pays on the 5th (salary date)",
    "Router: TP-Link Archer C6, installed on the roof",
    "Call before visiting, gate is locked",
    "Moved from Home 5 to Home 10 last year",
    "Prefers SMS, not calls",
    "Neighbour shares the line, asked about a second router",
    "Signal weak during rain; realigned the dish",
    "Landlord approval needed for cabling",
)

TERMINATE_CAUSES: tuple[str, ...] = (
    "User-Request",
    "Lost-Carrier",
    "Idle-Timeout",
    "Session-Timeout",
    "Admin-Reset",
    "NAS-Reboot",
    "Lost-Service",
)
