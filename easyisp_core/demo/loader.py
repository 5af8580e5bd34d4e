"""Fill a database with demo ISPs: small entities through the services, bulk rows through COPY.

Tenants, staff, routers and packages go through the same services an operator uses, so they
obey every rule (and the router secrets are encrypted the usual way). Customers and everything
they generate go through COPY in chunks, in the caller's transaction: the caller commits, and
a failure leaves nothing behind.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from typing import TypeVar, cast

from sqlalchemy.orm import Session

from easyisp_core.crypto import SecretBox
from easyisp_core.demo import office
from easyisp_core.demo.catalog import DEMO_TENANTS, PLANS, DemoTenant, PlanSpec
from easyisp_core.demo.generator import TenantGenerator
from easyisp_core.demo.planning import plan_routers, plan_staff
from easyisp_core.demo.rows import (
    AccountRow,
    CustomerRow,
    ExpenseRow,
    InvoiceRow,
    PaymentRow,
    PlanRef,
    RouterRef,
    SampleLogin,
    SessionRow,
    SmsRow,
    TenantContext,
    VoucherBatchRow,
    VoucherRow,
    WalletRow,
)
from easyisp_core.errors import Conflict, ValidationFailed
from easyisp_core.models.enums import PackageType, StaffRole, TenantStatus
from easyisp_core.passwords import generate_password
from easyisp_core.repositories.bulk import BULK_TABLES, BulkWriter
from easyisp_core.repositories.sms_outbox import suppress_receipts_in_transaction
from easyisp_core.repositories.tenants import TenantRepository
from easyisp_core.services.customers import ACCOUNT_COUNTER, CUSTOMER_PASSWORD
from easyisp_core.services.invoices import INVOICE_COUNTER
from easyisp_core.services.nas import create_nas
from easyisp_core.services.packages import create_package
from easyisp_core.services.staff import create_staff
from easyisp_core.services.tenants import create_tenant

MIN_CUSTOMERS = 25
# Small demos still print a batch for each hotspot plan.
VOUCHERS_PER_PLAN = office.FIRST_BATCH_SIZE
MAX_CUSTOMERS = 10_000_000
# The main ISP counts this many times as much as each extra tenant when customers are shared.
MAIN_TENANT_WEIGHT = 4

# From this size on, plain indexes of the (empty) bulk tables are built once at the end.
DEFER_INDEXES_FROM = 50_000
DEFERRABLE_TABLES = (
    "customers",
    "payments",
    "wallet_transactions",
    "sessions",
    "sms_logs",
    "invoices",
    "vouchers",
)

ProgressFn = Callable[[str], None]
T = TypeVar("T")


@dataclass(frozen=True)
class DemoOptions:
    customers: int = 500
    tenants: int = 2
    seed: int = 2026
    chunk_size: int = 20_000


@dataclass(frozen=True)
class StaffLogin:
    username: str
    password: str
    role: str
    full_name: str


@dataclass(frozen=True)
class RouterLogin:
    name: str
    ip_address: str
    radius_secret: str
    location: str


@dataclass(frozen=True)
class TenantDemo:
    name: str
    display_name: str
    paybill: str
    staff: tuple[StaffLogin, ...]
    routers: tuple[RouterLogin, ...]
    subscribers: tuple[SampleLogin, ...]
    vouchers: tuple[str, ...]
    counts: dict[str, int]


@dataclass(frozen=True)
class DemoResult:
    tenants: tuple[TenantDemo, ...]
    counts: dict[str, int]
    seconds: float


@dataclass
class _Counts:
    rows: dict[str, int] = field(default_factory=dict)

    def add(self, table: str, n: int) -> None:
        self.rows[table] = self.rows.get(table, 0) + n


def demo_tenant_names(tenants: int) -> list[str]:
    return [t.slug for t in DEMO_TENANTS[:tenants]]


def split_customers(total: int, tenants: int) -> list[int]:
    """The main ISP gets the lion's share; each extra tenant a smaller, equal part."""
    if tenants == 1:
        return [total]
    other = total // (MAIN_TENANT_WEIGHT + tenants - 1)
    return [total - other * (tenants - 1)] + [other] * (tenants - 1)


def check_options(options: DemoOptions) -> None:
    errors = {}
    if not MIN_CUSTOMERS <= options.customers <= MAX_CUSTOMERS:
        errors["customers"] = f"must be between {MIN_CUSTOMERS} and {MAX_CUSTOMERS:,}"
    if not 1 <= options.tenants <= len(DEMO_TENANTS):
        errors["tenants"] = f"must be between 1 and {len(DEMO_TENANTS)}"
    if options.chunk_size < 1:
        errors["chunk_size"] = "must be positive"
    if errors:
        raise ValidationFailed(errors)


def load_demo(
    session: Session,
    box: SecretBox,
    options: DemoOptions | None = None,
    *,
    now: datetime | None = None,
    progress: ProgressFn | None = None,
) -> DemoResult:
    """Create the demo tenants and everything in them. Refuses if any of them exists."""
    options = options or DemoOptions()
    check_options(options)
    names = demo_tenant_names(options.tenants)
    existing = {t.name for t in TenantRepository(session).list()}
    taken = [n for n in names if n in existing]
    if taken:
        raise Conflict(
            f"Demo data is already loaded here (tenant {taken[0]!r} exists); "
            "use an empty database for the demo."
        )
    started = time.perf_counter()
    now = now or datetime.now(UTC)
    report = progress or (lambda _message: None)
    writer = BulkWriter(session)
    # History, not news: its thousands of payments must not queue receipt SMS.
    suppress_receipts_in_transaction(session)
    totals = _Counts()
    tenants = []
    shares = split_customers(options.customers, options.tenants)
    deferring: AbstractContextManager[list[str]] = (
        writer.deferred_indexes(DEFERRABLE_TABLES)
        if options.customers >= DEFER_INDEXES_FROM
        else nullcontext([])
    )
    with deferring as deferred:
        for index, (tenant, customers) in enumerate(zip(DEMO_TENANTS, shares, strict=False)):
            tenants.append(
                _load_tenant(session, box, writer, tenant, index, customers, options, now, report)
            )
            for table, n in tenants[-1].counts.items():
                totals.add(table, n)
        if deferred:
            report(f"building the indexes of {', '.join(deferred)}")
    report("updating planner statistics")
    writer.analyze(sorted(t for t, n in totals.rows.items() if n and t in BULK_TABLES))
    return DemoResult(tuple(tenants), totals.rows, time.perf_counter() - started)


def _load_tenant(
    session: Session,
    box: SecretBox,
    writer: BulkWriter,
    tenant: DemoTenant,
    index: int,
    customers: int,
    options: DemoOptions,
    now: datetime,
    report: ProgressFn,
) -> TenantDemo:
    slug = tenant.slug
    report(f"{slug}: tenant, staff, routers and packages")
    info = create_tenant(
        session,
        {
            "name": slug,
            "display_name": tenant.display_name,
            "status": TenantStatus.ACTIVE if index < 2 else TenantStatus.TRIAL,
            "config": {
                "sms": {"enabled": True, "sender_id": tenant.sms_sender},
                "branding": {
                    "display_name": tenant.display_name,
                    "support_phone": "0709 " + f"{100 + index:03d} 000",
                    "support_email": f"support@{slug.replace('-', '')}.co.ke",
                },
            },
        },
    )
    staff_ids: dict[StaffRole, tuple[str, ...]] = {}
    staff = []
    for plan in plan_staff(tenant, index, options.seed):
        password = generate_password()
        data = {
            "tenant": slug,
            "username": plan.username,
            "full_name": plan.full_name,
            "role": plan.role,
            "email": plan.email,
            "phone": plan.phone,
        }
        try:
            user = create_staff(session, data, password)
        except Conflict as exc:
            # Staff logins are server-wide roles: another database here may have the demo.
            raise Conflict(
                f"{exc.user_message} (A demo in another database here?) Drop the demo's "
                "staff logins or load the demo on another server."
            ) from exc
        staff_ids[plan.role] = (*staff_ids.get(plan.role, ()), str(user.id))
        staff.append(StaffLogin(user.username, password, user.role, user.full_name))
    routers, router_logins = [], []
    for site in plan_routers(tenant, index, min(60, 3 + customers // 2500)):
        location = f"{site.estate}, {site.town}"
        nas, secret = create_nas(
            session,
            box,
            {"tenant": slug, "name": site.name, "ip_address": site.ip_address,
             "location": location, "api_username": "easyisp"},
        )  # fmt: skip
        routers.append(RouterRef(str(nas.id), nas.name, site.estate, site.town))
        router_logins.append(RouterLogin(nas.name, nas.ip_address, secret, location))
    plans = []
    for spec in PLANS:
        package = create_package(session, _package_data(slug, spec))
        plans.append(PlanRef(str(package.id), spec))

    tenants = TenantRepository(session)
    ctx = TenantContext(
        index=index,
        tenant_id=str(info.id),
        tenant=tenant,
        plans=tuple(plans),
        routers=tuple(routers),
        staff=staff_ids,
        first_account_number=tenants.reserve_numbers(info.id, ACCOUNT_COUNTER, customers),
        now=now,
    )
    gen = TenantGenerator(ctx, options.seed, partial(box.encrypt, purpose=CUSTOMER_PASSWORD))
    counts = _Counts()
    counts.add("users", len(staff))
    counts.add("nas", len(routers))
    counts.add("packages", len(plans))

    accounts = gen.accounts()
    counts.add("chart_of_accounts", writer.copy("chart_of_accounts", AccountRow._fields, accounts))
    done = 0
    for batch in _prefetched(gen.customer_batches(customers, options.chunk_size)):
        counts.add("customers", writer.copy("customers", CustomerRow._fields, batch.customers))
        counts.add("payments", writer.copy("payments", PaymentRow._fields, batch.payments))
        counts.add(
            "wallet_transactions",
            writer.copy("wallet_transactions", WalletRow._fields, batch.wallet),
        )
        counts.add("sessions", writer.copy("sessions", SessionRow._fields, batch.sessions))
        counts.add("sms_logs", writer.copy("sms_logs", SmsRow._fields, batch.sms))
        done += len(batch.customers)
        report(f"{slug}: {done:,}/{customers:,} customers")
    invoice_count = gen.invoice_count
    first_invoice = (
        tenants.reserve_numbers(info.id, INVOICE_COUNTER, invoice_count) if (invoice_count) else 1
    )
    counts.add("invoices", writer.copy("invoices", InvoiceRow._fields, gen.invoices(first_invoice)))
    hotspot_plans = sum(p.spec.type is PackageType.HOTSPOT for p in plans)
    voucher_count = max(VOUCHERS_PER_PLAN * hotspot_plans, customers // 8)
    batches, vouchers, sample_codes = gen.vouchers(voucher_count)
    counts.add("voucher_batches", writer.copy("voucher_batches", VoucherBatchRow._fields, batches))
    counts.add("vouchers", writer.copy("vouchers", VoucherRow._fields, vouchers))
    expenses = gen.expenses(accounts, customers)
    counts.add("expenses", writer.copy("expenses", ExpenseRow._fields, expenses))
    loaded = ", ".join(f"{n:,} {table}" for table, n in counts.rows.items() if table in BULK_TABLES)
    writer.audit_bulk_load(info.id, "easyisp demo", f"Demo data loaded in bulk: {loaded}.")
    return TenantDemo(
        name=slug,
        display_name=tenant.display_name,
        paybill=gen.paybill,
        staff=tuple(staff),
        routers=tuple(router_logins),
        subscribers=tuple(gen.samples),
        vouchers=tuple(sample_codes),
        counts=counts.rows,
    )


def _prefetched(items: Iterator[T]) -> Iterator[T]:
    """Produce the next item in a worker thread while the caller works on the current one.

    Generating a chunk is Python work and copying it is mostly the server's: with the next
    chunk made while the server digests the last one, the load takes the longer of the two
    rather than their sum. One worker keeps the order, so a seed gives the same rows."""
    handoff: queue.Queue[tuple[str, object]] = queue.Queue(maxsize=1)
    stop = threading.Event()

    def offer(kind: str, value: object) -> bool:
        while not stop.is_set():
            try:
                handoff.put((kind, value), timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def work() -> None:
        try:
            for item in items:
                if not offer("item", item):
                    return
            offer("done", None)
        except BaseException as exc:  # handed to the consumer, which re-raises it
            offer("error", exc)

    worker = threading.Thread(target=work, name="easyisp-demo-rows", daemon=True)
    worker.start()
    try:
        while True:
            kind, value = handoff.get()
            if kind == "error":
                assert isinstance(value, BaseException)
                raise value
            if kind == "done":
                return
            yield cast(T, value)
    finally:
        stop.set()
        worker.join()


_BURST_FIELDS = (
    "burst_download",
    "burst_upload",
    "burst_threshold_download",
    "burst_threshold_upload",
    "burst_time",
)


def _package_data(tenant: str, spec: PlanSpec) -> dict[str, object]:
    data: dict[str, object] = {
        "tenant": tenant,
        "name": spec.name,
        "type": spec.type,
        "price": spec.price,
        "download_speed": spec.down,
        "upload_speed": spec.up,
        "validity_value": spec.validity_value,
        "validity_unit": spec.validity_unit,
        "priority": spec.priority,
        "shared_users": spec.shared_users,
        "session_time": spec.session_time,
        "data_cap_bytes": spec.data_cap_gb * 1024**3 if spec.data_cap_gb else None,
        "description": spec.description,
    }
    if spec.burst is not None:
        data.update(zip(_BURST_FIELDS, spec.burst, strict=True))
    return data
